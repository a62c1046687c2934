"""Callback queries: a person's tap on an inline button, and the bot's one answer to it."""

from __future__ import annotations

from typing import Any

from sandbox.botapi.calls import Call, Handler
from sandbox.botapi.errors import bad_request
from sandbox.botapi.models import Dialog, Message, PendingQuery, User
from sandbox.botapi.state import BotAccount, SandboxState

MAX_ANSWER = 200
TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


def press_callback(
    state: SandboxState, bot: BotAccount, dialog: Dialog, message: Message, presser: User, data: str
) -> str:
    """Queue the callback_query update a tap produces; returns the query id."""
    shown = message.to_api()
    return _queue_query(state, bot, dialog, message.message_id, presser, shown, data)


def _queue_query(
    state: SandboxState,
    bot: BotAccount,
    dialog: Dialog,
    message_id: int,
    presser: User,
    shown: dict[str, Any],
    data: str,
) -> str:
    """The callback_query update for the bot, `shown` as its message; returns the query id."""
    query_id = state.new_query_id()
    state.queries[query_id] = PendingQuery(query_id, bot.id, dialog, message_id)
    payload = {
        "id": query_id,
        "from": presser.to_api(),
        "message": shown,
        "chat_instance": str(abs(hash((bot.id, dialog.chat.id)))),
        "data": data,
    }
    dialog.callback_answer = None
    state.push_update(bot, "callback_query", payload)
    state.touch()
    return query_id


async def answer_callback_query(call: Call) -> Any:
    query = call.state.queries.get(call.params.required_str("callback_query_id"))
    if query is None or query.answered or query.bot_id != call.bot.id:
        raise bad_request(TOO_OLD)
    text = call.params.text("text")
    if text is not None and len(text) > MAX_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    query.dialog.callback_answer = {
        "query_id": query.query_id,
        "message_id": query.message_id,
        "text": text,
        "show_alert": call.params.flag("show_alert"),
        "url": call.params.text("url"),
    }
    call.state.touch()
    return True


METHODS: dict[str, Handler] = {"answercallbackquery": answer_callback_query}


def press_data(
    state: SandboxState,
    bot: BotAccount,
    dialog: Dialog,
    message_id: int,
    presser: User,
    data: str,
    *,
    inaccessible: bool = False,
) -> str:
    """A callback query with any data on any message of the chat: what a modified client can
    send (Telegram does not check the data against the message's buttons).

    `inaccessible`: the message comes as Telegram's InaccessibleMessage (date 0), as for a
    message too old or deleted; a deleted message is always sent that way.
    """
    if not 1 <= len(data.encode()) <= 64:
        raise bad_request("BUTTON_DATA_INVALID")
    message = dialog.messages.get(message_id)
    if message is None:
        raise bad_request("message not found")
    shown: dict[str, Any] = message.to_api()
    if inaccessible or message.deleted:
        shown = {"chat": dialog.chat.to_api(), "message_id": message_id, "date": 0}
    return _queue_query(state, bot, dialog, message_id, presser, shown, data)
