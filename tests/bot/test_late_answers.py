"""LateAnswers lets only a refused tap answer pass (bot/middlewares/callbacks.py): every other
refusal still reaches the handler. The crash it is for is driven in
tests/reliability/test_restart.py."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod

from bot.middlewares.callbacks import LateAnswers

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BOT = Bot("42:TEST")


def refused(description: str) -> Any:
    async def make_request(bot: Bot, method: TelegramMethod[Any]) -> Any:
        raise TelegramBadRequest(method=method, message=description)

    return make_request


async def test_an_answer_to_a_closed_query_passes_as_done() -> None:
    method = AnswerCallbackQuery(callback_query_id="1")

    assert await LateAnswers()(refused(TOO_OLD), BOT, method) is True


@pytest.mark.parametrize(
    ("method", "description"),
    [
        (AnswerCallbackQuery(callback_query_id="1"), "Bad Request: MESSAGE_TOO_LONG"),
        (SendMessage(chat_id=1, text="hi"), TOO_OLD),
    ],
)
async def test_any_other_refusal_still_fails(method: TelegramMethod[Any], description: str) -> None:
    with pytest.raises(TelegramBadRequest):
        await LateAnswers()(refused(description), BOT, method)
