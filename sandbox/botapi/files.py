"""Photos and documents: uploads, file ids, getFile and the download URL."""

from __future__ import annotations

import mimetypes
import secrets
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.botapi.calls import Call, Handler, registrar
from sandbox.botapi.errors import ApiError, bad_request
from sandbox.botapi.models import StoredFile
from sandbox.botapi.params import Upload
from sandbox.botapi.state import SandboxState

NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


def store_file(
    state: SandboxState, folder: str, content: bytes, name: str | None, mime: str | None
) -> StoredFile:
    """Keep bytes under fresh ids, as Telegram does for every upload."""
    number = state.new_file_number()
    extension = (name or "").rpartition(".")[2] if name and "." in name else "bin"
    stored = StoredFile(
        file_id=f"SBX{folder[:3].upper()}{number}_{secrets.token_urlsafe(12)}",
        file_unique_id=f"U{number}",
        file_path=f"{folder}/file_{number}.{extension}",
        content=content,
        file_name=name,
        mime_type=mime or (mimetypes.guess_type(name)[0] if name else None),
    )
    state.files[stored.file_id] = stored
    return stored


def resolve_file(call: Call, name: str, folder: str, *, value: str | None = None) -> StoredFile:
    """The file a send names: an upload (direct or attach://), a known file_id, or a URL;
    `value` is such a reference found inside another parameter (a media group's items)."""
    if value is None:
        found = call.params.file(name)
    elif value.startswith("attach://"):
        found = call.params.uploads.get(value.removeprefix("attach://"))
        if found is None:
            raise bad_request(f"{name} attachment not found")
    else:
        found = value or None
    return _stored(call, name, folder, found)


def _stored(call: Call, name: str, folder: str, value: Upload | str | None) -> StoredFile:
    if isinstance(value, Upload):
        return store_file(call.state, folder, value.content, value.filename, value.content_type)
    if value is None:
        raise bad_request(f"there is no {name} in the request")
    if value in call.state.files:
        return call.state.files[value]
    if value.startswith(("http://", "https://")):
        # The sandbox stays offline: a URL is kept as the file's name, with no bytes.
        return store_file(call.state, folder, b"", value.rsplit("/", 1)[-1], None)
    raise bad_request("wrong file identifier/HTTP URL specified")


def image_size(content: bytes) -> tuple[int, int]:
    """Width and height of a PNG; a square guess for anything else."""
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    return 320, 320


def photo_media(stored: StoredFile) -> dict[str, Any]:
    width, height = image_size(stored.content)
    size = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": width,
        "height": height,
        "file_size": len(stored.content),
    }
    return {"photo": [size]}


def document_media(stored: StoredFile) -> dict[str, Any]:
    document: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
    }
    if stored.file_name:
        document["file_name"] = stored.file_name
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    return {"document": document}


async def _send_media(call: Call, name: str, folder: str) -> Any:
    chat, dialog = call.target()
    stored = resolve_file(call, name, folder)
    caption, caption_entities = call.caption()
    markup = call.markup(chat)
    thread_id = call.thread(chat)
    call.spend_flood(chat)
    media = photo_media(stored) if name == "photo" else document_media(stored)
    message = call.post(
        chat,
        dialog,
        media=media,
        caption=caption,
        caption_entities=caption_entities,
        reply_markup=markup,
        thread_id=thread_id,
    )
    return message.to_api()


METHODS: dict[str, Handler] = {}
method = registrar(METHODS)


@method
async def send_photo(call: Call) -> Any:
    return await _send_media(call, "photo", "photos")


@method
async def send_document(call: Call) -> Any:
    return await _send_media(call, "document", "documents")


@method
async def get_file(call: Call) -> Any:
    stored = call.state.files.get(call.params.required_str("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.to_api()


def download_handler(state: SandboxState) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """GET /file/bot<token>/<file_path>: the bytes, for a bot with a valid token."""

    async def download(request: web.Request) -> web.StreamResponse:
        if state.bot_by_token(request.match_info["token"]) is None:
            return web.json_response(ApiError(401, "Unauthorized").to_api(), status=401)
        path = request.match_info["path"]
        for stored in state.files.values():
            if stored.file_path == path:
                ctype = stored.mime_type or "application/octet-stream"
                return web.Response(body=stored.content, content_type=ctype)
        return web.json_response(NOT_FOUND, status=404)

    return download
