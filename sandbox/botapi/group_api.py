"""The support side under /sandbox/api/groups: forum supergroups, their agents and topics."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.botapi import people
from sandbox.botapi.errors import ApiError
from sandbox.botapi.models import Chat, User
from sandbox.botapi.params import Params
from sandbox.botapi.person_api import Action, document_fields, photo_fields, sender
from sandbox.botapi.state import BotAccount, SandboxState
from sandbox.botapi.views import message_view, person_to_view


def group_of(state: SandboxState, request: web.Request) -> Chat:
    chat = state.chats.get(int(request.match_info["group_id"]))
    if chat is None or chat.type == "private":
        raise ApiError(404, "Not Found: no such group")
    return chat


def agent_of(state: SandboxState, params: Params) -> User:
    user = state.users.get(params.required_int("person_id"))
    if user is None or user.is_bot:
        raise ApiError(404, "Not Found: no such person")
    return user


def any_bot(state: SandboxState, chat: Chat) -> BotAccount:
    bots = state.bots_in(chat)
    if not bots:
        raise ApiError(409, "Conflict: no bot is a member of this group")
    return bots[0]


def group_to_view(state: SandboxState, chat: Chat) -> dict[str, Any]:
    members = [
        {"user": person_to_view(state.users[uid]), "status": status}
        for uid, status in chat.members.items()
        if uid in state.users
    ]
    return {"id": chat.id, "title": chat.title, "is_forum": chat.is_forum, "members": members}


async def list_groups(state: SandboxState, params: Params, request: web.Request) -> Any:
    return [group_to_view(state, c) for c in state.chats.values() if c.type != "private"]


async def create_group(state: SandboxState, params: Params, request: web.Request) -> Any:
    bot_ref = params.text("bot")
    bots = [state.find_bot(bot_ref).id] if bot_ref else None
    is_forum = not params.has("is_forum") or params.flag("is_forum")
    chat = state.add_group(params.text("title") or "Support", is_forum=is_forum, bots=bots)
    return group_to_view(state, chat)


async def add_member(state: SandboxState, params: Params, request: web.Request) -> Any:
    chat, agent = group_of(state, request), agent_of(state, params)
    chat.members[agent.id] = params.text("status") or "member"
    state.touch()
    return group_to_view(state, chat)


async def read_group(state: SandboxState, params: Params, request: web.Request) -> Any:
    chat = group_of(state, request)
    viewer = params.integer("person_id") or 0
    dialog = state.dialogs.get((0, chat.id))
    messages = list(dialog.messages.values()) if dialog else []
    return {
        **group_to_view(state, chat),
        "topics": [
            {**topic.to_api(), "closed": topic.closed}
            for topic in chat.topics.values()
            if not topic.deleted
        ],
        "messages": [message_view(message, viewer) for message in messages],
        "version": state.version,
    }


def _post_group(state: SandboxState, params: Params, request: web.Request, **fields: Any) -> Any:
    chat, agent = group_of(state, request), agent_of(state, params)
    thread_id = params.integer("message_thread_id")
    bot = any_bot(state, chat)
    message = people.post(state, bot, agent, chat, thread_id=thread_id, **fields)
    return {"message_id": message.message_id}


async def send_text(state: SandboxState, params: Params, request: web.Request) -> Any:
    return _post_group(state, params, request, **people.typed_text_fields(params))


async def press(state: SandboxState, params: Params, request: web.Request) -> Any:
    chat, agent = group_of(state, request), agent_of(state, params)
    dialog = state.dialog(any_bot(state, chat), chat)
    text = params.required_str("text")
    message, _ = people.find_button(dialog, text, params.integer("message_id"))
    bot = state.bots.get(message.sender.id) if message else None
    return people.press(
        state, bot or any_bot(state, chat), agent, dialog, text, params.integer("message_id")
    )


GROUP_ROUTES: tuple[tuple[str, str, Action], ...] = (
    ("GET", "/sandbox/api/groups", list_groups),
    ("POST", "/sandbox/api/groups", create_group),
    ("GET", "/sandbox/api/groups/{group_id}", read_group),
    ("POST", "/sandbox/api/groups/{group_id}/members", add_member),
    ("POST", "/sandbox/api/groups/{group_id}/messages", send_text),
    ("POST", "/sandbox/api/groups/{group_id}/photo", sender(_post_group, photo_fields)),
    ("POST", "/sandbox/api/groups/{group_id}/document", sender(_post_group, document_fields)),
    ("POST", "/sandbox/api/groups/{group_id}/press", press),
)
