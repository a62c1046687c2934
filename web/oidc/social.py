"""The provider's sign-in page's social buttons: where they lead and the way back; the
attempts themselves are core.flows.workspace_sign_in's (PRODUCT §1.11)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from core.flows.workspace_sign_in import WorkspaceAttempt
from web.providers import Pending

AUTHORIZE = "/oidc/authorize"


def sign_in_page(request: Mapping[str, str]) -> str:
    """Our own authorization endpoint with the workspace's request: the only way back."""
    return f"{AUTHORIZE}?{urlencode(dict(request))}"


def start_path(provider: str, request: Mapping[str, str]) -> str:
    """Where a button of the sign-in page leads: the attempt begins there."""
    return f"/oidc/social/{provider}?{urlencode(dict(request))}"


def pending(attempt: WorkspaceAttempt) -> Pending:
    """What the provider's client needs of an attempt."""
    return Pending(attempt.state, attempt.verifier, attempt.nonce, attempt.redirect_uri)
