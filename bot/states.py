"""The conversation's states, each named after what the bot is waiting for (STYLE §3)."""

from aiogram.fsm.state import State, StatesGroup


class SignIn(StatesGroup):
    awaiting_terms = State()


class BindEmail(StatesGroup):
    awaiting_address = State()
    awaiting_workspaces = State()
    awaiting_password = State()
    awaiting_code = State()


class BindPhone(StatesGroup):
    awaiting_number = State()
    awaiting_workspaces = State()
    awaiting_code = State()
    awaiting_password = State()


class AddressTaken(StatesGroup):
    awaiting_choice = State()
    awaiting_proof = State()
    awaiting_new_address = State()
    awaiting_new_code = State()
    awaiting_password = State()


class Password(StatesGroup):
    awaiting_new = State()


class Unbind(StatesGroup):
    awaiting_confirmation = State()


class Recovery(StatesGroup):
    awaiting_choice = State()
    awaiting_code = State()
    awaiting_password = State()


class Support(StatesGroup):
    in_handoff = State()
