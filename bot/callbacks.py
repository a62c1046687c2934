"""Typed callback data: every inline button's payload, short enough for Telegram's 64 bytes."""

from __future__ import annotations

import hashlib

from aiogram.filters.callback_data import CallbackData


class Menu(CallbackData, prefix="m"):
    """Account card buttons: action is one of the names in `bot.keyboards.card`."""

    action: str


class Step(CallbackData, prefix="s"):
    """A choice inside a flow: `flow` names the flow, `choice` what was picked."""

    flow: str
    choice: str


class Language(CallbackData, prefix="l"):
    code: str


class Back(CallbackData, prefix="b"):
    """ "« Back" of the step it was shown at (`step`: the state's name, ":" written as "."), so a
    tap on it once that step is over is stale (PRODUCT §3). `bot.keyboards.flow.at_step`
    writes it into a markup as it is sent."""

    step: str

    @classmethod
    def of(cls, state: str) -> Back:
        return cls(step=state.replace(":", "."))

    def is_at(self, state: str | None) -> bool:
        return state is not None and self.step == state.replace(":", ".")


class SignOutOf(CallbackData, prefix="w"):
    """ "Sign out of <workspace>" on the card (PRODUCT §1.11): `ref` is `workspace_ref` of the
    OpenID client, so the data stays short (64 bytes) whatever the client id's length."""

    ref: str


def workspace_ref(client_id: str) -> str:
    """A short, stable name of a client for a button: 12 hex digits of its SHA-256."""
    return hashlib.sha256(client_id.encode()).hexdigest()[:12]
