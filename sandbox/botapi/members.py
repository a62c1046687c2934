"""What a bot does to a group and its members: count, ban, unban, restrict, promote, leave, rename;
and the smaller calls a bot makes at start or in passing that the sandbox answers as Telegram."""

from __future__ import annotations

from typing import Any

from sandbox.botapi.calls import Call, Handler, registrar
from sandbox.botapi.chats import ADMIN_RIGHTS
from sandbox.botapi.errors import bad_request
from sandbox.botapi.models import Chat

METHODS: dict[str, Handler] = {}
method = registrar(METHODS)
PRESENT = ("creator", "administrator", "member", "restricted")


def _group(call: Call, *, rights: bool = True) -> Chat:
    """A group the bot is in (an administrator when `rights`), as these methods require."""
    chat = call.state.chat(call.params.required_str("chat_id"))
    if chat.type == "private":
        raise bad_request("method is available for supergroup and channel chats only")
    if rights and chat.members.get(call.bot.id) not in ("creator", "administrator"):
        raise bad_request("not enough rights to restrict/unrestrict chat member")
    return chat


def _member(call: Call, chat: Chat) -> int:
    user_id = call.params.required_int("user_id")
    if user_id not in call.state.users:
        raise bad_request("user not found")
    if chat.members.get(user_id) == "creator":
        raise bad_request("can't remove chat owner")
    return user_id


def _changed(call: Call) -> bool:
    call.state.touch()
    return True


@method
async def get_chat_member_count(call: Call) -> Any:
    chat = call.state.chat(call.params.required_str("chat_id"))
    if chat.type == "private":
        return 2  # the person and the bot
    return sum(1 for status in chat.members.values() if status in PRESENT)


@method
async def ban_chat_member(call: Call) -> Any:
    chat = _group(call)
    chat.members[_member(call, chat)] = "kicked"
    return _changed(call)


@method
async def unban_chat_member(call: Call) -> Any:
    chat = _group(call)
    user_id = _member(call, chat)
    status = chat.members.get(user_id)
    if status == "kicked":
        chat.members[user_id] = "left"
    elif status in PRESENT and not call.params.flag("only_if_banned"):
        chat.members[user_id] = "left"  # Telegram removes a present member who is unbanned
    return _changed(call)


@method
async def restrict_chat_member(call: Call) -> Any:
    chat = _group(call)
    user_id = _member(call, chat)
    if chat.members.get(user_id) not in PRESENT:
        raise bad_request("user is not a member of the chat")
    if call.params.obj("permissions") is None:
        raise bad_request("permissions is empty")
    return True  # accepted: what a restricted member may send is not modelled


@method
async def promote_chat_member(call: Call) -> Any:
    chat = _group(call)
    user_id = _member(call, chat)
    if chat.members.get(user_id) not in PRESENT:
        raise bad_request("user is not a member of the chat")
    rights = [key for key in call.params.values if key.startswith("can_")]
    promoted = any(call.params.flag(key) for key in rights)
    chat.members[user_id] = "administrator" if promoted else "member"
    return _changed(call)


@method
async def leave_chat(call: Call) -> Any:
    chat = call.state.chat(call.params.required_str("chat_id"))
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    chat.members[call.bot.id] = "left"
    return _changed(call)


@method
async def set_chat_title(call: Call) -> Any:
    chat = _group(call)
    title = call.params.required_str("title")
    if len(title) > 128:
        raise bad_request("chat title is too long")
    if title == chat.title:
        raise bad_request("chat title is not modified")
    chat.title = title
    return _changed(call)


@method
async def set_chat_description(call: Call) -> Any:
    _group(call)
    return True  # kept by nobody: getChat has no description in the sandbox


@method
async def set_chat_permissions(call: Call) -> Any:
    _group(call)
    return True


@method
async def set_chat_administrator_custom_title(call: Call) -> Any:
    chat = _group(call)
    if chat.members.get(_member(call, chat)) != "administrator":
        raise bad_request("user is not an administrator")
    return True


@method
async def export_chat_invite_link(call: Call) -> Any:
    chat = _group(call)
    return f"https://t.me/+sandbox{abs(chat.id)}"


@method
async def create_chat_invite_link(call: Call) -> Any:
    chat = _group(call)
    return {
        "invite_link": f"https://t.me/+sandbox{abs(chat.id)}_{call.state.new_file_number()}",
        "creator": call.bot.user.to_api(),
        "creates_join_request": call.params.flag("creates_join_request"),
        "is_primary": False,
        "is_revoked": False,
        **({"name": call.params.required_str("name")} if call.params.has("name") else {}),
    }


@method
async def get_user_profile_photos(call: Call) -> Any:
    if call.params.required_int("user_id") not in call.state.users:
        raise bad_request("user not found")
    return {"total_count": 0, "photos": []}


@method
async def get_my_default_administrator_rights(call: Call) -> Any:
    rights = dict.fromkeys(ADMIN_RIGHTS, False)
    rights.pop("can_be_edited")
    return rights


@method
async def get_custom_emoji_stickers(call: Call) -> Any:
    return []


@method
async def get_sticker_set(call: Call) -> Any:
    raise bad_request("STICKERSET_INVALID")


@method
async def answer_web_app_query(call: Call) -> Any:
    call.params.required_str("web_app_query_id")
    return {}


@method
async def answer_inline_query(call: Call) -> Any:
    raise bad_request("query is too old and response timeout expired or query ID is invalid")


@method
async def close_general_forum_topic(call: Call) -> Any:
    _group(call)
    return True


@method
async def reopen_general_forum_topic(call: Call) -> Any:
    _group(call)
    return True


@method
async def edit_general_forum_topic(call: Call) -> Any:
    _group(call)
    call.params.required_str("name")
    return True


@method
async def hide_general_forum_topic(call: Call) -> Any:
    _group(call)
    return True


@method
async def unhide_general_forum_topic(call: Call) -> Any:
    _group(call)
    return True


@method
async def unpin_all_general_forum_topic_messages(call: Call) -> Any:
    _group(call)
    return True
