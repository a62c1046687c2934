"""Repeated trouble in a flow leads to a human (PRODUCT §1.4 step 4, §1.8).

Support is offered once per step: after the third trouble of the flow, then again in the same
step only when a kind of trouble not seen before the last offer comes (a wrong code, a code
not arriving, a cap reached). Every later wrong code is answered for what it is, and nothing
more.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import Step
from bot.keyboards import flow as buttons
from bot.talk import Talk

FAILURES_BEFORE_SUPPORT = 3  # wrong codes, "not arriving" and caps, counted together
SUPPORT = "support"  # the flow of the offer's buttons, answered by `bot.routers.support`


class Trouble(StrEnum):
    WRONG_CODE = "wrong_code"
    NOT_ARRIVING = "not_arriving"
    CAP = "cap"


async def note_failure(talk: Talk, reason: str, kind: Trouble = Trouble.WRONG_CODE) -> None:
    """Count one more trouble in this flow; from the third on, offer support (once per step)."""
    failures = int(await talk.recall("failures", 0)) + 1
    await talk.remember(failures=failures)
    if await _offer_due(talk, kind, counted=failures >= FAILURES_BEFORE_SUPPORT):
        await offer_support(talk, reason)


async def refuse_at_cap(talk: Talk, reason: str, refusal: str) -> None:
    """A cap reached: the refusal, carrying the offer's buttons unless this step had the offer
    for it already (one message, not the refusal and then a second one asking)."""
    due = await _offer_due(talk, Trouble.CAP, counted=True)
    await talk.say(refusal, offer_buttons(reason) if due else None)


async def offer_support(talk: Talk, reason: str) -> None:
    """After repeated trouble in a flow: ask before handing over; the step stays as it is."""
    await talk.say(
        _("Looks like something is not working. Would you like to write to support?"),
        offer_buttons(reason),
    )


def hand_over_data(reason: str) -> str:
    """A button's callback that opens the support conversation at once, for `reason`: the
    offer's "Yes, write to support", or a choice of support the person already made."""
    return Step(flow=SUPPORT, choice=f"yes.{reason}").pack()


def offer_buttons(reason: str) -> InlineKeyboardMarkup:
    options = [(f"yes.{reason}", _("Yes, write to support")), ("no", _("No, thanks"))]
    return buttons.choices(SUPPORT, options, with_back=False)


async def _offer_due(talk: Talk, kind: Trouble, *, counted: bool) -> bool:
    """Note `kind` among this step's troubles. True when enough trouble was `counted` and a kind
    seen in this step is one the step's last offer did not cover; that offer is then made."""
    step = await talk.state.get_state() or ""
    troubles = dict(await talk.recall("troubles", {}))
    seen, offered = troubles.get(step, ([], []))
    seen = sorted({*seen, kind.value})
    due = counted and not set(seen) <= set(offered)
    troubles[step] = (seen, seen if due else offered)
    await talk.remember(troubles=troubles)
    return due
