"""Keeping the sandbox's people, groups and chats in a JSON file between runs.

The whole world is written when the sandbox stops. The ids it hands out (update ids, people's
ids) are also written, a block ahead, the moment a new block is started, to a small file of
their own: a sandbox that was killed comes back with fewer chats, but never hands out an update
id or a person's id again (a bot would take a repeated update id for a duplicate, and an
account's Telegram id for its owner).
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.botapi.models import Chat, Dialog, Message, Topic, User
from sandbox.botapi.state import SandboxState

FORMAT = 1
MESSAGE_FIELDS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "media",
    "reply_markup",
    "thread_id",
    "forward_origin",
    "protect_content",
    "deleted",
    "history",
)


def _stamp(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _moment(stamp: float | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)


def _message_to_dict(message: Message) -> dict[str, Any]:
    data = {key: getattr(message, key) for key in MESSAGE_FIELDS}
    return {
        **data,
        "message_id": message.message_id,
        "sender_id": message.sender.id,
        "date": _stamp(message.date),
        "edit_date": _stamp(message.edit_date),
        "reply_to": message.reply_to.message_id if message.reply_to else None,
    }


def ids_path(path: Path) -> Path:
    """Where the ids are kept next to the world's file (telegram.json: telegram.ids.json)."""
    return path.with_name(path.stem + ".ids.json")


def dump_ids(state: SandboxState, *, reserved: bool = True) -> dict[str, Any]:
    """The next ids to hand out: the reserved ones (while running) or the exact ones."""
    return {
        "format": FORMAT,
        "person": max(state.next_person_id, state.reserved_person_id if reserved else 0),
        "updates": {
            str(bot.id): max(bot.next_update_id, bot.reserved_update_id if reserved else 0)
            for bot in state.bots.values()
        },
    }


def _write(path: Path, data: dict[str, Any]) -> None:
    """Write a file atomically, so a crash mid-write keeps the previous one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".tmp")
    partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


def load_ids(state: SandboxState, data: dict[str, Any]) -> None:
    """Continue after the ids written down; never go back."""
    if data.get("format") != FORMAT:
        return
    state.next_person_id = max(state.next_person_id, int(data.get("person", 0)))
    for bot_id, next_id in dict(data.get("updates", {})).items():
        bot = state.bots.get(int(bot_id))
        if bot is not None:
            bot.next_update_id = max(bot.next_update_id, int(next_id))


def dump(state: SandboxState) -> dict[str, Any]:
    """Everything worth keeping, as JSON-ready data (uploaded files' bytes are left out)."""
    groups = [chat for chat in state.chats.values() if chat.type != "private"]
    return {
        "format": FORMAT,
        "ids": dump_ids(state, reserved=False),
        "people": [dataclasses.asdict(person) for person in state.people()],
        "groups": [
            {
                "id": chat.id,
                "title": chat.title,
                "is_forum": chat.is_forum,
                "members": [[user_id, status] for user_id, status in chat.members.items()],
                "topics": [dataclasses.asdict(topic) for topic in chat.topics.values()],
            }
            for chat in groups
        ],
        "dialogs": [
            {
                "bot_id": bot_id,
                "chat_id": chat_id,
                "next_message_id": dialog.next_message_id,
                "started": dialog.started,
                "blocked": dialog.blocked,
                "reply_keyboard": dialog.reply_keyboard,
                "messages": [_message_to_dict(m) for m in dialog.messages.values()],
            }
            for (bot_id, chat_id), dialog in state.dialogs.items()
        ],
    }


def _load_dialog(state: SandboxState, data: dict[str, Any]) -> None:
    chat = state.chats.get(data["chat_id"])
    if chat is None or (data["bot_id"] and data["bot_id"] not in state.bots):
        return  # a bot that is not registered this time: its chats stay behind
    dialog = Dialog(chat, next_message_id=data["next_message_id"], started=data["started"])
    dialog.blocked, dialog.reply_keyboard = data["blocked"], data["reply_keyboard"]
    for item in data["messages"]:
        sender = state.users.get(item["sender_id"])
        if sender is None:
            continue
        fields = {key: item[key] for key in MESSAGE_FIELDS}
        date = _moment(item["date"]) or state.now()
        edited = _moment(item["edit_date"])
        message = Message(item["message_id"], chat, sender, date, edit_date=edited, **fields)
        message.reply_to = dialog.messages.get(item["reply_to"] or 0)
        dialog.messages[message.message_id] = message
    state.dialogs[(data["bot_id"], chat.id)] = dialog


def load(state: SandboxState, data: dict[str, Any]) -> None:
    """Bring back people, groups and chats; register the bots first, their chats need them."""
    if data.get("format") != FORMAT:
        return
    for item in data["people"]:
        person = User(**item)
        state.users[person.id] = person
        state.chats[person.id] = Chat(id=person.id, type="private", person=person)
    for item in data["groups"]:
        chat = Chat(item["id"], "supergroup", item["title"], item["is_forum"])
        chat.members = {int(user_id): status for user_id, status in item["members"]}
        chat.topics = {t["message_thread_id"]: Topic(**t) for t in item["topics"]}
        state.chats[chat.id] = chat
    for item in data["dialogs"]:
        _load_dialog(state, item)
    load_ids(state, data.get("ids", {}))
    state.continue_ids()


def save(state: SandboxState, path: Path) -> None:
    """Write the world (at a clean stop) and the exact next ids."""
    _write(path, dump(state))
    _write(ids_path(path), dump_ids(state, reserved=False))


def restore(state: SandboxState, path: Path) -> None:
    """Load the files when there are any, and remember them as the place to save to; from now
    on every new block of ids is written down before its first id is used."""
    state.storage_path = path
    if path.exists():
        load(state, json.loads(path.read_text(encoding="utf-8")))
    ids = ids_path(path)
    if ids.exists():
        load_ids(state, json.loads(ids.read_text(encoding="utf-8")))
    # A clean stop wrote exact ids: the next one starts a block, written before it is used.
    for bot in state.bots.values():
        bot.reserved_update_id = 0
    state.reserved_person_id = 0
    state.on_reserve = lambda current: _write(ids, dump_ids(current))
