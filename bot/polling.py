"""Long polling that confirms only handled updates: at-least-once in polling mode (PRODUCT §3).

aiogram's `start_polling` confirms an update (the next getUpdates' offset) as soon as it was
read, before its handler finished, so a process killed mid-update loses that update. Here the
offset moves only past the unbroken run of updates whose handling finished; everything after
the first unfinished one is delivered again to the next process, where `DuplicateUpdates`
skips what was already handled. Updates of different chats run in parallel, one chat's in the
order they came.

What can still be lost: an update whose handling has run longer than `UPDATE_ACK_TIMEOUT` is
confirmed anyway (so one stuck handler cannot hold every chat back), and is lost if the process
dies after that, as in webhook mode. While an unfinished update holds the offset back, Telegram
answers getUpdates at once, so instead of a long poll the loop asks again as soon as the oldest
unfinished update finishes, or after `POLLING_BUSY_INTERVAL` at most; at most a batch (100
updates) runs ahead of the oldest unfinished one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from aiogram.utils.backoff import Backoff, BackoffConfig
from aiohttp import web

from core.settings import Settings

log = logging.getLogger(__name__)
BATCH = 100  # Telegram's largest getUpdates limit
WebhookHandler = Callable[[web.Request], Awaitable[web.Response]]
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


def chat_of(update: Update) -> int | None:
    """The chat (or, without one, the user) whose updates must keep their order."""
    try:
        event = update.event
    except UpdateTypeLookupError:
        return None
    chat = getattr(event, "chat", None) or getattr(getattr(event, "message", None), "chat", None)
    if chat is not None:
        return int(chat.id)
    user = getattr(event, "from_user", None)
    return int(user.id) if user is not None else None


def poller(dispatcher: Dispatcher, bot: Bot, settings: Settings) -> Poller:
    """The polling loop with its timeouts from settings."""
    return Poller(
        dispatcher,
        bot,
        polling_timeout=settings.polling_timeout,
        busy_interval=settings.polling_busy_interval,
        ack_timeout=settings.update_ack_timeout,
        grace=settings.shutdown_grace,
    )


class Poller:
    """getUpdates in a loop, feeding the dispatcher; `stop()` finishes or abandons cleanly."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        polling_timeout: int = 10,
        busy_interval: float = 0.25,
        ack_timeout: float = 55.0,
        grace: float = 10.0,
        allowed_updates: list[str] | None = None,
        **data: Any,
    ) -> None:
        self.dispatcher, self.bot = dispatcher, bot
        self.polling_timeout, self.busy_interval = polling_timeout, busy_interval
        self.ack_timeout, self.grace = ack_timeout, grace
        self.allowed_updates = (
            allowed_updates
            if allowed_updates is not None
            else dispatcher.resolve_used_update_types()
        )
        self.data = {"dispatcher": dispatcher, "bots": [bot], **dispatcher.workflow_data, **data}
        self.offset: int | None = None  # the first update not confirmed yet
        self.sent_offset: int | None = None  # what Telegram was last told
        self._order: list[int] = []  # fetched, not yet confirmed, ascending
        self._finished: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._tails: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def run(self) -> None:
        """Poll until `stop()` (or cancellation); then running updates get `grace` seconds."""
        await self.dispatcher.emit_startup(bot=self.bot, **self.data)
        me = await self.bot.me()
        log.info("polling for updates as @%s", me.username)
        try:
            await self._loop()
        finally:
            try:
                await self._drain()
            finally:
                with contextlib.suppress(Exception):
                    await self.dispatcher.emit_shutdown(bot=self.bot, **self.data)
                self._stopped.set()

    def request_stop(self) -> None:
        """Stop polling now (a signal handler may call this); `run()` returns once drained."""
        self._stopping.set()
        self._wake.set()

    async def stop(self) -> None:
        self.request_stop()
        await self._stopped.wait()

    # --- the loop --------------------------------------------------------------------------

    async def _loop(self) -> None:
        backoff = Backoff(config=BACKOFF)
        while not self._stopping.is_set():
            try:
                updates = await self._fetch()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Telegram unreachable, 409, 5xx: try again later
                log.error("failed to fetch updates - %s: %s", type(error).__name__, error)
                await self._pause(next(backoff))
                continue
            if updates is None:  # stopping
                return
            backoff.reset()
            known = set(self._order)
            fresh = []
            for update in updates:  # what runs or waits for its confirmation is not started again
                if update.update_id not in known:
                    known.add(update.update_id)
                    fresh.append(update)
            for update in fresh:
                self._start(update)
            if not fresh and self._order and self._order[0] not in self._finished:
                # Only what is running came back: wait for the head to finish, or a while. A head
                # that finished during the call has woken us already: ask again at once.
                await self._pause(self.busy_interval)

    async def _fetch(self) -> list[Update] | None:
        """One getUpdates confirming what finished; None when stopping interrupted it."""
        self._advance()
        # With something unconfirmed Telegram answers at once anyway.
        timeout = 0 if self._order else self.polling_timeout
        method = GetUpdates(
            offset=self.offset, limit=BATCH, timeout=timeout, allowed_updates=self.allowed_updates
        )
        kwargs: dict[str, Any] = {}
        if self.bot.session.timeout:
            kwargs["request_timeout"] = int(self.bot.session.timeout + timeout)
        call = asyncio.ensure_future(self.bot(method, **kwargs))
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({call, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not call.done():
                call.cancel()
                # Waits for the call to end without taking its CancelledError for our own.
                await asyncio.wait({call})
        if not call.done() or call.cancelled():
            return None
        self.sent_offset = self.offset
        return list(call.result())

    async def _pause(self, seconds: float) -> None:
        self._wake.clear()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
        # comes as the event fires, and a stop by cancellation would then poll forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    def _advance(self) -> None:
        """Move the offset past the unbroken run of finished updates."""
        while self._order and self._order[0] in self._finished:
            done = self._order.pop(0)
            self._finished.discard(done)
            self.offset = max(self.offset or 0, done + 1)

    # --- one update ------------------------------------------------------------------------

    def _start(self, update: Update) -> None:
        update_id = update.update_id
        self._order.append(update_id)
        self._order.sort()
        chat = chat_of(update)
        previous = self._tails.get(chat) if chat is not None else None
        task = asyncio.create_task(self._handle(update, previous))
        self._tasks[update_id] = task
        if chat is not None:
            self._tails[chat] = task
        timer = asyncio.get_running_loop().call_later(self.ack_timeout, self._overdue, update_id)

        def finished(done: asyncio.Task[None]) -> None:
            timer.cancel()
            self._tasks.pop(update_id, None)
            if chat is not None and self._tails.get(chat) is done:
                del self._tails[chat]
            if not done.cancelled():
                self._finish(update_id)

        task.add_done_callback(finished)

    def _finish(self, update_id: int) -> None:
        if update_id in self._order:
            self._finished.add(update_id)
            if self._order[0] == update_id:
                self._wake.set()

    def _overdue(self, update_id: int) -> None:
        log.warning(
            "an update runs longer than UPDATE_ACK_TIMEOUT; it is confirmed before it finished",
            extra={"update_id": update_id},
        )
        self._finish(update_id)

    async def _handle(self, update: Update, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.wait({previous})  # the chat's earlier update first, whatever it did
        try:
            response = await self.dispatcher.feed_update(self.bot, update, **self.data)
            if isinstance(response, TelegramMethod):
                await self.dispatcher.silent_call_request(self.bot, response)
        except Exception:  # the error handler answered the person; this is a last resort
            log.exception("an update failed", extra={"update_id": update.update_id})

    # --- stopping --------------------------------------------------------------------------

    async def _drain(self) -> None:
        """Let running updates finish for `grace` seconds, abandon the rest (they stay
        unconfirmed, so the next process gets them again), and confirm what finished."""
        running = list(self._tasks.values())
        if running:
            await asyncio.wait(running, timeout=max(self.grace, 0.001))
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=1.0)
        if self._tasks:
            log.warning("%s updates abandoned at shutdown", len(self._tasks))
        self._advance()
        if self.offset is not None and self.offset != self.sent_offset:
            with contextlib.suppress(Exception):
                await self.bot(GetUpdates(offset=self.offset, limit=1, timeout=0))


class Handling:
    """The updates a dispatcher is handling, whether their webhook request is still open or was
    answered early (past `UPDATE_ACK_TIMEOUT`, when aiogram goes on in the background): what a
    stopping instance waits for, since an update answered early is never delivered again.

    The outermost update middleware, so an update waiting for its chat's lock counts as well.
    """

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(
        self,
        handler: Callable[[Any, dict[str, Any]], Awaitable[Any]],
        event: Any,
        data: dict[str, Any],
    ) -> Any:
        self.count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
            if self.count == 0:
                self._idle.set()

    async def settle(self, grace: float) -> int:
        """Wait up to `grace` seconds until no update is being handled; how many still are."""
        if self.count:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(grace, 0.0)):
                    await self._idle.wait()
        return self.count


_HANDLING: weakref.WeakKeyDictionary[Dispatcher, Handling] = weakref.WeakKeyDictionary()


def handling_of(dispatcher: Dispatcher) -> Handling:
    """The dispatcher's `Handling`, installed as its outermost update middleware on first use."""
    found = _HANDLING.get(dispatcher)
    if found is None:
        found = _HANDLING[dispatcher] = Handling()
        manager = dispatcher.update.outer_middleware
        others = list(manager)
        for middleware in others:
            manager.unregister(middleware)
        manager.register(found)
        for middleware in others:
            manager.register(middleware)
    return found


def webhook_handler(dispatcher: Dispatcher, bot: Bot, settings: Settings) -> WebhookHandler:
    """The webhook's request handler, aiogram's own: a request without Telegram's secret token
    (WEBHOOK_SECRET, compared in constant time) is refused with 401, and Telegram's request is
    answered only once the update was handled (PRODUCT §3), so a crash before that makes
    Telegram deliver it again. A handler that runs longer than `UPDATE_ACK_TIMEOUT` is answered
    anyway and finishes in the background (Telegram gives up on a request after 60 s); a crash
    after that is not lost to a SIGTERM (the instance waits for it, see `Handling`), only to a
    kill."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    handling_of(dispatcher)  # before the first update

    if settings.webhook_secret is None:
        raise ValueError("WEBHOOK_SECRET is required to serve the Telegram webhook")
    handler = SimpleRequestHandler(
        dispatcher=dispatcher,
        bot=bot,
        secret_token=settings.webhook_secret.get_secret_value(),
        handle_in_background=False,
        _timeout=settings.update_ack_timeout,  # passed on to Dispatcher.feed_webhook_update
    )
    return handler.handle
