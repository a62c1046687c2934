"""The password and address-taken steps hand the conversation back to the flow that asked for
them, through the table `bot.routers` fills; and only signed-in chats reach a flow's steps."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import User

from bot import states
from bot.filters import SignedIn
from bot.routers import returns
from bot.routers.steps.returns import Returns
from bot.talk import SignedTalk, Talk
from core.domain.models import AddressKind


def talk(account_id: int | None) -> Talk:
    key = StorageKey(bot_id=1, chat_id=7, user_id=7)
    user = User(id=7, is_bot=False, first_name="Ivan")
    fake: Any = None  # neither the bot nor the services are reached here
    return Talk(fake, user, FSMContext(MemoryStorage(), key), fake, account_id, "en")


def test_every_flow_that_asks_for_a_password_gets_the_conversation_back() -> None:
    asking = {
        state.state
        for group in (states.BindEmail, states.BindPhone, states.AddressTaken)
        for state in group.__all_states__
        if state.state is not None and state.state.endswith(":awaiting_password")
    }

    assert {state.state for state in returns().asking_password} == asking


async def test_the_step_after_the_password_is_the_one_of_the_state_that_asked() -> None:
    went: list[str] = []

    def to(name: str) -> Any:
        async def then(talk: SignedTalk) -> None:
            went.append(name)

        return then

    table = Returns(
        password={states.BindEmail.awaiting_password: to("letter")},
        bind={AddressKind.PHONE: to("phone")},
    )
    chat = talk(1).signed_in()
    assert chat is not None

    await chat.state.set_state(states.Password.awaiting_new)
    assert await table.after_password(chat) is False  # the card's own: nobody to go back to
    await chat.state.set_state(states.BindEmail.awaiting_password)
    assert await table.after_password(chat) is True
    await table.bind_again(chat, AddressKind.PHONE)

    assert went == ["letter", "phone"]
    assert await chat.state.get_state() is None  # binding again starts afresh


async def test_only_a_signed_in_chat_passes_and_its_handler_gets_the_account() -> None:
    signed_in = SignedIn()

    assert await signed_in(None, talk=talk(None)) is False
    passed = await signed_in(None, talk=talk(42))

    assert isinstance(passed, dict)
    assert isinstance(passed["talk"], SignedTalk) and passed["talk"].account_id == 42
