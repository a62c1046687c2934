"""The sign-in state is used up only by the browser that started the sign-in (RFC 6749 §10.12).

Whoever fetches the callback URL first — a link preview, a proxy, a person it was copied to —
gets the refusal page; the person's own browser still completes the sign-in and the chat gets
the card.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from core.notices import SignedIn
from sandbox.client import Sandbox
from tests.conversation.browser import Browser
from tests.conversation.conftest import STORAGE_PAIRS, running_stack
from tests.web import walk
from tests.web.conftest import Site, cookie_session

EXPIRED = "This link was already used or has expired"


async def failures(site: Site, http: aiohttp.ClientSession, reason: str) -> float:
    """accountbot_failures_total for one reason, as /metrics shows it."""
    async with http.get(site.url + "/metrics") as response:
        text = await response.text()
    prefix = f'accountbot_failures_total{{reason="{reason}"}} '
    line = next((line for line in text.splitlines() if line.startswith(prefix)), None)
    return float(line.removeprefix(prefix)) if line else 0.0


async def another_browser(site: Site) -> aiohttp.ClientSession:
    """A browser that holds a sign-in cookie of its own (it started a sign-in of its own)."""
    other = cookie_session()
    await walk.authorized(other, await site.link(telegram_id=909), "Eve", "eve@example.com")
    return other


@pytest.mark.parametrize("foreign", ["no cookie", "another browser's cookie"])
async def test_a_foreign_fetch_of_the_callback_leaves_the_sign_in_to_the_person(
    site: Site, http: aiohttp.ClientSession, foreign: str
) -> None:
    steps = await walk.authorized(
        http, await site.link(telegram_id=521), "Ivan Petrov", "ivan@example.com"
    )
    other = cookie_session() if foreign == "no cookie" else await another_browser(site)
    async with other:
        stranger = await walk.to_consent(other, steps)
        twice = await walk.to_consent(other, steps)

    assert stranger.status == 410 and twice.status == 410
    assert site.world.notifier.notices == []

    own = await walk.to_consent(http, steps)
    assert own.status == 303
    status, page = await walk.answer(http, site.url, steps)

    assert status == 200 and "You are signed in" in page
    account_id = await site.account_of(521)
    assert account_id is not None
    assert site.world.notifier.notices == [SignedIn(521, account_id, "dev", True)]
    assert await site.account_of(909) is None
    assert await failures(site, http, "state_browser") == 2


async def test_the_person_s_own_browser_still_uses_the_state_up(
    site: Site, http: aiohttp.ClientSession
) -> None:
    steps = await walk.authorized(http, await site.link(telegram_id=522))
    async with cookie_session() as other:
        await walk.to_consent(other, steps)
    assert (await walk.to_consent(http, steps)).status == 303

    again = await walk.to_consent(http, steps)

    assert again.status == 410
    assert await failures(site, http, "state") == 1


@pytest.mark.parametrize("pair", STORAGE_PAIRS)
async def test_the_chat_gets_the_card_after_someone_else_opened_the_callback_first(
    pair: str, tmp_path: Path
) -> None:
    """Through the sandbox: the person taps the link, signs in at the provider; before their
    browser follows the redirect back, another client fetches that URL. The person's browser
    then shows the consent page, Confirm signs them in and the chat shows the card."""
    async with (
        running_stack(pair, tmp_path / "sandbox") as stack,
        Sandbox(stack.url) as sandbox,
    ):
        browser = Browser()
        try:
            ivan = await sandbox.person("Ivan", language_code="en")
            await ivan.start()
            await ivan.wait_for("sign in with the network")
            url = await ivan.press("Sign in with Dev ID")
            assert url is not None
            at_idp = await browser.open(url)
            form = {"name": "Ivan Petrov", "email": ""}
            async with browser.session.post(at_idp.url, data=form, allow_redirects=False) as back:
                callback = back.headers["Location"]
            async with aiohttp.ClientSession() as stranger, stranger.get(callback) as fetched:
                assert fetched.status == 410
                assert EXPIRED in await fetched.text()

            consent = await browser.open(callback)
            assert "Link Dev ID account" in consent.text, consent.text[:300]
            done = await browser.submit(button="confirm")
            assert "You are signed in" in done.text

            card = await ivan.wait_for("Your account")
            assert "Name: Ivan Petrov" in (card.text or "")
            texts = [message.text or "" for message in await ivan.messages()]
            assert not any("fresh sign-in link" in text for text in texts)
        finally:
            await browser.close()


async def test_a_stranger_cannot_cancel_the_person_s_sign_in(
    site: Site, http: aiohttp.ClientSession
) -> None:
    steps = await walk.authorized(http, await site.link(telegram_id=523))
    declined = steps.callback.split("?")[0] + "?error=access_denied&" + steps.callback.split("?")[1]

    async with cookie_session() as other, other.get(declined) as response:
        assert response.status == 410

    # A stranger cannot cancel the person's sign-in either: the chat hears nothing.
    assert site.world.notifier.notices == []
    assert (await walk.to_consent(http, steps)).status == 303
