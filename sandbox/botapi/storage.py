"""Keeping the sandbox's people, groups and chats between runs, whatever stops it.

Three files in the data folder:

- `telegram.json`: the whole world, written atomically (a temporary file, then a rename) at a
  clean stop and after a start has read everything back;
- `telegram.journal`: one JSON line per change, appended before the change is answered (a Bot API
  call, a person API call) or, for changes outside a request, within the same turn of the event
  loop. A line holds what changed since the last one (people, groups, chats' states, messages),
  in the world file's own shape; a half-written last line (a kill mid-write) is skipped. So a
  sandbox stopped by SIGKILL or a crash comes back with every person, chat and message it
  answered about;
- `telegram.ids.json`: the next ids (update ids, people's ids), written a block ahead the moment a
  block is started, so no id is ever handed out twice (a bot would take a repeated update id for
  a duplicate, and an account's Telegram id for its owner).
"""

from __future__ import annotations

import asyncio
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
    "quote",
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
    """Bring back a chat's state and messages (a journal line's replace the ones read before)."""
    chat = state.chats.get(data["chat_id"])
    if chat is None or (data["bot_id"] and data["bot_id"] not in state.bots):
        return  # a bot that is not registered this time: its chats stay behind
    key = (data["bot_id"], chat.id)
    dialog = state.dialogs.get(key) or Dialog(chat)
    dialog.next_message_id, dialog.started = data["next_message_id"], data["started"]
    dialog.blocked, dialog.reply_keyboard = data["blocked"], data["reply_keyboard"]
    for item in data.get("messages", []):
        sender = state.users.get(item["sender_id"])
        if sender is None:
            continue
        fields = {key: item[key] for key in MESSAGE_FIELDS if key in item}  # older files lack some
        date = _moment(item["date"]) or state.now()
        edited = _moment(item["edit_date"])
        message = Message(item["message_id"], chat, sender, date, edit_date=edited, **fields)
        message.reply_to = dialog.messages.get(item["reply_to"] or 0)
        dialog.messages[message.message_id] = message
    state.dialogs[key] = dialog


def load(state: SandboxState, data: dict[str, Any]) -> None:
    """Bring back people, groups and chats; register the bots first, their chats need them.
    What is there already is updated in place (a journal line after the world file)."""
    if data.get("format") != FORMAT:
        return
    for item in data.get("people", []):
        person = User(**item)
        state.users[person.id] = person
        chat = state.chats.get(person.id)
        if chat is None:
            state.chats[person.id] = Chat(id=person.id, type="private", person=person)
        else:
            chat.person = person
    for item in data.get("groups", []):
        chat = state.chats.get(item["id"]) or Chat(item["id"], "supergroup")
        chat.title, chat.is_forum = item["title"], item["is_forum"]
        chat.members = {int(user_id): status for user_id, status in item["members"]}
        chat.topics = {t["message_thread_id"]: Topic(**t) for t in item["topics"]}
        state.chats[chat.id] = chat
    for item in data.get("dialogs", []):
        _load_dialog(state, item)
    load_ids(state, data.get("ids", {}))
    state.continue_ids()


def journal_path(path: Path) -> Path:
    """The journal next to the world's file (telegram.json: telegram.journal)."""
    return path.with_name(path.stem + ".journal")


def _group_to_dict(chat: Chat) -> dict[str, Any]:
    return {
        "id": chat.id,
        "title": chat.title,
        "is_forum": chat.is_forum,
        "members": [[user_id, status] for user_id, status in chat.members.items()],
        "topics": [dataclasses.asdict(topic) for topic in chat.topics.values()],
    }


def _dialog_to_dict(key: tuple[int, int], dialog: Dialog) -> dict[str, Any]:
    return {
        "bot_id": key[0],
        "chat_id": key[1],
        "next_message_id": dialog.next_message_id,
        "started": dialog.started,
        "blocked": dialog.blocked,
        "reply_keyboard": dialog.reply_keyboard,
    }


class Journal:
    """Appends what changed since its last line; `flush` is cheap when nothing did."""

    def __init__(self, state: SandboxState, path: Path) -> None:
        self.state, self.path = state, path
        self.written: dict[tuple[str, int, int], Any] = {}  # what the last lines said
        self.messages: dict[int, Message] = {}  # made or changed since the last line, by id()
        self.pending = False
        self.reset()

    def reset(self) -> None:
        """Everything as it is now is written (in the world's file)."""
        self.pending = False
        self.messages.clear()
        self.written.clear()
        self.written.update(self._records())

    def _records(self) -> dict[tuple[str, int, int], Any]:
        records: dict[tuple[str, int, int], Any] = {}
        for person in self.state.people():
            records["people", person.id, 0] = dict(vars(person))  # flat: cheaper than asdict
        for chat in self.state.chats.values():
            if chat.type != "private":
                records["groups", chat.id, 0] = _group_to_dict(chat)
        for key, dialog in self.state.dialogs.items():
            records["dialogs", *key] = _dialog_to_dict(key, dialog)
        return records

    def changed(self, messages: tuple[Message, ...] = ()) -> None:
        """A change was made: write it at the end of this turn of the loop (or now, outside
        one); a request handler calls `flush` itself before it answers."""
        for message in messages:
            self.messages[id(message)] = message
        if self.pending:
            return
        self.pending = True
        try:
            asyncio.get_running_loop().call_soon(self.flush)
        except RuntimeError:  # no loop running: write at once
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self.pending = False
        records = self._records()
        fresh = {key: value for key, value in records.items() if self.written.get(key) != value}
        line: dict[str, Any] = {"format": FORMAT, "people": [], "groups": [], "dialogs": []}
        for (kind, _, _), value in fresh.items():
            line[kind].append(value)
        # Copies: the records stay as written, without the messages added to the line.
        dialogs = {(item["bot_id"], item["chat_id"]): dict(item) for item in line["dialogs"]}
        for message in sorted(self.messages.values(), key=lambda m: m.message_id):
            key = self._dialog_of(message)
            if key is not None:
                item = dialogs.setdefault(key, _dialog_to_dict(key, self.state.dialogs[key]))
                item.setdefault("messages", []).append(_message_to_dict(message))
        self.messages.clear()
        line["dialogs"] = list(dialogs.values())
        if any(line[kind] for kind in ("people", "groups", "dialogs")):
            _append(self.path, json.dumps(line, ensure_ascii=False) + "\n")
        self.written.update(records)

    def _dialog_of(self, message: Message) -> tuple[int, int] | None:
        """The chat a message is kept in: a group's one, or a private chat with one bot."""
        for bot_id in (0, *self.state.bots):
            dialog = self.state.dialogs.get((bot_id, message.chat.id))
            if dialog is not None and dialog.messages.get(message.message_id) is message:
                return bot_id, message.chat.id
        return None


def _append(path: Path, line: str) -> None:
    """One write on an O_APPEND file: a kill leaves the line whole or cut short, never mixed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode("utf-8"))
    finally:
        os.close(descriptor)


def replay(state: SandboxState, path: Path) -> int:
    """Apply the journal's lines in order; a cut-short last line is skipped. How many applied."""
    applied = 0
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue  # the line a kill cut short
        load(state, line)
        applied += 1
    return applied


def save(state: SandboxState, path: Path) -> None:
    """Write the world (at a clean stop) and the exact next ids; the journal is then folded in."""
    _write(path, dump(state))
    _write(ids_path(path), dump_ids(state, reserved=False))
    journal_path(path).unlink(missing_ok=True)
    if state.journal is not None:
        state.journal.reset()


def restore(state: SandboxState, path: Path) -> None:
    """Load the files when there are any, and remember them as the place to save to; from now
    on every new block of ids is written down before its first id is used."""
    state.storage_path = path
    if path.exists():
        load(state, json.loads(path.read_text(encoding="utf-8")))
    journal = journal_path(path)
    replayed = journal.exists() and replay(state, journal) > 0
    ids = ids_path(path)
    if ids.exists():
        load_ids(state, json.loads(ids.read_text(encoding="utf-8")))
    if replayed:  # fold the journal into the world's file, so it starts short again
        _write(path, dump(state))
    journal.unlink(missing_ok=True)
    state.journal = Journal(state, journal)
    # A clean stop wrote exact ids: the next one starts a block, written before it is used.
    for bot in state.bots.values():
        bot.reserved_update_id = 0
    state.reserved_person_id = 0
    state.on_reserve = lambda current: _write(ids, dump_ids(current))
