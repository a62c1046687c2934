"""Repeated trouble in a flow leads to a human (PRODUCT §1.4 step 4, §1.8)."""

from __future__ import annotations

from bot.talk import Talk

FAILURES_BEFORE_SUPPORT = 3  # wrong codes, "not arriving" and caps, counted together


async def note_failure(talk: Talk, reason: str) -> None:
    """Count one more trouble in this flow; from the third on, offer support."""
    failures = int(await talk.recall("failures", 0)) + 1
    await talk.remember(failures=failures)
    if failures >= FAILURES_BEFORE_SUPPORT:
        await offer_support(talk, reason)


async def offer_support(talk: Talk, reason: str) -> None:
    from bot.routers import support

    await support.offer(talk, reason=reason)
