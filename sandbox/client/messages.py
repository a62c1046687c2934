"""What the test client reads: messages and buttons as a person sees them, and waiting for one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

Match = str | Callable[["ChatMessage"], bool]
Reader = Callable[[], Awaitable[tuple[list["ChatMessage"], int]]]
EVENT_WAIT = 2.0
# How long a wait may take while the bot is still at work. A bot that has handled everything
# without sending the message fails the wait at once (`NoAnswer`), so this bounds a hang only.
WAIT = 30.0


class SandboxError(Exception):
    """The sandbox refused a person's action; carries its description."""


class NoAnswer(TimeoutError):
    """The bot handled every update it was given and did not send what was waited for."""


class Settled(NamedTuple):
    """One look at the settle barrier: the sandbox's version and whether the bots settled."""

    version: int
    settled: bool
    tracked: bool


class EventFeed(Protocol):
    """Whatever can block until the sandbox changes (the Sandbox client)."""

    async def wait_event(self, since: int, seconds: float) -> int: ...

    async def settle_or_change(self, since: int, seconds: float) -> Settled: ...

    async def handling(self) -> Any: ...


class Button(NamedTuple):
    """A button as the person sees it: its text, kind (callback, url, web_app…) and value."""

    text: str
    kind: str
    value: str


def button_rows(rows: list[list[dict[str, str]]]) -> list[list[Button]]:
    return [[Button(b["text"], b["kind"], b["value"]) for b in row] for row in rows]


@dataclass(frozen=True)
class ChatMessage:
    """One message of a chat as the person sees it."""

    message_id: int
    text: str | None
    html: str
    from_bot: bool
    buttons: list[list[Button]]
    deleted: bool
    edited: bool
    kind: str
    version: int
    thread_id: int | None
    reply_keyboard: list[list[Button]] | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> ChatMessage:
        keyboard = view.get("reply_keyboard")
        return cls(
            message_id=view["message_id"],
            text=view["text"],
            html=view["html"],
            from_bot=view["from"]["is_bot"],
            buttons=button_rows(view["buttons"]),
            deleted=view["deleted"],
            edited=view["edited"],
            kind=view["kind"],
            version=view["version"],
            thread_id=view["thread_id"],
            reply_keyboard=None if keyboard is None else button_rows(keyboard),
            raw=view,
        )

    @property
    def forwarded_from(self) -> str | None:
        """The name a forward shows (a person, a hidden name, a channel), else None."""
        name = self.raw.get("forwarded_from")
        return None if name is None else str(name)

    @property
    def reply_to(self) -> int | None:
        """The message this one answers, else None."""
        replied = self.raw.get("reply_to")
        return None if replied is None else int(replied["message_id"])

    @property
    def button_texts(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]


def _matcher(match: Match) -> Callable[[ChatMessage], bool]:
    if isinstance(match, str):
        return lambda message: match in (message.text or "")
    return match


class Waiter:
    """Waits for a bot message newer than the last action, by long-polling the event feed."""

    def __init__(self, sandbox: EventFeed) -> None:
        self.sandbox = sandbox
        self.mark = 0

    def seen(self, result: Any) -> Any:
        if isinstance(result, dict) and "version" in result:
            self.mark = max(self.mark, int(result["version"]))
        return result

    async def wait(self, read: Reader, match: Match, seconds: float) -> ChatMessage:
        """The first fresh bot message that matches; it may come while the bot is at work.

        Nothing new after the bot (one that reports its handling) settled: `NoAnswer` at once.
        """
        check = _matcher(match)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            messages, version = await read()
            for message in messages:
                fresh = message.from_bot and not message.deleted and message.version > self.mark
                if fresh and check(message):
                    return message
            left = deadline - loop.time()
            texts = [m.text for m in messages if m.from_bot and m.version > self.mark]
            if left <= 0:
                raise TimeoutError(
                    f"no bot message matched {match!r}; new ones: {texts!r}; "
                    f"the bot's updates: {await self.sandbox.handling()!r}"
                )
            seen = await self.sandbox.settle_or_change(version, min(left, EVENT_WAIT))
            if seen.settled and seen.tracked and seen.version == version:
                raise NoAnswer(
                    f"the bot handled every update and no message matched {match!r}; "
                    f"new ones: {texts!r}"
                )
