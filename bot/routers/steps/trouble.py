"""Repeated trouble in a flow leads to a human (PRODUCT §1.4 step 4, §1.8)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.keyboards import flow as buttons
from bot.talk import Talk

FAILURES_BEFORE_SUPPORT = 3  # wrong codes, "not arriving" and caps, counted together
SUPPORT = "support"  # the flow of the offer's buttons, answered by `bot.routers.support`


async def note_failure(talk: Talk, reason: str) -> None:
    """Count one more trouble in this flow; from the third on, offer support."""
    failures = int(await talk.recall("failures", 0)) + 1
    await talk.remember(failures=failures)
    if failures >= FAILURES_BEFORE_SUPPORT:
        await offer_support(talk, reason)


async def offer_support(talk: Talk, reason: str) -> None:
    """After repeated trouble in a flow: ask before handing over; the step stays as it is."""
    options = [(f"yes.{reason}", _("Yes, write to support")), ("no", _("No, thanks"))]
    await talk.say(
        _("Looks like something is not working. Would you like to write to support?"),
        buttons.choices(SUPPORT, options, with_back=False),
    )
