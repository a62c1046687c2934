"""The bot's other kinds of message: audio, video, voice, animations, round videos, stickers,
media groups, locations and venues, contacts, polls and dice, and editing them."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.botapi.calls import Call, Handler, parse_text, registrar
from sandbox.botapi.errors import bad_request
from sandbox.botapi.files import document_media, photo_media, resolve_file
from sandbox.botapi.models import Message, StoredFile
from sandbox.botapi.params import Params

METHODS: dict[str, Handler] = {}
method = registrar(METHODS)

# The fields Telegram gives each kind of file, with the stand-in values of an offline sandbox.
FILE_KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "audio": ("music", {"duration": 1}),
    "voice": ("voice", {"duration": 1}),
    "video": ("videos", {"duration": 1, "width": 320, "height": 240}),
    "animation": ("animations", {"duration": 1, "width": 320, "height": 240}),
    "video_note": ("video_notes", {"duration": 1, "length": 240}),
    "sticker": (
        "stickers",
        {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
    ),
}
CAPTIONLESS = ("video_note", "sticker")
# sendDice: the emoji and the highest value it can roll (Telegram's sendDice).
DICE = {"🎲": 6, "🎯": 6, "🏀": 5, "⚽": 5, "🎳": 6, "🎰": 64}
MEDIA_GROUP = range(2, 11)


def file_media(kind: str, stored: StoredFile) -> dict[str, Any]:
    """The message field for a file of `kind` (photo, document, audio, voice, …)."""
    if kind == "photo":
        return photo_media(stored)
    if kind == "document":
        return document_media(stored)
    _, extra = FILE_KINDS[kind]
    data: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
        **extra,
    }
    if kind in ("audio", "video", "animation") and stored.file_name:
        data["file_name"] = stored.file_name
    if kind in ("audio", "voice", "video", "animation") and stored.mime_type:
        data["mime_type"] = stored.mime_type
    return {kind: data}


async def _send_file(call: Call, kind: str) -> Any:
    chat, dialog = call.target()
    folder = FILE_KINDS[kind][0]
    stored = resolve_file(call, kind, folder)
    caption, entities = (None, []) if kind in CAPTIONLESS else call.caption()
    markup, thread_id = call.markup(chat), call.thread(chat)
    call.spend_flood(chat)
    message = call.post(
        chat,
        dialog,
        media=file_media(kind, stored),
        caption=caption,
        caption_entities=entities,
        reply_markup=markup,
        thread_id=thread_id,
    )
    return message.to_api()


@method
async def send_audio(call: Call) -> Any:
    return await _send_file(call, "audio")


@method
async def send_voice(call: Call) -> Any:
    return await _send_file(call, "voice")


@method
async def send_video(call: Call) -> Any:
    return await _send_file(call, "video")


@method
async def send_animation(call: Call) -> Any:
    return await _send_file(call, "animation")


@method
async def send_video_note(call: Call) -> Any:
    return await _send_file(call, "video_note")


@method
async def send_sticker(call: Call) -> Any:
    return await _send_file(call, "sticker")


async def _send_fields(call: Call, media: dict[str, Any]) -> Any:
    chat, dialog = call.target()
    markup, thread_id = call.markup(chat), call.thread(chat)
    call.spend_flood(chat)
    message = call.post(chat, dialog, media=media, reply_markup=markup, thread_id=thread_id)
    return message.to_api()


def _location(params: Params) -> dict[str, Any]:
    try:
        latitude = float(params.required_str("latitude"))
        longitude = float(params.required_str("longitude"))
    except ValueError:
        raise bad_request("wrong latitude or longitude specified") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("wrong latitude or longitude specified")
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    for name in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if params.has(name):
            location[name] = float(params.required_str(name))
    if "live_period" in location:
        location["live_period"] = int(location["live_period"])
    return location


@method
async def send_location(call: Call) -> Any:
    return await _send_fields(call, {"location": _location(call.params)})


@method
async def send_venue(call: Call) -> Any:
    location = _location(call.params)
    venue = {
        "location": location,
        "title": call.params.required_str("title"),
        "address": call.params.required_str("address"),
    }
    for name in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
        if call.params.has(name):
            venue[name] = call.params.required_str(name)
    return await _send_fields(call, {"venue": venue, "location": location})


@method
async def send_contact(call: Call) -> Any:
    contact = {
        "phone_number": call.params.required_str("phone_number"),
        "first_name": call.params.required_str("first_name"),
    }
    for name in ("last_name", "vcard"):
        if call.params.has(name):
            contact[name] = call.params.required_str(name)
    return await _send_fields(call, {"contact": contact})


def build_poll(poll_id: str, question: str, options: list[str], **flags: Any) -> dict[str, Any]:
    """A Poll object as Telegram shows it, nobody having voted yet."""
    return {
        "id": poll_id,
        "question": question,
        "options": [
            {"persistent_id": str(n), "text": text, "voter_count": 0}
            for n, text in enumerate(options)
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": flags.get("is_anonymous", True),
        "type": flags.get("type", "regular"),
        "allows_multiple_answers": flags.get("allows_multiple_answers", False),
        "allows_revoting": True,
        "members_only": False,
    }


@method
async def send_poll(call: Call) -> Any:
    question = call.params.required_str("question")
    raw = call.params.obj("options")
    if not isinstance(raw, list):
        raise bad_request("can't parse options JSON object")
    options = [str(o.get("text", "")) if isinstance(o, dict) else str(o) for o in raw]
    if len(options) < 2:
        raise bad_request("poll must have at least 2 option")
    if len(options) > 12:
        raise bad_request("poll can't have more than 12 options")
    if any(not option.strip() for option in options):
        raise bad_request("poll options must be non-empty")
    flags = {
        "is_anonymous": not call.params.has("is_anonymous") or call.params.flag("is_anonymous"),
        "type": call.params.text("type") or "regular",
        "allows_multiple_answers": call.params.flag("allows_multiple_answers"),
    }
    poll = build_poll(call.state.new_query_id(), question, options, **flags)
    if flags["type"] == "quiz":
        poll["correct_option_id"] = call.params.integer("correct_option_id") or 0
    return await _send_fields(call, {"poll": poll})


@method
async def stop_poll(call: Call) -> Any:
    message = _own(call)
    poll = message.media.get("poll")
    if poll is None:
        raise bad_request("message with poll to stop not found")
    if poll["is_closed"]:
        raise bad_request("poll has already been closed")
    call.spend_flood(message.chat)
    poll["is_closed"] = True
    message.reply_markup = call.markup(message.chat)
    call.state.touch(message)
    return poll


@method
async def send_dice(call: Call) -> Any:
    emoji = call.params.text("emoji") or "🎲"
    if emoji not in DICE:
        raise bad_request("DICE_EMOJI_INVALID")
    value = secrets.randbelow(DICE[emoji]) + 1
    return await _send_fields(call, {"dice": {"emoji": emoji, "value": value}})


@method
async def send_media_group(call: Call) -> Any:
    chat, dialog = call.target()
    items = call.params.obj("media")
    if not isinstance(items, list) or len(items) not in MEDIA_GROUP:
        raise bad_request("wrong number of elements in the media group: must be 2-10")
    kinds = {item.get("type") for item in items if isinstance(item, dict)}
    if not kinds <= {"photo", "video", "audio", "document"} or len(kinds) == 0:
        raise bad_request("unsupported media type in the media group")
    if len(kinds) > 1 and not kinds <= {"photo", "video"}:
        raise bad_request("documents and audio can't be mixed with other media types")
    thread_id = call.thread(chat)
    group_id = str(10**17 + call.state.new_file_number())
    media = [_input_media(call, item) for item in items]
    call.spend_flood(chat, len(media))  # the whole album or nothing
    sent = []
    for fields in media:
        fields["media"]["media_group_id"] = group_id
        sent.append(call.post(chat, dialog, thread_id=thread_id, **fields))
    return [message.to_api() for message in sent]


def _input_media(call: Call, item: dict[str, Any]) -> dict[str, Any]:
    """An InputMedia object: its file (attach://, a file_id or a URL) and caption."""
    kind = str(item.get("type"))
    folder = "photos" if kind == "photo" else "documents" if kind == "document" else None
    stored = resolve_file(
        call, "media", folder or FILE_KINDS[kind][0], value=str(item.get("media", ""))
    )
    caption, entities = parse_text(
        str(item.get("caption") or ""),
        str(item.get("parse_mode") or ""),
        item.get("caption_entities"),
        "caption_entities",
    )
    return {
        "media": file_media(kind, stored),
        "caption": caption or None,
        "caption_entities": entities,
    }


def _own(call: Call) -> Message:
    chat = call.state.chat(call.params.required_str("chat_id"))
    dialog = call.state.dialog(call.bot, chat)
    message = call.state.message(
        dialog, call.params.required_int("message_id"), "message to edit not found"
    )
    if message.sender.id != call.bot.id:
        raise bad_request("message can't be edited")
    return message


@method
async def edit_message_media(call: Call) -> Any:
    message = _own(call)
    if not message.media or message.text is not None:
        raise bad_request("there is no media in the message to edit")
    item = call.params.obj("media")
    if not isinstance(item, dict):
        raise bad_request("can't parse InputMedia JSON object")
    fields = _input_media(call, item)
    call.spend_flood(message.chat)
    message.media = fields["media"]
    message.caption, message.caption_entities = fields["caption"], fields["caption_entities"]
    message.reply_markup = call.markup(message.chat)
    message.edit_date = call.state.now()
    call.state.touch(message)
    return message.to_api()


@method
async def edit_message_live_location(call: Call) -> Any:
    message = _own(call)
    location = message.media.get("location")
    if location is None or "live_period" not in location:
        raise bad_request("message can't be edited")
    moved = {**_location(call.params), "live_period": location["live_period"]}
    call.spend_flood(message.chat)
    message.media["location"] = moved
    message.reply_markup = call.markup(message.chat)
    message.edit_date = call.state.now()
    call.state.touch(message)
    return message.to_api()


@method
async def stop_message_live_location(call: Call) -> Any:
    message = _own(call)
    location = message.media.get("location")
    if location is None or "live_period" not in location:
        raise bad_request("message can't be edited")
    call.spend_flood(message.chat)
    location.pop("live_period")
    message.reply_markup = call.markup(message.chat)
    message.edit_date = call.state.now()
    call.state.touch(message)
    return message.to_api()
