"""How a sub-conversation hands back to the conversation that called it.

The password step and the address-taken step are asked for by several flows and must return to
the one that asked. They know none of them: `bot.routers` fills this table where it assembles the
routers, from the state that asked for the password, or the kind of the taken address, to what
comes next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiogram.fsm.state import State

from bot.talk import SignedTalk
from core.domain.models import AddressKind

Next = Callable[[SignedTalk], Awaitable[None]]


class Returns:
    """`password`: the state that asked for a password -> the step after it. `bind`: the kind
    of a taken address -> binding another one of that kind, from its first step. `back`: a step
    -> the step before it, where "« Back" leads (a step not listed goes back to the card).
    `again`: a step -> asking it again as it stands, its text and its buttons, with nothing
    sent, reset or counted (after /language; a step not listed gets its hint)."""

    def __init__(
        self,
        *,
        password: Mapping[State, Next],
        bind: Mapping[AddressKind, Next],
        back: Mapping[State, Next] | None = None,
        again: Mapping[State, Next] | None = None,
    ) -> None:
        self.asking_password = tuple(password)
        self._password = {str(state.state): then for state, then in password.items()}
        self._bind = dict(bind)
        self._back = {str(state.state): then for state, then in (back or {}).items()}
        self._again = {str(state.state): then for state, then in (again or {}).items()}

    async def back(self, talk: SignedTalk) -> bool:
        """ "« Back": the step before the one the person is at; False when that is the card."""
        then = self._back.get(await talk.state.get_state() or "")
        if then is None:
            return False
        await then(talk)
        return True

    def again(self, state: str | None) -> Next | None:
        """How to ask this step again whole, in the language now in use; None when it cannot
        be (or there is no step)."""
        return self._again.get(state or "")

    async def after_password(self, talk: SignedTalk) -> bool:
        """Go on with the step that asked for the password; False when none did (the card's own
        "change password")."""
        then = self._password.get(await talk.state.get_state() or "")
        if then is None:
            return False
        await then(talk)
        return True

    async def bind_again(self, talk: SignedTalk, kind: AddressKind) -> None:
        """Back to step 1 of binding an address of this kind."""
        await talk.state.clear()
        await self._bind[kind](talk)
