"""Uploads by multipart, file ids reused, getFile and downloading the bytes back."""

from __future__ import annotations

import io

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from tests.sandbox.conftest import Running


async def test_an_uploaded_document_can_be_downloaded_again(running: Running) -> None:
    person = await running.started_person()
    upload = BufferedInputFile(b"account,email\n1,a@example.org\n", filename="export.csv")
    sent = await running.bot.send_document(person.id, upload, caption="Your export")
    assert sent.document is not None
    assert sent.document.file_name == "export.csv"
    file = await running.bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    content = io.BytesIO()
    await running.bot.download_file(file.file_path, content)
    assert content.getvalue() == b"account,email\n1,a@example.org\n"
    shown = await person.last_message()
    assert shown is not None
    assert (shown.kind, shown.text) == ("document", "Your export")


async def test_a_photo_file_id_can_be_sent_again(running: Running) -> None:
    alice = await running.started_person("Alice")
    bob = await running.started_person("Bob")
    first = await running.bot.send_photo(alice.id, BufferedInputFile(b"img", filename="a.jpg"))
    assert first.photo is not None
    again = await running.bot.send_photo(bob.id, first.photo[-1].file_id)
    assert again.photo is not None
    assert again.photo[-1].file_unique_id == first.photo[-1].file_unique_id


async def test_a_photo_from_the_person_can_be_fetched_by_the_bot(running: Running) -> None:
    person = await running.started_person()
    await person.send_photo()
    message = (await running.bot.get_updates(timeout=0))[-1].message
    assert message is not None
    assert message.photo is not None
    file = await running.bot.get_file(message.photo[-1].file_id)
    content = io.BytesIO()
    await running.bot.download_file(file.file_path or "", content)
    assert content.getvalue().startswith(b"\x89PNG")


async def test_an_unknown_file_id_is_refused(running: Running) -> None:
    person = await running.started_person()
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await running.bot.send_photo(person.id, "no-such-file")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await running.bot.get_file("no-such-file")
