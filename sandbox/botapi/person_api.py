"""The person's side as JSON under /sandbox/api/: people, their chats with bots, events, files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.botapi import callbacks, people
from sandbox.botapi.errors import ApiError, bad_request
from sandbox.botapi.files import document_media, photo_media, store_file
from sandbox.botapi.media import build_poll
from sandbox.botapi.models import User
from sandbox.botapi.params import Params, Upload
from sandbox.botapi.state import BotAccount, SandboxState
from sandbox.botapi.views import dialog_view, person_to_view

Action = Callable[[SandboxState, Params, web.Request], Awaitable[Any]]
Fields = Callable[[SandboxState, Params], dict[str, Any]]
MAX_EVENT_WAIT = 30.0
# A 1×1 PNG so a person can send "a photo" without picking a file.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478"
    "9c63f8cfc0f01f0005000201a1d6ba6b0000000049454e44ae426082"
)


def endpoint(
    state: SandboxState, action: Action
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap an action: read the parameters, answer {"ok": true, "result": ...} or the error."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            params = await Params.read(request)
            result = await action(state, params, request)
            if request.method == "POST" and isinstance(result, dict):
                # The version right after the action: whatever the bot does next comes later.
                result.setdefault("version", state.version)
        except ApiError as error:
            state.persist()
            return web.json_response(error.to_api(), status=error.code)
        state.persist()  # kept before it is answered: a kill after the answer loses nothing
        return web.json_response({"ok": True, "result": result})

    return handle


def person_of(state: SandboxState, request: web.Request) -> User:
    user = state.users.get(int(request.match_info["person_id"]))
    if user is None or user.is_bot:
        raise ApiError(404, "Not Found: no such person")
    return user


def bot_of(state: SandboxState, params: Params) -> BotAccount:
    return state.find_bot(params.text("bot"))


async def list_bots(state: SandboxState, params: Params, request: web.Request) -> Any:
    return [
        {"id": b.id, "username": b.user.username, "name": b.user.first_name}
        for b in state.bots.values()
    ]


async def list_people(state: SandboxState, params: Params, request: web.Request) -> Any:
    """Everyone, each flagged `agent` when they are a member of a group (the support desk's)."""
    in_groups = {
        member for chat in state.chats.values() if chat.type != "private" for member in chat.members
    }
    return [
        {**person_to_view(person), "agent": person.id in in_groups} for person in state.people()
    ]


async def create_person(state: SandboxState, params: Params, request: web.Request) -> Any:
    person = state.add_person(
        params.text("first_name") or "Alice",
        last_name=params.text("last_name"),
        username=params.text("username"),
        language_code=params.text("language_code"),
        phone_number=params.text("phone_number"),
    )
    return person_to_view(person)


async def read_chat(state: SandboxState, params: Params, request: web.Request) -> Any:
    person, bot = person_of(state, request), bot_of(state, params)
    return dialog_view(state, bot, state.dialog(bot, state.chats[person.id]), person.id)


def _post_private(state: SandboxState, params: Params, request: web.Request, **fields: Any) -> Any:
    """Post what the person sends; any kind may answer a message (`reply_to_message_id`, and
    `quote`: a part of that message's text), except a forward."""
    person, bot = person_of(state, request), bot_of(state, params)
    if "forward_origin" not in fields:
        fields.setdefault("reply_to_message_id", params.integer("reply_to_message_id"))
        fields.setdefault("quote", params.text("quote"))
    message = people.post(state, bot, person, state.chats[person.id], **fields)
    return {"message_id": message.message_id}


async def send_text(state: SandboxState, params: Params, request: web.Request) -> Any:
    return _post_private(state, params, request, **people.typed_text_fields(params))


async def start(state: SandboxState, params: Params, request: web.Request) -> Any:
    payload = params.text("payload")
    text = f"/start {payload}" if payload else "/start"
    return _post_private(state, params, request, **people.text_fields(text))


async def press(state: SandboxState, params: Params, request: web.Request) -> Any:
    person, bot = person_of(state, request), bot_of(state, params)
    dialog = state.dialog(bot, state.chats[person.id])
    text = params.required_str("text")
    return people.press(state, bot, person, dialog, text, params.integer("message_id"))


async def share_contact(state: SandboxState, params: Params, request: web.Request) -> Any:
    person = person_of(state, request)
    fields = people.contact_fields(person, params.text("phone_number"), params.text("first_name"))
    return _post_private(state, params, request, **fields)


async def send_sticker(state: SandboxState, params: Params, request: web.Request) -> Any:
    return _post_private(
        state, params, request, **people.sticker_fields(params.text("emoji") or "👍")
    )


def upload_of(params: Params, default_name: str, default: bytes) -> Upload:
    upload = params.file("file")
    if isinstance(upload, Upload):
        return upload
    content = params.text("content")
    return Upload(
        params.text("file_name") or default_name,
        content.encode() if content is not None else default,
        None,
    )


def photo_fields(state: SandboxState, params: Params) -> dict[str, Any]:
    """A photo message: the uploaded `file`, or a 1×1 PNG when none is given."""
    upload = upload_of(params, "photo.png", PIXEL)
    stored = store_file(state, "photos", upload.content, upload.filename, "image/png")
    return {"media": photo_media(stored), "caption": params.text("caption")}


def document_fields(state: SandboxState, params: Params) -> dict[str, Any]:
    """A document message: the uploaded `file`, or `content` saved as `file_name`."""
    upload = upload_of(params, "notes.txt", b"A document from the sandbox.\n")
    stored = store_file(state, "documents", upload.content, upload.filename, upload.content_type)
    return {"media": document_media(stored), "caption": params.text("caption")}


def sender(post: Callable[..., Any], fields: Fields) -> Action:
    """The action that `post`s a message made of `fields` (a photo, a document)."""

    async def send(state: SandboxState, params: Params, request: web.Request) -> Any:
        return post(state, params, request, **fields(state, params))

    return send


async def edit_message(state: SandboxState, params: Params, request: web.Request) -> Any:
    person, bot = person_of(state, request), bot_of(state, params)
    dialog = state.dialog(bot, state.chats[person.id])
    text = params.required_str("text")
    message = people.edit(state, bot, person, dialog, params.required_int("message_id"), text)
    return {"message_id": message.message_id}


async def forward(state: SandboxState, params: Params, request: web.Request) -> Any:
    """Forward a message: one of this chat (`message_id`: the bot's, say, with its content), or a
    text from another person of the sandbox, a hidden name or a channel (`from_chat_title`)."""
    message_id = params.integer("message_id")
    if message_id is not None:
        person, bot = person_of(state, request), bot_of(state, params)
        dialog = state.dialog(bot, state.chats[person.id])
        return _post_private(
            state, params, request, **people.forwarded_fields(state, dialog, message_id)
        )
    source_id = params.integer("from_person_id")
    date = int(state.now().timestamp())
    channel = params.text("from_chat_title")
    origin: dict[str, Any]
    if channel:
        origin = people.channel_origin(channel, params.integer("from_message_id") or 1, date)
    elif source_id is not None:
        source = state.users.get(source_id)
        if source is None:
            raise bad_request("no such person to forward from")
        origin = {"type": "user", "sender_user": source.to_api(), "date": date}
    else:
        name = params.text("from_name") or "Someone"
        origin = {"type": "hidden_user", "sender_user_name": name, "date": date}
    fields = people.text_fields(params.text("text") or "")
    return _post_private(state, params, request, forward_origin=origin, **fields)


async def block(state: SandboxState, params: Params, request: web.Request) -> Any:
    """Block or unblock the bot, as a person can in Telegram."""
    person, bot = person_of(state, request), bot_of(state, params)
    blocked = not params.has("blocked") or params.flag("blocked")
    state.dialog(bot, state.chats[person.id]).blocked = blocked
    state.touch()
    return {"blocked": blocked}


async def press_data(state: SandboxState, params: Params, request: web.Request) -> Any:
    """Any callback data on any message: a forged or a stale button (a modified client can)."""
    person, bot = person_of(state, request), bot_of(state, params)
    dialog = state.dialog(bot, state.chats[person.id])
    query_id = callbacks.press_data(
        state,
        bot,
        dialog,
        params.required_int("message_id"),
        person,
        params.required_str("data"),
        inaccessible=params.flag("inaccessible"),
    )
    return {"kind": "callback", "query_id": query_id}


# File name, type and the fields Telegram adds, per kind; the bytes are a stand-in.
MEDIA_DEFAULTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "voice": ("voice.ogg", "audio/ogg", {"duration": 1}),
    "audio": ("song.mp3", "audio/mpeg", {"duration": 1, "title": "Song"}),
    "video": ("video.mp4", "video/mp4", {"duration": 1, "width": 320, "height": 240}),
    "video_note": ("note.mp4", "video/mp4", {"duration": 1, "length": 240}),
    "animation": ("cat.gif", "image/gif", {"duration": 1, "width": 320, "height": 240}),
}


async def send_media(state: SandboxState, params: Params, request: web.Request) -> Any:
    """A voice message, audio, video, round video or animation (`kind`), with an optional file."""
    kind = params.required_str("kind")
    if kind not in MEDIA_DEFAULTS:
        raise bad_request(f"kind must be one of {', '.join(MEDIA_DEFAULTS)}")
    name, mime, extra = MEDIA_DEFAULTS[kind]
    upload = upload_of(params, name, b"\x00" * 16)
    stored = store_file(state, kind + "s", upload.content, upload.filename, mime)
    media = {**stored.to_api(), **extra, "mime_type": mime}
    media.pop("file_path", None)
    if kind == "video_note":
        media.pop("mime_type")
    fields: dict[str, Any] = {"media": {kind: media}}
    if kind != "video_note":  # round videos have no caption
        fields["caption"] = params.text("caption")
    return _post_private(state, params, request, **fields)


async def send_location(state: SandboxState, params: Params, request: web.Request) -> Any:
    """A location, or a venue when a `title` is given."""
    location = {
        "latitude": float(params.text("latitude") or 55.7558),
        "longitude": float(params.text("longitude") or 37.6173),
    }
    title = params.text("title")
    if title is None:
        return _post_private(state, params, request, media={"location": location})
    venue = {"location": location, "title": title, "address": params.text("address") or title}
    return _post_private(state, params, request, media={"location": location, "venue": venue})


async def send_poll(state: SandboxState, params: Params, request: web.Request) -> Any:
    """A poll the person made (question and `options` separated by "|")."""
    options = [o for o in (params.text("options") or "Yes|No").split("|") if o]
    if len(options) < 2:
        raise bad_request("a poll needs at least 2 options")
    question = params.text("question") or "Question?"
    poll = build_poll(state.new_query_id(), question, options)
    return _post_private(state, params, request, media={"poll": poll})


async def answer_poll(state: SandboxState, params: Params, request: web.Request) -> Any:
    """A poll_answer update: the person voted in a (non-anonymous) poll, by its id."""
    person, bot = person_of(state, request), bot_of(state, params)
    choices = [int(part) for part in (params.text("option_ids") or "0").split(",") if part]
    payload = {
        "poll_id": params.required_str("poll_id"),
        "user": person.to_api(),
        "option_ids": choices,
        "option_persistent_ids": [str(n) for n in choices],
    }
    state.push_update(bot, "poll_answer", payload)
    state.touch()
    return {"poll_id": payload["poll_id"]}


async def send_dice(state: SandboxState, params: Params, request: web.Request) -> Any:
    dice = {"emoji": params.text("emoji") or "🎲", "value": params.integer("value") or 3}
    return _post_private(state, params, request, media={"dice": dice})


async def events(state: SandboxState, params: Params, request: web.Request) -> Any:
    """Long poll: answers once anything changed after version `since`, or at the timeout."""
    since = params.integer("since") or 0
    try:
        wait = min(float(params.text("timeout") or 25), MAX_EVENT_WAIT)
    except ValueError:
        raise bad_request("timeout must be a number of seconds") from None
    if state.version <= since and not state.closing:
        await state.changed.wait(wait)
    return {"version": state.version}


PERSON_ROUTES: tuple[tuple[str, str, Action], ...] = (
    ("GET", "/sandbox/api/bots", list_bots),
    ("GET", "/sandbox/api/people", list_people),
    ("POST", "/sandbox/api/people", create_person),
    ("GET", "/sandbox/api/events", events),
    ("GET", "/sandbox/api/people/{person_id}/chat", read_chat),
    ("POST", "/sandbox/api/people/{person_id}/messages", send_text),
    ("POST", "/sandbox/api/people/{person_id}/start", start),
    ("POST", "/sandbox/api/people/{person_id}/press", press),
    ("POST", "/sandbox/api/people/{person_id}/contact", share_contact),
    ("POST", "/sandbox/api/people/{person_id}/sticker", send_sticker),
    ("POST", "/sandbox/api/people/{person_id}/photo", sender(_post_private, photo_fields)),
    ("POST", "/sandbox/api/people/{person_id}/document", sender(_post_private, document_fields)),
    ("POST", "/sandbox/api/people/{person_id}/edit", edit_message),
    ("POST", "/sandbox/api/people/{person_id}/forward", forward),
    ("POST", "/sandbox/api/people/{person_id}/block", block),
    ("POST", "/sandbox/api/people/{person_id}/callback", press_data),
    ("POST", "/sandbox/api/people/{person_id}/media", send_media),
    ("POST", "/sandbox/api/people/{person_id}/location", send_location),
    ("POST", "/sandbox/api/people/{person_id}/poll", send_poll),
    ("POST", "/sandbox/api/people/{person_id}/poll_answer", answer_poll),
    ("POST", "/sandbox/api/people/{person_id}/dice", send_dice),
)
