"""The support handoff's persistence: one open handoff, the step kept, topics and the map."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.adapters.db.engine import Database
from core.adapters.db.migrate import upgrade
from core.adapters.db.support import SqlSupportStore
from core.flows.support import HIDDEN, SupportFlow, redact
from core.support_ports import Relayed
from tests.conftest import FakeClock

GROUP = -1001


@pytest.fixture
async def flow(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SupportFlow]:
    url = f"sqlite+aiosqlite:///{tmp_path}/support.sqlite3"
    await upgrade(url)
    database = Database(url)
    yield SupportFlow(SqlSupportStore(database), clock)
    await database.dispose()


async def test_opening_keeps_the_step_and_a_second_open_changes_nothing(flow: SupportFlow) -> None:
    first, created = await flow.open(
        7, 1, "button", "BindEmail:awaiting_code", {"address": "a@b.c"}
    )
    again, created_again = await flow.open(7, 1, "email_code", None, {})
    assert created and not created_again
    assert again.id == first.id
    assert again.saved_state == "BindEmail:awaiting_code"
    assert again.saved_data == {"address": "a@b.c"}


async def test_closing_hands_back_the_saved_step_once(flow: SupportFlow) -> None:
    await flow.open(7, 1, "button", "Password:awaiting_new", {"flow_total": 1})
    closed = await flow.close(7)
    assert closed is not None and closed.saved_state == "Password:awaiting_new"
    assert await flow.current(7) is None
    assert await flow.close(7) is None


async def test_reopening_needs_an_earlier_handoff(flow: SupportFlow) -> None:
    assert await flow.reopen(7, None, {}) is None
    await flow.open(7, None, "button", None, {})
    await flow.close(7)
    reopened = await flow.reopen(7, "BindPhone:awaiting_number", {})
    assert reopened is not None
    handoff, created = reopened
    assert created and handoff.reason == "reopened" and handoff.is_open


async def test_a_topic_belongs_to_one_person_and_can_be_replaced(flow: SupportFlow) -> None:
    assert await flow.topic(GROUP, 7) is None
    await flow.set_topic(GROUP, 7, 11)
    assert await flow.person_in(GROUP, 11) == 7
    await flow.set_topic(GROUP, 7, 15)
    assert await flow.topic(GROUP, 7) == 15
    assert await flow.person_in(GROUP, 11) is None


async def test_the_message_map_finds_both_sides(flow: SupportFlow) -> None:
    await flow.remember(GROUP, Relayed(7, 3, 40))
    assert await flow.by_group_message(GROUP, 40) == Relayed(7, 3, 40)
    assert await flow.by_person_message(GROUP, 7, 3) == Relayed(7, 3, 40)
    assert await flow.by_group_message(GROUP, 41) is None


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("my code is 123456", f"my code is {HIDDEN}"),
        ("4821", HIDDEN),
        ("Tr0ub4dor&3", HIDDEN),
        ("the code 12-34 never came", "the code 12-34 never came"),
        ("write to ivan@example.org please", "write to i***@example.org please"),
        ("call +7 912 345-67-89", "call +7 *** ***-67-89"),
        ("call +44 7700 900123", "call +44 *** ***-01-23"),
    ],
)
def test_codes_and_password_like_words_are_hidden(text: str, shown: str) -> None:
    assert redact(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Здравствуйте, не приходит код на почту.",
        "Спасибо!",
        "Подскажите, пожалуйста: что-нибудь можно сделать?",
        "Hello, world.",
        "Thank you! Unfortunately, nothing happened.",
        "I don't understand «Подтвердить» — see example.com/help",
        "Hello,\n\nmy  letter never came (internationalization, again).",
    ],
)
def test_ordinary_sentences_reach_agents_as_written(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("мой пароль Kettle-9!moon", f"мой пароль {HIDDEN}"),
        ("my password is kettle99moon, right?", f"my password is {HIDDEN} right?"),
        ("пароль: «Tr0ub4dor&3»", f"пароль: {HIDDEN}"),
        ("the code 123 456 or 123-456", f"the code {HIDDEN} or {HIDDEN}"),
        ("код 654321.", f"код {HIDDEN}."),
        (
            "the link http://127.0.0.1:8080/auth/start/q3Yv_9TnHkLw-2xRbPz7MfJcVd8sAe4uGiNoE1tWy0X",
            f"the link http://127.0.0.1:{HIDDEN}/auth/start/{HIDDEN}",
        ),
        ("token q3Yv_9TnHkLw-2xRbPz7MfJcVd8sAe4uGiNoE1tWy0X here", f"token {HIDDEN} here"),
    ],
)
def test_typed_passwords_codes_and_tokens_are_hidden(text: str, shown: str) -> None:
    assert redact(text) == shown
