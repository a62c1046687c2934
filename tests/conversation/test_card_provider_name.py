"""The account card calls the generic OpenID Connect issuer by OIDC_NAME, as its button does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.domain.models import SocialProfile
from core.flows.sign_in import TelegramUser
from sandbox.client import Sandbox
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.conftest import running_stack

CORP = "Acme & Co SSO"


@pytest.fixture
async def corp_stack(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SandboxStack]:
    folder = tmp_path / "sandbox"
    async with running_stack("sqlite+memory", folder, clock=clock, oidc_name=CORP) as stack:
        yield stack


@pytest.mark.parametrize(("language", "signed_with"), [("en", "Sign-in with"), ("ru", "Вход")])
async def test_the_card_names_the_oidc_issuer_as_configured(
    corp_stack: SandboxStack, language: str, signed_with: str
) -> None:
    async with Sandbox(corp_stack.url) as sandbox:
        ivan = await sandbox.person("Ivan", language_code=language)
        await ivan.start()
        await ivan.settled()
        # What the web callback does once the issuer vouched for Ivan (its own flow is tested in
        # tests/web): the link is used with the issuer's profile, and the chat shows the card.
        sign_in = corp_stack.services.sign_in
        url = await sign_in.create_link(TelegramUser(ivan.id, "Ivan", None, language), "oidc")
        token = url.rsplit("/", 1)[1]
        await sign_in.complete(token, SocialProfile("oidc", "corp-1", "Ivan Petrov"))
        card = await ivan.wait_for(f"{CORP} ✓")
        assert signed_with in (card.text or "")
        assert "OpenID Connect" not in (card.text or "")
