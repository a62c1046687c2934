"""Sending, editing, deleting, copying and forwarding messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sandbox.botapi.calls import Call, Handler, registrar
from sandbox.botapi.errors import ApiError, bad_request
from sandbox.botapi.models import Message
from sandbox.botapi.params import Params

# Telegram: "A message can only be deleted if it was sent less than 48 hours ago."
DELETE_WINDOW = timedelta(hours=48)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


METHODS: dict[str, Handler] = {}
method = registrar(METHODS)


@method
async def send_message(call: Call) -> Any:
    chat, dialog = call.target()
    text, entities = call.message_text()
    markup = call.markup(chat)
    thread_id = call.thread(chat)
    call.spend_flood(chat)
    message = call.post(
        chat, dialog, text=text, entities=entities, reply_markup=markup, thread_id=thread_id
    )
    return message.to_api()


def _own_message(call: Call, missing: str) -> Message:
    chat = call.state.chat(call.params.required_str("chat_id"))
    dialog = call.state.dialog(call.bot, chat)
    message = call.state.message(dialog, call.params.required_int("message_id"), missing)
    if message.sender.id != call.bot.id:
        raise bad_request("message can't be edited")
    return message


def _inline(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    return markup if markup and "inline_keyboard" in markup else None


EDITABLE = ("text", "entities", "caption", "caption_entities")


def _edit(call: Call, message: Message, **changes: Any) -> Any:
    """Apply an edit; an inline keyboard left out of it is removed, as in Telegram."""
    changes["reply_markup"] = call.markup(message.chat)
    before = [getattr(message, key) for key in EDITABLE] + [_inline(message.reply_markup)]
    after = [changes.get(key, getattr(message, key)) for key in EDITABLE]
    if before == [*after, _inline(changes.get("reply_markup"))]:
        raise bad_request(NOT_MODIFIED)
    call.spend_flood(message.chat)  # edits and sends share the limits (docs/SANDBOX.md)
    shown = message.text if message.text is not None else message.caption
    if shown is not None:
        message.history.append(shown)
    for key, value in changes.items():
        setattr(message, key, value)
    message.edit_date = call.state.now()
    call.state.touch(message)
    return message.to_api()


@method
async def edit_message_text(call: Call) -> Any:
    message = _editable(call, "text", lambda message: message.text is not None)
    text, entities = call.message_text()
    return _edit(call, message, text=text, entities=entities)


@method
async def edit_message_caption(call: Call) -> Any:
    message = _editable(call, "caption", lambda message: bool(message.media))
    caption, entities = call.caption()
    return _edit(call, message, caption=caption, caption_entities=entities)


def _editable(call: Call, part: str, has: Callable[[Message], bool]) -> Message:
    """The bot's own message to edit, refused when it has no `part` (text or caption)."""
    message = _own_message(call, "message to edit not found")
    if not has(message):
        raise bad_request(f"there is no {part} in the message to edit")
    return message


@method
async def edit_message_reply_markup(call: Call) -> Any:
    message = _own_message(call, "message to edit not found")
    return _edit(call, message)


def _delete(call: Call, chat_ref: str, message_id: int) -> None:
    dialog = call.state.dialog(call.bot, call.state.chat(chat_ref))
    message = call.state.message(dialog, message_id, "message to delete not found")
    if call.state.now() - message.date > DELETE_WINDOW:
        raise bad_request("message can't be deleted for everyone")
    message.deleted = True
    call.state.touch(message)


@method
async def delete_message(call: Call) -> Any:
    _delete(call, call.params.required_str("chat_id"), call.params.required_int("message_id"))
    return True


@method
async def delete_messages(call: Call) -> Any:
    ids = call.params.obj("message_ids") or []
    for message_id in ids:
        try:
            _delete(call, call.params.required_str("chat_id"), int(message_id))
        except Exception:  # noqa: S112 - Telegram skips the ones it cannot delete
            continue
    return True


def _source(call: Call, missing: str) -> Message:
    chat = call.state.chat(call.params.required_str("from_chat_id"))
    dialog = call.state.dialog(call.bot, chat)
    message = call.state.message(dialog, call.params.required_int("message_id"), missing)
    if message.protect_content:
        raise bad_request("message has protected content and can't be forwarded")
    return message


@method
async def copy_message(call: Call) -> Any:
    source = _source(call, "message to copy not found")
    chat, dialog = call.target()
    thread_id = call.thread(chat)
    caption, caption_entities = call.caption()
    call.spend_flood(chat)
    fields: dict[str, Any] = {"text": source.text, "entities": source.entities}
    if source.media:
        fields = {
            "media": source.media,
            "caption": caption if call.params.has("caption") else source.caption,
            "caption_entities": caption_entities or source.caption_entities,
        }
    copy = call.post(chat, dialog, reply_markup=call.markup(chat), thread_id=thread_id, **fields)
    return {"message_id": copy.message_id}


@method
async def forward_message(call: Call) -> Any:
    source = _source(call, "message to forward not found")
    chat, dialog = call.target()
    thread_id = call.thread(chat)
    call.spend_flood(chat)
    origin = source.forward_origin or {
        "type": "user",
        "sender_user": source.sender.to_api(),
        "date": int(source.date.timestamp()),
    }
    content = {key: getattr(source, key) for key in (*EDITABLE, "media")}
    forwarded = call.post(chat, dialog, forward_origin=origin, thread_id=thread_id, **content)
    return forwarded.to_api()


@method
async def send_chat_action(call: Call) -> Any:
    _, dialog = call.target()
    dialog.action = call.params.required_str("action")
    call.state.touch()
    return True


def _many(call: Call) -> list[int]:
    ids = call.params.obj("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must be a list of 1-100 message identifiers")
    return sorted(int(message_id) for message_id in ids)


async def _each(call: Call, handler: Handler) -> list[dict[str, Any]]:
    """copyMessages / forwardMessages: one by one, in order, skipping what cannot be sent."""
    sent = []
    for message_id in _many(call):
        values = {**call.params.values, "message_id": message_id}
        one = Call(call.state, call.bot, Params(values, call.params.uploads))
        try:
            result = await handler(one)
        except ApiError as error:
            if error.code != 400:  # a refusal of the chat itself is the whole call's
                raise
            continue
        sent.append({"message_id": result["message_id"]})
    if not sent:
        raise bad_request("there are no messages to forward")
    return sent


@method
async def copy_messages(call: Call) -> Any:
    return await _each(call, copy_message)


@method
async def forward_messages(call: Call) -> Any:
    return await _each(call, forward_message)
