"""The Mailbox catches letters sent over real SMTP, keeps them across restarts, shows them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sandbox.mailbox import Mailbox, register_mailbox
from sandbox.pages import register_pages
from tests.browser.letters import send_letter

SUBJECT = "Подтвердите адрес почты"
TEXT = "Ваш код: 123456\nСсылка: https://example.test/confirm?t=abc"
HTML = (
    '<p>Ваш код: <b>123456</b></p><p><a href="https://example.test/confirm?t=abc">Confirm</a></p>'
)

Client = TestClient[web.Request, web.Application]


@dataclass(frozen=True)
class Running:
    """A started Mailbox and the port its SMTP server listens on."""

    box: Mailbox
    port: int

    async def send(self, to: str = "ivan@example.org", subject: str = SUBJECT) -> None:
        await send_letter(self.port, to=to, subject=subject, text=TEXT, html=HTML)


@pytest.fixture
async def mailbox(tmp_path: Path) -> AsyncIterator[Running]:
    box = Mailbox(tmp_path / "mail")
    running = Running(box, await box.start())
    try:
        yield running
    finally:
        await box.stop()


@pytest.fixture
async def client(mailbox: Running) -> AsyncIterator[Client]:
    app = web.Application()
    register_pages(app)
    register_mailbox(app, mailbox.box)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_a_letter_sent_over_smtp_is_caught_with_both_parts(mailbox: Running) -> None:
    await mailbox.send()

    [letter] = mailbox.box.letters()
    assert letter.subject == SUBJECT
    assert letter.recipients == ("ivan@example.org",)
    assert "no-reply@example.test" in letter.sender
    assert "123456" in letter.text
    assert '<a href="https://example.test/confirm?t=abc">' in letter.html


async def test_letters_come_newest_first_and_filter_by_recipient(mailbox: Running) -> None:
    await mailbox.send(to="ivan@example.org", subject="first")
    await mailbox.send(to="maria@example.org", subject="second")
    await mailbox.send(to="ivan@example.org", subject="third")

    assert [letter.subject for letter in mailbox.box.letters()] == ["third", "second", "first"]
    assert [letter.subject for letter in mailbox.box.letters("IVAN@example.org")] == [
        "third",
        "first",
    ]


async def test_a_restarted_mailbox_still_has_the_letters(mailbox: Running, tmp_path: Path) -> None:
    await mailbox.send(subject="before the restart")
    await mailbox.box.stop()

    again = Mailbox(tmp_path / "mail")

    [letter] = again.letters()
    assert letter.subject == "before the restart"
    assert letter.id == mailbox.box.letters()[0].id
    assert letter.received_at == mailbox.box.letters()[0].received_at
    assert "123456" in letter.text


async def test_a_mailbox_without_a_folder_keeps_letters_in_memory() -> None:
    box = Mailbox()
    port = await box.start()
    try:
        await send_letter(port, to="ivan@example.org", subject="memory", text="hello")
    finally:
        await box.stop()

    assert [letter.subject for letter in box.letters()] == ["memory"]


async def test_a_letter_in_an_unknown_charset_is_kept_and_survives_a_restart(
    mailbox: Running, tmp_path: Path
) -> None:
    raw = (
        b"From: robot@example.test\r\nSubject: odd\r\n"
        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\nhello\r\n"
    )
    await aiosmtplib.send(
        raw,
        sender="robot@example.test",
        recipients=["hidden@example.org"],
        hostname="127.0.0.1",
        port=mailbox.port,
    )

    [letter] = Mailbox(tmp_path / "mail").letters()
    assert letter.text.strip() == "hello"
    assert letter.to == "hidden@example.org"


async def test_stopping_hangs_up_on_a_client_that_is_still_connected(mailbox: Running) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", mailbox.port)
    assert (await reader.readline()).startswith(b"220 ")

    async with asyncio.timeout(10):  # a guard against hanging, not a measurement
        await mailbox.box.stop()
        assert await reader.read() == b""
    writer.close()


async def test_the_json_api_returns_the_letter(mailbox: Running, client: Client) -> None:
    await mailbox.send()

    answer = await client.get("/sandbox/api/mailbox", params={"to": "ivan@example.org"})
    [letter] = (await answer.json())["letters"]

    assert letter["to"] == "ivan@example.org"
    assert letter["subject"] == SUBJECT
    assert "123456" in letter["text"]
    assert "<b>123456</b>" in letter["html"]
    assert letter["from"].endswith("<no-reply@example.test>")
    assert letter["received_at"]
    one = await client.get(f"/sandbox/api/mailbox/{letter['id']}")
    assert (await one.json())["subject"] == SUBJECT


async def test_the_list_page_shows_recipient_and_subject(mailbox: Running, client: Client) -> None:
    await mailbox.send(subject="<script>alert(1)</script>")

    page = await (await client.get("/mailbox")).text()

    assert "ivan@example.org" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


async def test_the_letter_page_frames_the_html_and_shows_the_text(
    mailbox: Running,
    client: Client,
) -> None:
    await mailbox.send()
    letter_id = mailbox.box.letters()[0].id

    page = await (await client.get(f"/mailbox/{letter_id}")).text()

    assert '<iframe class="letter-html"' in page
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert 'srcdoc="&lt;base target=&quot;_blank&quot;&gt;' in page
    assert "Ваш код: 123456" in page


async def test_an_unknown_letter_is_not_found(client: Client) -> None:
    answer = await client.get("/mailbox/nothing-here")

    assert answer.status == 404


async def test_an_internationalized_address_is_shown_and_found_in_both_spellings(
    mailbox: Running, client: Client, tmp_path: Path
) -> None:
    """An IDN envelope (SMTPUTF8) reads ivan.petrov@почта.рф, not ivan.petrov@?????.??, also
    after a restart; the API finds it by the Unicode and by the ASCII (xn--) spelling."""
    await mailbox.send(to="Иван <ivan.petrov@почта.рф>")
    await mailbox.send(to="olga@xn--80a1acny.xn--p1ai")

    for to in ("ivan.petrov@почта.рф", "IVAN.PETROV@xn--80a1acny.xn--p1ai"):
        answer = await client.get("/sandbox/api/mailbox", params={"to": to})
        letters = (await answer.json())["letters"]
        assert [letter["recipients"] for letter in letters] == [["ivan.petrov@почта.рф"]]
    found = await (await client.get("/mailbox", params={"to": "olga@почта.рф"})).text()
    assert "olga@почта.рф" in found
    again = Mailbox(tmp_path / "mail")
    assert {letter.recipients for letter in again.letters()} == {
        ("ivan.petrov@почта.рф",),
        ("olga@почта.рф",),
    }
