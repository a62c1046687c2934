"""The Bot API as an independent client sees it: raw HTTP (aiohttp, no aiogram on the way out),
Telegram's parse modes Markdown and MarkdownV2 with its refusal texts, the methods a
private-chat or forum-group bot calls, and 404 only for names that are no Bot API method."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import methods as aiogram_methods
from aiogram.methods.base import TelegramMethod
from aiogram.types import Message

from sandbox.botapi.catalog import BOT_API_METHODS, implemented
from sandbox.botapi.server import METHODS
from tests.sandbox.conftest import TOKEN, Running


async def api(running: Running, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """One call as a plain HTTP client makes it: a JSON body, Telegram's JSON back."""
    async with aiohttp.ClientSession() as http:
        url = f"{running.base_url}/bot{TOKEN}/{method}"
        async with http.post(url, json=params) as answer:
            return answer.status, await answer.json()


async def ok(running: Running, method: str, **params: Any) -> Any:
    status, body = await api(running, method, **params)
    assert (status, body["ok"]) == (200, True), body
    return body["result"]


async def test_markdown_v2_is_rendered_as_telegram_does(running: Running) -> None:
    alice = await running.started_person("Alice")
    sent = await ok(
        running,
        "sendMessage",
        chat_id=alice.id,
        parse_mode="MarkdownV2",
        text=r"*Hello*, _Alice_\! Your code: `12\`3` [site](https://example.org/a\)b) ||secret||",
    )
    assert sent["text"] == "Hello, Alice! Your code: 12`3 site secret"
    assert [(e["type"], e["offset"], e["length"]) for e in sent["entities"]] == [
        ("bold", 0, 5),
        ("italic", 7, 5),
        ("code", 25, 4),
        ("text_link", 30, 4),
        ("spoiler", 35, 6),
    ]
    assert sent["entities"][3]["url"] == "https://example.org/a)b"
    shown = await alice.last_message()
    assert shown is not None and shown.html.startswith("<b>Hello</b>, <i>Alice</i>!")


async def test_a_mention_by_id_carries_the_user(running: Running) -> None:
    alice = await running.started_person("Alice")
    sent = await ok(
        running,
        "sendMessage",
        chat_id=alice.id,
        parse_mode="MarkdownV2",
        text=f"[Alice](tg://user?id={alice.id}) and [nobody](tg://user?id=1)",
    )
    mentions = [e for e in sent["entities"] if e["type"] == "text_mention"]
    assert [(m["offset"], m["user"]["first_name"]) for m in mentions] == [(0, "Alice")]


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("Done.", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("Привет _мир", "Can't find end of Italic entity at byte offset 13"),
        ("`code", "Can't find end of Code entity at byte offset 0"),
        ("[a](https://x", "Can't find end of a URL at byte offset 4"),
    ],
)
async def test_bad_markdown_v2_is_refused_with_telegrams_text(
    running: Running, text: str, description: str
) -> None:
    alice = await running.started_person("Alice")
    status, body = await api(
        running, "sendMessage", chat_id=alice.id, text=text, parse_mode="MarkdownV2"
    )
    assert status == 400
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": f"Bad Request: can't parse entities: {description}",
    }


async def test_legacy_markdown_and_its_refusal(running: Running) -> None:
    alice = await running.started_person("Alice")
    sent = await ok(
        running,
        "sendMessage",
        chat_id=alice.id,
        parse_mode="Markdown",
        text="*Bold* _it_ `a_b` [link](https://example.org) \\_plain",
    )
    assert sent["text"] == "Bold it a_b link _plain"
    assert [e["type"] for e in sent["entities"]] == ["bold", "italic", "code", "text_link"]
    status, body = await api(
        running, "sendMessage", chat_id=alice.id, text="snake_case", parse_mode="Markdown"
    )
    assert (status, body["description"]) == (
        400,
        "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 5",
    )
    status, body = await api(running, "sendMessage", chat_id=alice.id, text="x", parse_mode="RTF")
    assert (status, body["description"]) == (400, "Bad Request: unsupported parse_mode")


async def test_media_group_with_uploads_by_multipart(running: Running) -> None:
    alice = await running.started_person("Alice")
    form = aiohttp.FormData()
    form.add_field("chat_id", str(alice.id))
    media = [
        {"type": "photo", "media": "attach://one", "caption": "*First*", "parse_mode": "Markdown"},
        {"type": "photo", "media": "attach://two"},
    ]
    form.add_field("media", json.dumps(media))
    form.add_field("one", b"\x89PNG fake", filename="one.png", content_type="image/png")
    form.add_field("two", b"\x89PNG fake", filename="two.png", content_type="image/png")
    async with aiohttp.ClientSession() as http:
        url = f"{running.base_url}/bot{TOKEN}/sendMediaGroup"
        async with http.post(url, data=form) as answer:
            body = await answer.json()
    assert body["ok"], body
    album = [Message.model_validate(item) for item in body["result"]]
    assert len(album) == 2
    assert album[0].media_group_id == album[1].media_group_id is not None
    assert album[0].caption == "First" and album[0].caption_entities
    status, single = await api(
        running,
        "sendMediaGroup",
        chat_id=alice.id,
        media=[{"type": "photo", "media": album[0].photo[-1].file_id}],  # type: ignore[index]
    )
    assert status == 400 and "media group" in single["description"]


async def test_the_methods_a_private_chat_bot_calls(running: Running) -> None:
    alice = await running.started_person("Alice")
    chat = alice.id
    sent = [
        await ok(running, "sendLocation", chat_id=chat, latitude=55.75, longitude=37.61),
        await ok(
            running,
            "sendVenue",
            chat_id=chat,
            latitude=55.75,
            longitude=37.61,
            title="Office",
            address="Tverskaya 1",
        ),
        await ok(
            running, "sendContact", chat_id=chat, phone_number="+447911123456", first_name="Bo"
        ),
        await ok(running, "sendDice", chat_id=chat, emoji="🎯"),
        await ok(running, "sendAudio", chat_id=chat, audio="https://example.org/a.mp3"),
        await ok(running, "sendVoice", chat_id=chat, voice="https://example.org/v.ogg"),
        await ok(running, "sendVideo", chat_id=chat, video="https://example.org/v.mp4"),
        await ok(running, "sendAnimation", chat_id=chat, animation="https://example.org/c.gif"),
        await ok(running, "sendVideoNote", chat_id=chat, video_note="https://example.org/n.mp4"),
        await ok(running, "sendSticker", chat_id=chat, sticker="https://example.org/s.webp"),
    ]
    parsed = [Message.model_validate(item) for item in sent]  # every shape complete
    assert parsed[0].location is not None and parsed[0].location.latitude == 55.75
    assert parsed[1].venue is not None and parsed[1].venue.title == "Office"
    assert parsed[2].contact is not None and parsed[2].contact.phone_number == "+447911123456"
    assert parsed[3].dice is not None and 1 <= parsed[3].dice.value <= 6
    kinds = [p.content_type for p in parsed[4:]]
    assert kinds == ["audio", "voice", "video", "animation", "video_note", "sticker"]

    poll = await ok(
        running,
        "sendPoll",
        chat_id=chat,
        question="Tea or coffee?",
        options=[{"text": "Tea"}, {"text": "Coffee"}],
    )
    shown = Message.model_validate(poll).poll
    assert shown is not None and [o.text for o in shown.options] == ["Tea", "Coffee"]
    stopped = await ok(running, "stopPoll", chat_id=chat, message_id=poll["message_id"])
    assert stopped["is_closed"] is True
    status, again = await api(running, "stopPoll", chat_id=chat, message_id=poll["message_id"])
    assert (status, again["description"]) == (400, "Bad Request: poll has already been closed")
    assert await ok(running, "getChatMemberCount", chat_id=chat) == 2
    seen = [m.kind for m in await alice.messages() if m.from_bot]
    assert seen == [
        *("location", "venue", "contact", "dice"),
        *("audio", "voice", "video", "animation", "video_note", "sticker", "poll"),
    ]
    status, few = await api(running, "sendPoll", chat_id=chat, question="?", options=["one"])
    assert (status, few["description"]) == (400, "Bad Request: poll must have at least 2 option")


async def test_a_group_bot_counts_bans_and_unbans(running: Running) -> None:
    group = await running.sandbox.group("Support")
    olga = await running.sandbox.agent(group, "Olga")
    assert await ok(running, "getChatMemberCount", chat_id=group["id"]) == 2
    assert await ok(running, "banChatMember", chat_id=group["id"], user_id=olga.id) is True
    member = await ok(running, "getChatMember", chat_id=group["id"], user_id=olga.id)
    assert member["status"] == "kicked"
    assert await ok(running, "getChatMemberCount", chat_id=group["id"]) == 1
    await ok(running, "unbanChatMember", chat_id=group["id"], user_id=olga.id)
    member = await ok(running, "getChatMember", chat_id=group["id"], user_id=olga.id)
    assert member["status"] == "left"
    alice = await running.started_person("Alice")
    status, body = await api(running, "banChatMember", chat_id=alice.id, user_id=alice.id)
    assert (status, body["description"]) == (
        400,
        "Bad Request: method is available for supergroup and channel chats only",
    )


async def test_unknown_names_are_telegrams_404_and_missing_methods_are_named(
    running: Running,
) -> None:
    status, body = await api(running, "sendTelepathy", chat_id=1)
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = await api(running, "sendInvoice", chat_id=1)
    assert status == 400
    assert body["description"].startswith("Bad Request: sendInvoice is not implemented")


def test_the_catalogue_holds_every_method_of_the_client_library() -> None:
    """The sandbox's list of Bot API methods is checked against aiogram's, which follows the
    Bot API's "Available methods": a method added there must be listed (implemented or not)."""
    library = set()
    for value in vars(aiogram_methods).values():
        if isinstance(value, type) and issubclass(value, TelegramMethod):
            name = getattr(value, "__api_method__", None)
            if isinstance(name, str):
                library.add(name)
    assert library - set(BOT_API_METHODS) == set()


def test_docs_list_every_implemented_method() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "SANDBOX.md").read_text()
    missing = [name for name in implemented(METHODS) if f"`{name}`" not in docs]
    assert missing == []
