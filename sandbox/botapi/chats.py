"""The bot's profile and what it can read about chats and their members."""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.botapi.calls import Call, Handler, registrar
from sandbox.botapi.errors import bad_request
from sandbox.botapi.models import User

COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
ADMIN_RIGHTS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_manage_topics",
    "can_pin_messages",
)
NO_GIFTS = dict.fromkeys(
    ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
)


METHODS: dict[str, Handler] = {}
method = registrar(METHODS)


@method
async def get_me(call: Call) -> Any:
    return {
        **call.bot.user.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method
async def get_chat(call: Call) -> Any:
    chat = call.state.chat(call.params.required_str("chat_id"))
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {**NO_GIFTS, "gifts_from_channels": False},
    }


def _commands_key(call: Call) -> tuple[str, str]:
    scope = call.params.obj("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), call.params.text("language_code") or ""


@method
async def set_my_commands(call: Call) -> Any:
    commands = call.params.obj("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("commands must be a list of at most 100 commands")
    for command in commands:
        if not COMMAND.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    call.bot.commands[_commands_key(call)] = commands
    return True


@method
async def get_my_commands(call: Call) -> Any:
    return call.bot.commands.get(_commands_key(call), [])


@method
async def delete_my_commands(call: Call) -> Any:
    call.bot.commands.pop(_commands_key(call), None)
    return True


@method
async def set_chat_menu_button(call: Call) -> Any:
    call.bot.menu_button = call.params.obj("menu_button") or {"type": "default"}
    call.state.touch()
    return True


@method
async def get_chat_menu_button(call: Call) -> Any:
    return call.bot.menu_button


def member_to_api(user: User, status: str) -> dict[str, Any]:
    """A ChatMember object of the given status, with the fields aiogram requires."""
    data: dict[str, Any] = {"status": status, "user": user.to_api()}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(dict.fromkeys(ADMIN_RIGHTS, True))
        data["is_anonymous"] = False
        data["can_be_edited"] = False
    elif status == "kicked":
        data["until_date"] = 0
    return data


@method
async def get_chat_member(call: Call) -> Any:
    chat = call.state.chat(call.params.required_str("chat_id"))
    user = call.state.users.get(call.params.required_int("user_id"))
    if user is None:
        raise bad_request("user not found")
    if chat.type == "private":
        status = "member" if user.id in (chat.id, call.bot.id) else "left"
    else:
        status = chat.members.get(user.id, "left")
    return member_to_api(user, status)
