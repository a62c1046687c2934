"""Forum topics of a supergroup, each opened by a service message whose id is the topic's."""

from __future__ import annotations

from typing import Any

from sandbox.botapi.calls import Call, Handler, registrar
from sandbox.botapi.errors import bad_request
from sandbox.botapi.models import Chat, Topic


def _forum(call: Call) -> tuple[Chat, Any]:
    chat, dialog = call.target()
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat, dialog


def _topic(call: Call, chat: Chat) -> Topic:
    topic = chat.topics.get(call.params.required_int("message_thread_id"))
    if topic is None or topic.deleted:
        raise bad_request("message thread not found")
    return topic


METHODS: dict[str, Handler] = {}
method = registrar(METHODS)


@method
async def create_forum_topic(call: Call) -> Any:
    chat, dialog = _forum(call)
    name = call.params.required_str("name")
    if len(name) > 128:
        raise bad_request("TOPIC_TITLE_INVALID")
    color = call.params.integer("icon_color") or 0x6FB9F0
    created = {"name": name, "icon_color": color}
    opening = call.post(chat, dialog, media={"forum_topic_created": created})
    topic = Topic(opening.message_id, name, color, call.params.text("icon_custom_emoji_id"))
    opening.thread_id = topic.message_thread_id
    chat.topics[topic.message_thread_id] = topic
    return topic.to_api()


@method
async def edit_forum_topic(call: Call) -> Any:
    chat, _ = _forum(call)
    topic = _topic(call, chat)
    name = call.params.text("name") or topic.name
    emoji = call.params.text("icon_custom_emoji_id") or topic.icon_custom_emoji_id
    if (name, emoji) == (topic.name, topic.icon_custom_emoji_id):
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name, topic.icon_custom_emoji_id = name, emoji
    call.state.touch()
    return True


async def _set_closed(call: Call, closed: bool) -> Any:
    chat, _ = _forum(call)
    topic = _topic(call, chat)
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    call.state.touch()
    return True


@method
async def close_forum_topic(call: Call) -> Any:
    return await _set_closed(call, True)


@method
async def reopen_forum_topic(call: Call) -> Any:
    return await _set_closed(call, False)


@method
async def delete_forum_topic(call: Call) -> Any:
    chat, dialog = _forum(call)
    topic = _topic(call, chat)
    topic.deleted = True
    gone = [m for m in dialog.messages.values() if m.thread_id == topic.message_thread_id]
    for message in gone:
        message.deleted = True
    call.state.touch(*gone)
    return True
