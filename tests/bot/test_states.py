"""Every state of every group in bot/states.py says what it waits for, in Russian and in English:
the hint the catch-all and the support handoff's resume repeat (PRODUCT §3)."""

from __future__ import annotations

import inspect

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo

from bot import states
from bot.middlewares.i18n import make_i18n
from core.i18n import DOMAIN, LOCALES_DIR


def _groups() -> list[type[StatesGroup]]:
    """Walked from the module itself, not from the table the bot reads, so a new group counts."""
    return [
        group
        for _name, group in inspect.getmembers(states, inspect.isclass)
        if issubclass(group, StatesGroup) and group is not StatesGroup
    ]


def _states() -> list[State]:
    return [state for group in _groups() for state in group.__all_states__]


ALL = _states()


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return make_i18n("en")


@pytest.fixture(scope="module")
def english() -> Catalog:
    with (LOCALES_DIR / "en" / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as file:
        return read_mo(file)


def test_every_group_of_the_conversation_is_walked() -> None:
    names = {group.__name__ for group in _groups()}
    assert {"SignIn", "BindEmail", "BindPhone", "AddressTaken", "Support"} <= names
    assert len(ALL) >= 20
    # the table the catch-all and the handoff's resume read holds every one of them
    assert set(states.AWAITING) == {state.state for state in ALL}


@pytest.mark.parametrize("state", ALL, ids=lambda state: str(state.state))
def test_the_state_has_a_hint_in_russian_and_english(
    state: State, i18n: I18n, english: Catalog
) -> None:
    assert isinstance(state, states.Awaiting), f"{state.state} is a bare State, without a hint"
    msgid = state.msgid
    assert msgid.strip()

    with i18n.context(), i18n.use_locale("ru"):
        russian = states.hint_for(state.state)
    assert russian is not None and russian.strip()
    assert russian != msgid, f"{state.state}: no Russian translation of {msgid!r}"

    entry = english.get(msgid)
    assert entry is not None and str(entry.string).strip(), f"{state.state}: not in English"
    with i18n.context(), i18n.use_locale("en"):
        assert states.hint_for(state.state) == entry.string


def test_the_hint_is_said_in_the_language_of_the_moment(i18n: I18n) -> None:
    """One state object serves every person: the hint is translated when it is said."""
    raw = states.BindEmail.awaiting_address.state
    with i18n.context(), i18n.use_locale("ru"):
        russian = states.hint_for(raw)
    with i18n.context(), i18n.use_locale("en"):
        english = states.hint_for(raw)
    assert english == "I am waiting for an email address, as text."
    assert russian == "Жду адрес электронной почты текстом."


def test_outside_any_step_there_is_no_hint(i18n: I18n) -> None:
    with i18n.context():
        assert states.hint_for(None) is None
        assert states.hint_for("Gone:awaiting_something") is None
