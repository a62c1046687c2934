"""Every step a person can be at has words for the agents' card (bot/support/card.py), so the
card never shows a state's internal name, and those words are in Russian too."""

from __future__ import annotations

import pytest
from aiogram.utils.i18n import I18n

from bot.middlewares.i18n import make_i18n
from bot.states import AWAITING
from bot.support.card import REASONS, STEPS, reason_label, step_label


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return make_i18n("en")


@pytest.mark.parametrize("state", sorted(AWAITING))
def test_every_step_has_words_for_agents(state: str, i18n: I18n) -> None:
    assert state in STEPS, f"add {state} to bot/support/card.py STEPS"
    with i18n.context(), i18n.use_locale("ru"):
        assert step_label(state) != STEPS[state], f"no Russian for {STEPS[state]!r}"


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_every_reason_is_said_in_russian(reason: str, i18n: I18n) -> None:
    with i18n.context(), i18n.use_locale("ru"):
        assert reason_label(reason) != REASONS[reason]


def test_a_step_without_words_falls_back_to_its_name(i18n: I18n) -> None:
    with i18n.context(), i18n.use_locale("en"):
        assert step_label("Elsewhere:awaiting_thing") == "Elsewhere:awaiting_thing"
        assert step_label(None) == "no step: the account card"
