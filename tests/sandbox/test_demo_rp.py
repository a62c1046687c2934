"""The sandbox's demo workspace (issue #16, 6): a person gives the account an email and a
password, signs in to "Company portal" with them through the provider, and sees who signed in;
the chat's card then says so, and signing out there ends the workspace's refresh token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.domain.models import AddressKind
from core.provider.service import ProviderError
from sandbox.client import Sandbox
from sandbox.demo_rp import KEY, SLUG
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import running_stack, sign_in

PASSWORD = "correct horse battery staple"
EMAIL = "ivan@example.com"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """The browser Ivan signs in to the chat with (Dev ID)."""
    client = Browser()
    yield client
    await client.close()


@pytest.fixture
async def portal() -> AsyncIterator[Browser]:
    """The browser Ivan visits the demo workspace with."""
    client = Browser()
    yield client
    await client.close()


@pytest.fixture
async def demo_stack(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SandboxStack]:
    async with running_stack("sqlite+memory", tmp_path / "sandbox", clock=clock, demo=True) as s:
        yield s


async def test_signing_in_to_the_demo_workspace_with_email_and_password(
    demo_stack: SandboxStack, browser: Browser, portal: Browser
) -> None:
    stack = demo_stack
    async with Sandbox(stack.url) as sandbox:
        ivan = await sandbox.person("Ivan", language_code="en")
        await sign_in(ivan, browser, name="Ivan Petrov")
        account_id = await stack.services.account.account_for(ivan.id)
        assert account_id is not None
        await _email_and_password(stack, account_id)

        page = await portal.open(f"{stack.url}/demo-workspace")
        assert "Company portal" in page.text
        assert "Sign in with your account" in page.text
        page = await portal.submit()  # off to the provider's sign-in page
        assert "/oidc/authorize" in page.url
        assert "Sign in to continue to Company portal." in page.text  # its title, not its slug
        page = await portal.submit(login=EMAIL, password=PASSWORD)
        assert 'value="allow"' in page.text, page.text[:400]
        assert "Company portal asks to sign you in with your account." in page.text
        page = await portal.submit(button="allow")

        assert page.url.endswith("/demo-workspace"), page.url
        assert "Signed in as Ivan Petrov" in page.text
        assert f"{EMAIL} (verified)" in page.text
        assert "Sign out" in page.text

        provider = stack.services.provider
        assert provider is not None
        client_id = stack.runner.app[KEY].client_id
        assert client_id.startswith(f"{SLUG}-")
        assert await provider.consent(account_id, client_id) is not None
        session = next(s for s in stack.runner.app[KEY].sessions.values() if s.refresh_token)

        await ivan.send("/me")
        card = await ivan.wait_for("Signed in to: Company portal")
        await ivan.press("Sign out of Company portal", message_id=card.message_id)
        await ivan.wait_for("Signed out of Company portal.")

        with pytest.raises(ProviderError):
            await provider.rotate_refresh(session.refresh_token, client_id)
        # The portal hears of it the next time it checks with the provider.
        page = await portal.open(f"{stack.url}/demo-workspace")
        assert "Your sign-in here was ended from your account." in page.text
        assert "Signed in as" not in page.text


async def test_signing_out_of_the_demo_workspace_ends_the_providers_session(
    demo_stack: SandboxStack,
) -> None:
    stack = demo_stack
    account_id = await _account_with_password(stack)
    portal = Browser()
    try:
        await portal.open(f"{stack.url}/demo-workspace")
        await portal.submit()
        await portal.submit(login=EMAIL, password=PASSWORD)
        page = await portal.submit(button="allow")
        assert "Signed in as" in page.text

        page = await portal.submit()  # the page's one form: Sign out
        assert page.url.endswith("/demo-workspace/signed-out"), page.url
        assert "You are signed out of the portal." in page.text
        # The provider's session went too: signing in again asks for the password.
        page = await portal.submit()
        assert 'name="password"' in page.text
    finally:
        await portal.close()
    provider = stack.services.provider
    assert provider is not None
    assert await provider.consent(account_id, stack.runner.app[KEY].client_id) is not None


async def test_the_demo_workspace_is_registered_once(tmp_path: Path, clock: FakeClock) -> None:
    folder = tmp_path / "sandbox"
    async with running_stack("sqlite+memory", folder, clock=clock, demo=True) as first:
        client_id = first.runner.app[KEY].client_id
        provider = first.services.provider
        assert provider is not None
        clients = await provider.clients()
        assert [v.client.client_id for v in clients if v.workspace_slug == SLUG] == [client_id]
        again = await first.runner.app[KEY].register()
        assert again == client_id


async def _account_with_password(stack: SandboxStack) -> int:
    """Ivan, signed in in the chat, with an email bound and a password (as the chat leaves them)."""
    chat_browser = Browser()
    try:
        async with Sandbox(stack.url) as sandbox:
            ivan = await sandbox.person("Ivan", language_code="en")
            await sign_in(ivan, chat_browser, name="Ivan Petrov")
            account_id = await stack.services.account.account_for(ivan.id)
    finally:
        await chat_browser.close()
    assert account_id is not None
    await _email_and_password(stack, account_id)
    return account_id


async def _email_and_password(stack: SandboxStack, account_id: int) -> None:
    """What binding an email and creating a password in the chat leave (tested there)."""
    async with stack.services.kit.unit() as uow:
        await uow.bindings.confirm(account_id, AddressKind.EMAIL, EMAIL, stack.services.clock.now())
        await uow.commit()
    await stack.services.password.set(account_id, PASSWORD, "test")
