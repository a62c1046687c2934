"""The Support desk page: the forum support group's topics and messages; answer as an agent.

The page is plain HTML and a little script over the person API's group calls
(`/sandbox/api/groups/...`, see docs/SANDBOX.md); nothing here talks to the bot directly.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from sandbox.botapi import SandboxState
from sandbox.botapi.models import Chat
from sandbox.pages import page_response

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/sandbox/desk-static"
GROUP_TITLE = "Support"
DESK_STATE = web.AppKey("desk_state", SandboxState)
AGENT_STATUSES = ("creator", "administrator", "member")
COMMANDS = ("/whois", "/close", "/reopen")


def support_group(state: SandboxState) -> int:
    """The forum support group with one agent, made on first call; its chat id."""
    found = _find_group(state)
    if found is not None:
        return found.id
    chat = state.add_group(GROUP_TITLE, is_forum=True)
    agent = state.add_person("Sam", last_name="Support", username="sam_support")
    chat.members[agent.id] = "administrator"
    state.touch()
    return chat.id


def _find_group(state: SandboxState) -> Chat | None:
    for chat in state.chats.values():
        if chat.type != "private" and chat.is_forum and chat.title == GROUP_TITLE:
            return chat
    return None


def _agent_of(state: SandboxState, chat: Chat) -> int | None:
    for user_id, status in chat.members.items():
        user = state.users.get(user_id)
        if user is not None and not user.is_bot and status in AGENT_STATUSES:
            return user_id
    return None


def register_desk(app: web.Application, state: SandboxState) -> None:
    """Adds /desk and its script; the state is the one `register_botapi` serves."""
    app.router.add_get("/desk", _desk)
    app.router.add_static(STATIC_URL, STATIC_DIR, name="desk_static")
    app[DESK_STATE] = state


async def _desk(request: web.Request) -> web.Response:
    state = request.app[DESK_STATE]
    chat = _find_group(state)
    agent = _agent_of(state, chat) if chat is not None else None
    return page_response(
        "desk/desk.html",
        title="Support desk",
        current="/desk",
        desk_static=STATIC_URL,
        commands=COMMANDS,
        agent=agent,
        agent_name=state.users[agent].first_name if agent is not None else "",
        group_id=chat.id if chat is not None else 0,
        group_title=(chat.title or "") if chat is not None else "",
    )
