"""Calls a bot makes about itself or in passing, accepted so a real bot starts and runs."""

from __future__ import annotations

from typing import Any

from sandbox.botapi.calls import Call, Handler
from sandbox.botapi.chats import member_to_api

PROFILE_FIELDS = ("name", "description", "short_description")


def _setter(field: str) -> Handler:
    async def set_field(call: Call) -> Any:
        key = (field, call.params.text("language_code") or "")
        call.bot.profile[key] = call.params.text(field) or ""
        return True

    return set_field


def _getter(field: str) -> Handler:
    async def get_field(call: Call) -> Any:
        language = call.params.text("language_code") or ""
        value = call.bot.profile.get((field, language), call.bot.profile.get((field, ""), ""))
        if field == "name" and not value:
            value = call.bot.user.first_name
        return {field: value}

    return get_field


async def accepted(call: Call) -> Any:
    return True


async def no_icons(call: Call) -> Any:
    return []


async def get_chat_administrators(call: Call) -> Any:
    chat = call.state.chat(call.params.required_str("chat_id"))
    return [
        member_to_api(call.state.users[user_id], status)
        for user_id, status in chat.members.items()
        if status in ("creator", "administrator") and user_id in call.state.users
    ]


METHODS: dict[str, Handler] = {
    **{f"setmy{name.replace('_', '')}": _setter(name) for name in PROFILE_FIELDS},
    **{f"getmy{name.replace('_', '')}": _getter(name) for name in PROFILE_FIELDS},
    # Accepted and not modelled: nothing a person sees depends on them in the sandbox.
    **dict.fromkeys(
        (
            "pinchatmessage",
            "unpinchatmessage",
            "unpinallchatmessages",
            "setmessagereaction",
            "setmydefaultadministratorrights",
            "unpinallforumtopicmessages",
            "logout",
            "close",
        ),
        accepted,
    ),
    "getforumtopiciconstickers": no_icons,
    "getchatadministrators": get_chat_administrators,
}
