"""How a chat looks from the person's side: the JSON the pages and the test client read."""

from __future__ import annotations

from typing import Any

from sandbox.botapi.formatting import to_safe_html
from sandbox.botapi.keyboards import button_kind
from sandbox.botapi.models import Dialog, Message, User
from sandbox.botapi.state import BotAccount, SandboxState

MEDIA_KINDS = (
    "photo",
    "document",
    "sticker",
    "contact",
    "forum_topic_created",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "venue",  # before location: a venue carries one too
    "location",
    "poll",
    "dice",
)
FILE_KINDS = ("voice", "audio", "video", "video_note", "animation")


def person_to_view(user: User) -> dict[str, Any]:
    return {**user.to_api(), "phone_number": user.phone_number, "name": user.full_name}


def _buttons(rows: list[list[dict[str, Any]]]) -> list[list[dict[str, str]]]:
    return [
        [
            dict(zip(("kind", "value"), button_kind(button), strict=True), text=button["text"])
            for button in row
        ]
        for row in rows
    ]


def _reply_rows(markup: dict[str, Any] | None) -> list[list[dict[str, str]]] | None:
    """The reply keyboard this message brought, if any."""
    return _buttons(markup["keyboard"]) if markup and "keyboard" in markup else None


def _media(message: Message, kind: str) -> dict[str, Any]:
    media: Any = message.media.get(kind)
    if kind == "photo":
        return {"file_url": f"/sandbox/api/files/{media[-1]['file_id']}"}
    if kind == "document":
        return {
            "file_url": f"/sandbox/api/files/{media['file_id']}",
            "file_name": media.get("file_name", "file"),
        }
    if kind in FILE_KINDS:
        return {"file_url": f"/sandbox/api/files/{media['file_id']}"}
    if kind in ("sticker", "contact", "forum_topic_created", "venue", "location", "poll", "dice"):
        return {kind: media}
    return {}


def _links(text: str, entities: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The links in a text, with their anchors: text_link entities and bare URLs."""
    units = text.encode("utf-16-le")
    links = []
    for entity in entities:
        if entity["type"] in ("text_link", "url"):
            start, end = entity["offset"] * 2, (entity["offset"] + entity["length"]) * 2
            anchor = units[start:end].decode("utf-16-le", errors="replace")
            links.append({"text": anchor, "url": entity.get("url", anchor)})
    return links


def message_view(message: Message, viewer_id: int) -> dict[str, Any]:
    """One message with its text as safe HTML, its buttons and whether it was deleted."""
    kind = next((key for key in MEDIA_KINDS if key in message.media), "text")
    is_text = message.text is not None
    text = message.text if is_text else message.caption
    entities = message.entities if is_text else message.caption_entities
    origin = message.forward_origin or {}
    forwarded = (
        origin.get("sender_user", {}).get("first_name")
        or origin.get("sender_user_name")
        or (origin.get("chat") or origin.get("sender_chat") or {}).get("title")
    )
    return {
        "message_id": message.message_id,
        "from": {
            "id": message.sender.id,
            "name": message.sender.full_name,
            "is_bot": message.sender.is_bot,
        },
        "outgoing": message.sender.id == viewer_id,
        "date": message.date.isoformat(),
        "kind": kind,
        "text": text,
        "html": to_safe_html(text or "", entities),
        "links": _links(text or "", entities),
        "buttons": _buttons((message.reply_markup or {}).get("inline_keyboard", [])),
        "reply_keyboard": _reply_rows(message.reply_markup),
        "force_reply": bool((message.reply_markup or {}).get("force_reply")),
        "deleted": message.deleted,
        "edited": message.edit_date is not None,
        "history": message.history,
        "thread_id": message.thread_id,
        "forwarded_from": forwarded,
        "reply_to": None
        if message.reply_to is None
        else {
            "message_id": message.reply_to.message_id,
            "text": message.reply_to.text or message.reply_to.caption,
            "quote": (message.quote or {}).get("text"),
        },
        "protected": message.protect_content,
        "version": message.version,
        **_media(message, kind),
    }


def commands_for(bot: BotAccount, person: User | None) -> list[dict[str, Any]]:
    """The command menu a person sees: their language first, the narrowest scope first."""
    language = (person.language_code or "") if person else ""
    for scope in ('{"type": "all_private_chats"}', '{"type": "default"}'):
        for lang in (language, ""):
            if (scope, lang) in bot.commands:
                return bot.commands[(scope, lang)]
    return []


def dialog_view(
    state: SandboxState, bot: BotAccount, dialog: Dialog, viewer_id: int
) -> dict[str, Any]:
    """The whole chat: messages in order, deleted ones flagged, the keyboard, the last answer."""
    keyboard = dialog.reply_keyboard
    return {
        "chat_id": dialog.chat.id,
        "bot": {"id": bot.id, "username": bot.user.username, "name": bot.user.first_name},
        "messages": [message_view(m, viewer_id) for m in dialog.messages.values()],
        "reply_keyboard": None
        if keyboard is None
        else {
            "rows": _buttons(keyboard["keyboard"]),
            "placeholder": keyboard.get("input_field_placeholder"),
        },
        "callback_answer": dialog.callback_answer,
        "action": dialog.action,
        "menu_button": bot.menu_button,
        "commands": commands_for(bot, dialog.chat.person),
        "version": state.version,
    }
