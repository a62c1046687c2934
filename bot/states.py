"""The conversation's states, each named after what the bot is waiting for (STYLE §3), and each
carrying its hint: what it waits for, said again when something else arrives (PRODUCT §3).

A state is an `Awaiting`, never a bare `State`: the hint cannot be forgotten, and
tests/bot/test_states.py checks that every one is translated.
"""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup
from aiogram.utils.i18n import gettext


def N_(msgid: str) -> str:
    """Marks a hint for extraction (`make locales` knows N_); it is translated when said."""
    return msgid


class Awaiting(State):
    """A state that knows what it waits for: the hint's msgid, said in the person's language."""

    def __init__(self, hint: str) -> None:
        super().__init__()
        self.msgid = hint

    @property
    def hint(self) -> str:
        return gettext(self.msgid)


CHOOSE = N_("Please choose one of the buttons above.")
PASSWORD = N_("I am waiting for a password, as text, or use the secure page button.")


class SignIn(StatesGroup):
    awaiting_terms = Awaiting(N_("Please accept the user agreement with the button above."))


class BindEmail(StatesGroup):
    awaiting_address = Awaiting(N_("I am waiting for an email address, as text."))
    awaiting_workspaces = Awaiting(CHOOSE)
    awaiting_password = Awaiting(PASSWORD)
    awaiting_code = Awaiting(N_("I am waiting for the 6-digit code from the letter."))


class BindPhone(StatesGroup):
    awaiting_number = Awaiting(N_("I am waiting for a phone number, as text, or the button below."))
    awaiting_workspaces = Awaiting(CHOOSE)
    awaiting_code = Awaiting(N_("I am waiting for the 6-digit code from the SMS."))
    awaiting_password = Awaiting(PASSWORD)


class AddressTaken(StatesGroup):
    awaiting_choice = Awaiting(CHOOSE)
    awaiting_proof = Awaiting(N_("I am waiting for the code, or the other account's password."))
    awaiting_new_address = Awaiting(
        N_("I am waiting for the other account's new address, as text.")
    )
    awaiting_new_code = Awaiting(N_("I am waiting for the code sent to the new address."))
    awaiting_password = Awaiting(PASSWORD)


class Password(StatesGroup):
    awaiting_new = Awaiting(
        N_("I am waiting for the new password, as text, or use the secure page button.")
    )


class Unbind(StatesGroup):
    awaiting_confirmation = Awaiting(CHOOSE)


class Recovery(StatesGroup):
    awaiting_choice = Awaiting(CHOOSE)
    awaiting_code = Awaiting(N_("I am waiting for the recovery code."))
    awaiting_password = Awaiting(N_("I am waiting for the new password, as text."))


class DeleteAccount(StatesGroup):
    """PRODUCT §1.12: the warning, then the code or a fresh social sign-in, then it is gone."""

    awaiting_choice = Awaiting(CHOOSE)
    awaiting_code = Awaiting(N_("I am waiting for the code that confirms deleting the account."))
    awaiting_sign_in = Awaiting(
        N_("I am waiting for you to sign in again with the button above, to confirm deleting.")
    )
    awaiting_final = Awaiting(CHOOSE)


class Support(StatesGroup):
    in_handoff = Awaiting(
        N_("You are talking to support: write your message. Send /end to go back.")
    )


# Every step of every group above, by the name the conversation store keeps.
AWAITING: dict[str, Awaiting] = {
    state.state: state
    for group in StatesGroup.__subclasses__()
    if group.__module__ == __name__
    for state in group.__all_states__
    if isinstance(state, Awaiting) and state.state is not None
}


def hint_for(raw_state: str | None) -> str | None:
    """The hint of the step the person is at, in their language; None outside any step."""
    awaiting = AWAITING.get(raw_state or "")
    return awaiting.hint if awaiting is not None else None
