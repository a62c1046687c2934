"""The scripted walk of docs/walks/signin-curl.sh, run with curl and step by step in Python."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import aiohttp
import pytest

from core.notices import SignedIn
from tests.web.conftest import Site, csrf_of

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "walks" / "signin-curl.sh"


async def test_the_python_walk_signs_in_and_refuses_the_second_use(
    site: Site, http: aiohttp.ClientSession
) -> None:
    link = await site.link(telegram_id=701)

    async with http.get(link, allow_redirects=False) as start:
        authorize = start.headers["Location"]
    assert authorize.startswith(site.url + "/idp/authorize?")
    form = {"name": "Ivan Petrov", "email": "ivan@example.com", "email_verified": "on"}
    async with http.post(authorize, data=form, allow_redirects=False) as idp:
        callback = idp.headers["Location"]
    assert callback.startswith(site.url + "/auth/callback/dev?") and "iss=" in callback
    async with http.get(callback, allow_redirects=False) as back:
        consent = site.url + back.headers["Location"]
    async with http.get(consent) as page:
        csrf = csrf_of(await page.text())
    async with http.post(consent, data={"csrf": csrf, "action": "confirm"}) as done:
        assert "You are signed in" in await done.text()
    async with http.get(link, allow_redirects=False) as again:
        assert again.status == 410

    assert await site.account_of(701) is not None


async def test_the_curl_walk_signs_in_and_refuses_the_second_use(site: Site) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed; the Python walk above covers the same steps")
    link = await site.link(telegram_id=702)

    # The server runs on this event loop, so the script must run without blocking it.
    process = await asyncio.create_subprocess_exec(
        "bash", str(SCRIPT), link, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output = (await asyncio.wait_for(process.communicate(), timeout=60))[0].decode()

    assert process.returncode == 0, output
    assert re.search(r"refused \(410\)", output)
    account_id = await site.account_of(702)
    assert account_id is not None
    assert SignedIn(702, account_id, "dev", True) in site.world.notifier.notices
