"""Entry points of the flows by name, for deep links (PRODUCT §1.1 step 9) and the card's buttons.

Only the card and /start open flows by name (`bot.routers.card`, `bot.routers.start`), and no
flow imports this table, so it imports the flows themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from bot.routers import bind_email, bind_phone, delete, recovery, settings, support
from bot.routers.steps import password
from bot.talk import SignedTalk

Begin = Callable[[SignedTalk], Awaitable[None]]
DEEP_LINKS = ("bind_email", "bind_phone", "support")
MENU = (
    "email",
    "phone",
    "password",
    "support",
    "unbind_email",
    "unbind_phone",
    "recover",
    "delete",
)

FLOWS: Mapping[str, Begin] = {
    "bind_email": bind_email.begin,
    "email": bind_email.begin,
    "bind_phone": bind_phone.begin,
    "phone": bind_phone.begin,
    "password": password.begin,
    "support": support.begin,
    "unbind_email": settings.unbind_email,
    "unbind_phone": settings.unbind_phone,
    "recover": recovery.begin,
    "delete": delete.begin,
}


def begin(name: str) -> Begin | None:
    """The coroutine that starts a flow by its deep-link or menu name."""
    return FLOWS.get(name)


async def open_deep_link(talk: SignedTalk, payload: str) -> None:
    flow = begin(payload)
    if flow is not None:
        await talk.state.clear()
        await flow(talk)
