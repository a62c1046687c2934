"""What a person (or a support agent) does: write, tap, share, forward, edit."""

from __future__ import annotations

import secrets
import zlib
from typing import Any

from sandbox.botapi.callbacks import press_callback
from sandbox.botapi.errors import ApiError, bad_request
from sandbox.botapi.formatting import detect_entities
from sandbox.botapi.keyboards import button_kind
from sandbox.botapi.models import Chat, Dialog, Message, User
from sandbox.botapi.params import Params
from sandbox.botapi.state import BotAccount, SandboxState
from sandbox.botapi.webapp import launch_url, sign_init_data


def post(state: SandboxState, bot: BotAccount, person: User, chat: Chat, **fields: Any) -> Message:
    """Store a message the person wrote and queue it for every bot in the chat."""
    if chat.type != "private" and chat.members.get(person.id) in (None, "left", "kicked"):
        raise ApiError(403, "Forbidden: the person is not a member of this group")
    thread = fields.get("thread_id")
    if thread is not None:
        topic = chat.topics.get(thread)
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        if topic.closed:
            raise bad_request("TOPIC_CLOSED")
    dialog = state.dialog(bot, chat)
    reply_id = fields.pop("reply_to_message_id", None)
    quoted = fields.pop("quote", None)
    if reply_id is not None:
        fields["reply_to"] = state.message(dialog, reply_id, "message to be replied not found")
        if quoted:
            fields["quote"] = text_quote(fields["reply_to"], quoted)
    elif quoted:
        raise bad_request("QUOTE_TEXT_INVALID")
    message = Message(dialog.take_message_id(), chat, person, state.now(), **fields)
    dialog.messages[message.message_id] = message
    dialog.started = True
    dialog.blocked = False  # writing to a bot again is how a person unblocks it
    if dialog.reply_keyboard and dialog.reply_keyboard.get("one_time_keyboard"):
        dialog.reply_keyboard = None
    state.touch(message)
    for receiver in [bot] if chat.type == "private" else state.bots_in(chat):
        state.push_update(receiver, "message", message.to_api())
    return message


def text_quote(replied: Message, quoted: str) -> dict[str, Any]:
    """Bot API TextQuote: the part of the replied message's text (or caption) a person chose."""
    shown = replied.text if replied.text is not None else replied.caption or ""
    position = shown.find(quoted)
    if position < 0:
        raise bad_request("QUOTE_TEXT_INVALID")
    # Positions are in UTF-16 code units, as every offset of the Bot API.
    units = len(shown[:position].encode("utf-16-le")) // 2
    return {"text": quoted, "position": units, "is_manual": True}


def forwarded_fields(state: SandboxState, dialog: Dialog, message_id: int) -> dict[str, Any]:
    """A message of this chat forwarded again (the bot's, say): its content, and its sender and
    date as the origin, as Telegram shows a forward of a message from a user or a bot."""
    source = state.message(dialog, message_id, "message to forward not found")
    if source.protect_content:
        raise bad_request("message has protected content and can't be forwarded")
    origin = source.forward_origin or {
        "type": "user",
        "sender_user": source.sender.to_api(),
        "date": int(source.date.timestamp()),
    }
    return {
        "text": source.text,
        "entities": list(source.entities),
        "caption": source.caption,
        "caption_entities": list(source.caption_entities),
        "media": {key: value for key, value in source.media.items() if key != "media_group_id"},
        "forward_origin": origin,
    }


def channel_origin(title: str, message_id: int, date: int) -> dict[str, Any]:
    """MessageOriginChannel: a post forwarded from a public channel."""
    chat_id = -1_002_000_000_000 - zlib.crc32(title.encode()) % 1_000_000_000
    chat = {"id": chat_id, "type": "channel", "title": title}
    return {"type": "channel", "chat": chat, "message_id": message_id, "date": date}


def text_fields(text: str) -> dict[str, Any]:
    if not text.strip():
        raise bad_request("message text is empty")
    return {"text": text, "entities": detect_entities(text)}


def typed_text_fields(params: Params) -> dict[str, Any]:
    """What a person typed (`text`), the message it answers (`reply_to_message_id`) and the
    part of that message it quotes (`quote`)."""
    reply_id = params.integer("reply_to_message_id")
    return {
        **text_fields(params.text("text") or ""),
        "reply_to_message_id": reply_id,
        "quote": params.text("quote"),
    }


def contact_fields(person: User, phone: str | None, first_name: str | None) -> dict[str, Any]:
    """One's own contact carries user_id; someone else's only what the person typed."""
    if phone is None:
        contact: dict[str, Any] = {
            "phone_number": person.phone_number,
            "first_name": person.first_name,
        }
        if person.last_name:
            contact["last_name"] = person.last_name
        contact["user_id"] = person.id
    else:
        contact = {"phone_number": phone, "first_name": first_name or "Contact"}
    return {"media": {"contact": contact}}


def sticker_fields(emoji: str) -> dict[str, Any]:
    sticker = {
        "file_id": f"SBXSTK_{secrets.token_urlsafe(8)}",
        "file_unique_id": f"USTK{secrets.token_hex(4)}",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
    }
    return {"media": {"sticker": sticker}}


def edit(
    state: SandboxState, bot: BotAccount, person: User, dialog: Dialog, mid: int, text: str
) -> Message:
    """Change the person's own message: its text, or a media message's caption, as Telegram
    lets one; every bot of the chat receives an edited_message update."""
    message = state.message(dialog, mid, "message to edit not found")
    if message.sender.id != person.id or message.forward_origin is not None:
        raise bad_request("message can't be edited")
    if message.text is not None:
        message.history.append(message.text)
        message.text, message.entities = text, detect_entities(text)
    elif message.media and not {"sticker", "dice", "contact", "location", "poll"} & set(
        message.media
    ):
        message.history.append(message.caption or "")
        message.caption, message.caption_entities = text, detect_entities(text)
    else:
        raise bad_request("message can't be edited")
    message.edit_date = state.now()
    state.touch(message)
    chat = message.chat
    for receiver in [bot] if chat.type == "private" else state.bots_in(chat):
        state.push_update(receiver, "edited_message", message.to_api())
    return message


def find_button(
    dialog: Dialog, text: str, message_id: int | None
) -> tuple[Message | None, dict[str, Any]]:
    """The inline button with this text on the newest message that has it, else a reply one."""
    for message in reversed(list(dialog.messages.values())):
        if message.deleted or (message_id is not None and message.message_id != message_id):
            continue
        for row in (message.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == text:
                    return message, button
    for row in (dialog.reply_keyboard or {}).get("keyboard", []):
        for button in row:
            if button.get("text") == text:
                return None, button
    raise ApiError(404, f"Not Found: no button {text!r} in this chat")


def menu_web_app(state: SandboxState, bot: BotAccount, person: User, text: str) -> dict[str, Any]:
    """The chat's menu button, when the bot made it open a Web App."""
    menu = bot.menu_button
    if menu.get("type") != "web_app" or menu.get("text") != text:
        raise ApiError(404, f"Not Found: no button {text!r} in this chat")
    return {"kind": "web_app", "url": web_app_url(state, bot, person, menu["web_app"]["url"])}


def web_app_url(state: SandboxState, bot: BotAccount, person: User, url: str) -> str:
    query_id = state.new_query_id()
    init = sign_init_data(
        bot.token, person, query_id=query_id, auth_date=int(state.now().timestamp())
    )
    return launch_url(url, init)


def press(
    state: SandboxState,
    bot: BotAccount,
    person: User,
    dialog: Dialog,
    text: str,
    message_id: int | None = None,
) -> dict[str, Any]:
    """Tap a button: a callback query, a link to open, a contact shared or a text sent."""
    try:
        message, button = find_button(dialog, text, message_id)
    except ApiError:
        return menu_web_app(state, bot, person, text)
    kind, value = button_kind(button)
    if kind == "web_app":
        return {"kind": kind, "url": web_app_url(state, bot, person, value)}
    if kind in ("url", "login_url"):
        return {"kind": kind, "url": value}
    if kind == "callback" and message is not None:
        return {
            "kind": kind,
            "query_id": press_callback(state, bot, dialog, message, person, value),
        }
    if kind == "request_contact":
        sent = post(state, bot, person, dialog.chat, **contact_fields(person, None, None))
        return {"kind": kind, "message_id": sent.message_id}
    if message is None:
        sent = post(state, bot, person, dialog.chat, **text_fields(button["text"]))
        return {"kind": "text", "message_id": sent.message_id}
    raise bad_request(f"the sandbox cannot press a {kind} button")
