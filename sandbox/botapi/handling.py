"""The settle barrier: whether a bot has handled every update the sandbox holds for it.

Telegram cannot know when a bot has finished with an update; the sandbox can, for a bot that runs
in its own process and reports it (`accountbot.settling` does, for the account assistant). The
sandbox knows which updates it still holds and which it handed out (getUpdates); the bot reports
when it starts and finishes each one, and any work it does off an update (a notice from the web
side). `GET /sandbox/api/settled` answers once nothing is held or in flight, so a test can say
"nothing more came" without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.botapi.errors import bad_request
from sandbox.botapi.models import Signal
from sandbox.botapi.params import Params

if TYPE_CHECKING:
    from sandbox.botapi.calls import Call, Handler
    from sandbox.botapi.state import BotAccount, SandboxState

MAX_SETTLE_WAIT = 60.0


@dataclass
class Handling:
    """What a bot in this process did with its updates; one per bot account."""

    reporters: int = 0
    unfinished: set[int] = field(default_factory=set)
    finished: set[int] = field(default_factory=set)
    busy: int = 0
    signal: Signal = field(default_factory=Signal)

    @property
    def reported(self) -> bool:
        """A bot reports its handling now, so `settled` means handled, not only delivered."""
        return self.reporters > 0

    def attach(self) -> None:
        self.reporters += 1
        self.signal.fire()

    def detach(self) -> None:
        self.reporters = max(self.reporters - 1, 0)
        self.signal.fire()

    def delivered(self, update_ids: Iterable[int]) -> None:
        """getUpdates handed these out: they are the bot's to finish (again, if redelivered)."""
        if self.reported:
            self.unfinished.update(i for i in update_ids if i not in self.finished)

    def started(self, update_id: int) -> None:
        self.finished.discard(update_id)
        self.unfinished.add(update_id)
        self.signal.fire()

    def done(self, update_id: int) -> None:
        self.unfinished.discard(update_id)
        self.finished.add(update_id)
        self.signal.fire()

    def abandoned(self, update_id: int) -> None:
        """Handling was cancelled (the bot stopped): the update stays unfinished until redone."""
        self.signal.fire()

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """Work the bot does off an update (a notice from the web side) holds the barrier."""
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1
            self.signal.fire()

    def settled(self, bot: BotAccount) -> bool:
        """Nothing held for the bot that it has not finished, nothing in flight, nothing busy."""
        held = [int(update["update_id"]) for update in bot.updates]
        # Updates before the oldest one held were confirmed: they never come again.
        floor = min(held, default=bot.next_update_id)
        self.finished = {i for i in self.finished if i >= floor}
        # With `deliver_twice` a held update comes again once confirmed, or is that second copy.
        again = any(bot.deliver_twice or i in bot.repeated for i in held)
        done = all(i in self.finished for i in held)
        return not self.unfinished and not self.busy and done and not again

    def describe(self, bot: BotAccount) -> dict[str, Any]:
        held = [int(update["update_id"]) for update in bot.updates]
        return {
            "held": [
                i for i in held if i not in self.finished or bot.deliver_twice or i in bot.repeated
            ],
            "unfinished": sorted(self.unfinished),
            "busy": self.busy,
        }


def counting_deliveries(get_updates: Handler) -> Handler:
    """getUpdates that tells the barrier what it handed out and when it confirmed an offset."""

    async def counted(call: Call) -> Any:
        # The offset is confirmed before the poll parks: a waiting barrier looks again then.
        asyncio.get_running_loop().call_soon(call.bot.handling.signal.fire)
        result = await get_updates(call)
        if isinstance(result, list):
            call.bot.handling.delivered(int(update["update_id"]) for update in result)
        return result

    return counted


async def _any_fired(signals: list[Signal], seconds: float) -> None:
    waits = [asyncio.ensure_future(signal.wait(seconds)) for signal in signals]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


async def settle(state: SandboxState, params: Params, request: web.Request) -> Any:
    """Long poll: answers once the bots settled, the version passed `since`, or at the timeout.

    `settled` is true when every update held for the bots (all, or the one named by `bot`) was
    delivered and, for a bot that reports its handling (`tracked`), finished.
    """
    since = params.integer("since")
    try:
        wait = min(float(params.text("timeout") or 25), MAX_SETTLE_WAIT)
    except ValueError:
        raise bad_request("timeout must be a number of seconds") from None
    ref = params.text("bot")
    bots = [state.find_bot(ref)] if ref else list(state.bots.values())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        settled = all(bot.handling.settled(bot) for bot in bots)
        left = deadline - loop.time()
        moved = since is not None and state.version > since
        if settled or moved or left <= 0 or state.closing:
            break
        await _any_fired([state.changed, *(bot.handling.signal for bot in bots)], left)
    return {
        "settled": settled,
        "tracked": any(bot.handling.reported for bot in bots),
        "version": state.version,
        "closing": state.closing,
        "bots": {str(bot.id): bot.handling.describe(bot) for bot in bots},
    }
