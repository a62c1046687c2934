"""The development identity provider ("Dev ID") as its client knows it: plain OIDC on loopback.

The client itself is the product's OpenID provider, built with these by `sandbox.stack`.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from core.settings import Settings

CLIENT_ID = "accountbot-dev"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class DevIdpNotOnLoopback(RuntimeError):
    """DEV_IDP_ENABLED is set but PUBLIC_URL is reachable from elsewhere."""


def issuer(settings: Settings) -> str:
    return settings.public_url + "/idp"


def client_secret(settings: Settings) -> str:
    """The dev client's secret, derived from SECRET_KEY so the IdP and the client agree."""
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"dev-idp\x00client-secret", hashlib.sha256).hexdigest()


def check_loopback(settings: Settings) -> None:
    """Anyone can sign in as anyone at the dev IdP, so it must never face a network."""
    host = urlsplit(settings.public_url).hostname or ""
    if host not in LOOPBACK:
        raise DevIdpNotOnLoopback(
            f"DEV_IDP_ENABLED needs PUBLIC_URL on 127.0.0.1, localhost or ::1, not {host!r}; "
            "turn DEV_IDP_ENABLED off for a public server."
        )
