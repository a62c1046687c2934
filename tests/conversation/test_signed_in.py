"""The card's "Signed in to: …" and "Sign out of <workspace>" (PRODUCT §1.11): the consent goes,
and with it the workspace's refresh tokens."""

from __future__ import annotations

import pytest

from bot.callbacks import SignOutOf, workspace_ref
from core.provider.service import ProviderError
from sandbox.client import Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import answer_to_press

WORDS = {
    "en": {
        "dev": "Sign in with Dev ID",
        "card": "Your account",
        "line": "Signed in to: Company portal, Online shop",
        "button": "Sign out of Company portal",
        "done": "Signed out of Company portal.",
        "left": "Signed in to: Online shop",
    },
    "ru": {
        "dev": "Войти через Dev ID",
        "card": "Ваш аккаунт",
        "line": "Вход в рабочие пространства: Company portal, Online shop",
        "button": "Выйти из «Company portal»",
        "done": "Вы вышли из «Company portal».",
        "left": "Вход в рабочие пространства: Online shop",
    },
}


async def _workspace(stack: SandboxStack, slug: str, title: str) -> str:
    """A workspace registered as a public OpenID client; its client id."""
    async with stack.services.kit.unit() as uow:
        await uow.workspaces.create(slug, title)
        await uow.commit()
    provider = stack.services.provider
    assert provider is not None
    client, _secret = await provider.add_client(
        slug, ["http://127.0.0.1:9/callback"], confidential=False
    )
    return client.client_id


async def _signed_in_person(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, language: str
) -> tuple[Person, int]:
    ivan = await sandbox.person("Ivan", language_code=language)
    await ivan.start()
    await ivan.wait_for(lambda m: WORDS[language]["dev"] in m.button_texts)
    url = await ivan.press(WORDS[language]["dev"])
    assert url is not None
    await browser.open(url)
    page = await browser.submit(name="Ivan Petrov", email="", email_verified=False)
    assert "Confirm" in page.text or "Подтвердить" in page.text, page.text[:500]
    await browser.submit(button="confirm")
    await ivan.wait_for(WORDS[language]["card"])
    account_id = await stack.services.account.account_for(ivan.id)
    assert account_id is not None
    return ivan, account_id


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_signing_out_of_a_workspace_from_the_card_ends_its_refresh_tokens(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, language: str
) -> None:
    words = WORDS[language]
    provider = stack.services.provider
    assert provider is not None
    portal = await _workspace(stack, "portal-x", "Company portal")
    shop = await _workspace(stack, "shop-x", "Online shop")
    ivan, account_id = await _signed_in_person(sandbox, browser, stack, language)
    # What the sign-in page records once Ivan agreed, and what the token endpoint hands out.
    await provider.grant_consent(account_id, portal, "openid profile email")
    await provider.grant_consent(account_id, shop, "openid profile")
    portal_token = await provider.issue_refresh(portal, account_id, "openid profile email")
    shop_token = await provider.issue_refresh(shop, account_id, "openid profile")

    await ivan.send("/me")
    card = await ivan.wait_for(words["line"])
    assert words["button"] in card.button_texts
    await ivan.press(words["button"], message_id=card.message_id)
    redrawn = await ivan.wait_for(words["done"])

    assert words["left"] in (redrawn.text or "")
    assert words["button"] not in redrawn.button_texts
    assert await provider.consent(account_id, portal) is None
    with pytest.raises(ProviderError):
        await provider.rotate_refresh(portal_token, portal)
    # The other workspace is untouched: its token still rotates.
    _grant, successor = await provider.rotate_refresh(shop_token, shop)
    assert successor


async def test_the_card_says_nothing_of_workspaces_before_any_sign_in(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    await _workspace(stack, "portal-y", "Company portal")
    ivan, _account_id = await _signed_in_person(sandbox, browser, stack, "en")

    card = await ivan.wait_for("Your account")

    assert "Signed in to" not in (card.text or "")
    assert not [text for text in card.button_texts if text.startswith("Sign out of")]


async def test_an_old_or_forged_sign_out_button_is_stale(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, clock: FakeClock
) -> None:
    provider = stack.services.provider
    assert provider is not None
    portal = await _workspace(stack, "portal-z", "Company portal")
    shop = await _workspace(stack, "shop-z", "Online shop")
    ivan, account_id = await _signed_in_person(sandbox, browser, stack, "en")
    await provider.grant_consent(account_id, portal, "openid")
    await provider.grant_consent(account_id, shop, "openid")
    await ivan.send("/me")
    old = await ivan.wait_for("Signed in to: Company portal")
    await ivan.press("Sign out of Company portal", message_id=old.message_id)
    await ivan.wait_for("Signed out of Company portal.")
    clock.advance(stack.services.settings.double_tap_window + 1)  # not a double tap

    # The old card's button for the workspace already left, and data no button carries.
    await ivan.press("Sign out of Company portal", message_id=old.message_id)
    first = await answer_to_press(ivan)
    forged = SignOutOf(ref=workspace_ref(shop)).pack()
    await ivan.press_data(old.message_id, forged.replace(workspace_ref(shop), "0" * 12))
    second = await answer_to_press(ivan)
    await ivan.settled()

    assert "no longer active" in first["text"]
    assert "no longer active" in second["text"]
    assert await provider.consent(account_id, shop) is not None
    assert not [m for m in await ivan.messages() if "Signed out of Online shop" in (m.text or "")]
