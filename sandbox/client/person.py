"""A person in a private chat with the bot, for tests and scripts."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp

from sandbox.client.browser import OpenedPage, open_page
from sandbox.client.messages import (
    EVENT_WAIT,
    WAIT,
    Button,
    ChatMessage,
    Match,
    SandboxError,
    Waiter,
    button_rows,
)

if TYPE_CHECKING:
    from sandbox.client.api import Sandbox


class Person:
    """A person in a private chat with the bot: types, taps, shares, reads and waits."""

    def __init__(self, sandbox: Sandbox, data: dict[str, Any]) -> None:
        self.sandbox = sandbox
        self.data = data
        self.id: int = data["id"]
        self.first_name: str = data["first_name"]
        self.waiter = Waiter(sandbox)
        self._browser: aiohttp.ClientSession | None = None
        self._query_id: str | None = None

    async def _act(self, action: str, **params: Any) -> Any:
        result = await self.sandbox.call("POST", f"people/{self.id}/{action}", **params)
        return self.waiter.seen(result)

    async def send(
        self, text: str, reply_to: ChatMessage | int | None = None, *, quote: str | None = None
    ) -> int:
        """Write `text`; `reply_to` answers a message (the bot gets reply_to_message), `quote`
        a part of its text (the bot gets `quote`)."""
        result = await self._act(
            "messages", text=text, reply_to_message_id=_id_of(reply_to), quote=quote
        )
        return int(result["message_id"])

    async def reply(self, message: ChatMessage | int, text: str, quote: str | None = None) -> int:
        """Answer a message, as a swipe to reply does."""
        return await self.send(text, message, quote=quote)

    async def start(self, payload: str | None = None) -> int:
        return int((await self._act("start", payload=payload))["message_id"])

    async def press(self, button_text: str, message_id: int | None = None) -> str | None:
        """Tap a button; a URL or Web App button gives back the URL to open."""
        result = await self._act("press", text=button_text, message_id=message_id)
        self._query_id = result.get("query_id", self._query_id)
        url = result.get("url")
        return str(url) if url is not None else None

    async def share_contact(self, phone: str | None = None, first_name: str | None = None) -> int:
        """Share one's own contact, or someone else's when a phone number is given."""
        result = await self._act("contact", phone_number=phone, first_name=first_name)
        return int(result["message_id"])

    async def send_sticker(self, emoji: str = "👍") -> int:
        return int((await self._act("sticker", emoji=emoji))["message_id"])

    async def send_photo(
        self, caption: str | None = None, reply_to: ChatMessage | int | None = None
    ) -> int:
        result = await self._act("photo", caption=caption, reply_to_message_id=_id_of(reply_to))
        return int(result["message_id"])

    async def send_document(
        self, content: str = "hello", file_name: str = "notes.txt", caption: str | None = None
    ) -> int:
        result = await self._act("document", content=content, file_name=file_name, caption=caption)
        return int(result["message_id"])

    async def edit(self, message: ChatMessage | int, text: str) -> None:
        """Edit one's own message: its text, or a photo's (a file's) caption."""
        message_id = message if isinstance(message, int) else message.message_id
        await self._act("edit", message_id=message_id, text=text)

    async def forward(
        self,
        text: str | None = None,
        *,
        message: ChatMessage | int | None = None,
        from_person: Person | None = None,
        from_name: str | None = None,
        from_channel: str | None = None,
    ) -> int:
        """Forward into the chat with the bot: one of this chat's messages (`message`, the bot's
        say: its content and origin), or a `text` from another person, a hidden name or a
        channel (the bot gets forward_origin of type user, hidden_user or channel)."""
        source = from_person.id if from_person else None
        result = await self._act(
            "forward",
            text=text,
            message_id=_id_of(message),
            from_person_id=source,
            from_name=from_name,
            from_chat_title=from_channel,
        )
        return int(result["message_id"])

    async def chat(self) -> dict[str, Any]:
        return dict(await self.sandbox.call("GET", f"people/{self.id}/chat"))

    async def _read(self) -> tuple[list[ChatMessage], int]:
        chat = await self.chat()
        return [ChatMessage.from_view(m) for m in chat["messages"]], chat["version"]

    async def messages(self) -> list[ChatMessage]:
        """Every message in order, deleted ones included and flagged."""
        return (await self._read())[0]

    async def last_message(self) -> ChatMessage | None:
        """The bot's newest message that is still there."""
        shown = [m for m in await self.messages() if m.from_bot and not m.deleted]
        return shown[-1] if shown else None

    async def reply_keyboard(self) -> list[list[Button]] | None:
        keyboard = (await self.chat())["reply_keyboard"]
        if keyboard is None:
            return None
        return button_rows(keyboard["rows"])

    async def callback_answer(self) -> dict[str, Any] | None:
        answer = (await self.chat())["callback_answer"]
        return dict(answer) if answer is not None else None

    async def wait_for_answer(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The bot's answer to the inline button pressed last (it comes asynchronously)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            chat = await self.chat()
            answer = chat["callback_answer"]
            if answer is not None and answer["query_id"] == self._query_id:
                return dict(answer)
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"the bot did not answer the press (query {self._query_id})")
            await self.sandbox.wait_event(chat["version"], min(left, EVENT_WAIT))

    async def wait_for(self, match: Match, timeout: float = WAIT) -> ChatMessage:  # noqa: ASYNC109
        """The first bot message new or edited since the last action that matches.

        Fails at once (`NoAnswer`) when the bot has handled everything and none matched.
        """
        return await self.waiter.wait(self._read, match, timeout)

    async def settled(self, timeout: float = WAIT) -> None:  # noqa: ASYNC109
        """Once the bot has handled everything (`Sandbox.settled`): then "nothing came" holds."""
        await self.sandbox.settled(timeout)

    async def open_link(self, target: str) -> OpenedPage:
        """Open a URL, a link in the bot's messages (by its text) or a link button."""
        url = target if "://" in target else await self._link_named(target)
        # Opening a link is an action too: wait_for then looks only at what comes after it.
        self.waiter.mark = max(self.waiter.mark, await self.sandbox.wait_event(0, 0))
        if self._browser is None:
            self._browser = self.sandbox.browser()
        return await open_page(self._browser, url)

    async def _link_named(self, text: str) -> str:
        for message in reversed(await self.messages()):
            for link in message.raw.get("links", []) if message.from_bot else []:
                if text in (link["text"], link["url"]):
                    return str(link["url"])
        url = await self.press(text)
        if url is None:
            raise SandboxError(f"{text!r} is neither a link nor a link button")
        return url

    async def press_data(
        self, message: ChatMessage | int, data: str, *, stale: bool = False
    ) -> str:
        """Send callback `data` on a message, whatever its buttons (a forged or a stale button).

        `stale`: the message comes as Telegram's InaccessibleMessage (too old, or deleted).
        """
        message_id = message if isinstance(message, int) else message.message_id
        result = await self._act("callback", message_id=message_id, data=data, inaccessible=stale)
        self._query_id = str(result["query_id"])
        return self._query_id

    async def send_media(self, kind: str, caption: str | None = None) -> int:
        """A voice message, audio, video, video_note or animation."""
        return int((await self._act("media", kind=kind, caption=caption))["message_id"])

    async def send_voice(self) -> int:
        return await self.send_media("voice")

    async def send_video(self, caption: str | None = None) -> int:
        return await self.send_media("video", caption)

    async def send_location(
        self, latitude: float = 55.7558, longitude: float = 37.6173, title: str | None = None
    ) -> int:
        """A location; a venue when `title` is given."""
        result = await self._act("location", latitude=latitude, longitude=longitude, title=title)
        return int(result["message_id"])

    async def send_poll(
        self, question: str = "Question?", options: tuple[str, ...] = ("Yes", "No")
    ) -> int:
        result = await self._act("poll", question=question, options="|".join(options))
        return int(result["message_id"])

    async def answer_poll(self, poll_id: str, option_ids: tuple[int, ...] = (0,)) -> None:
        await self._act("poll_answer", poll_id=poll_id, option_ids=",".join(map(str, option_ids)))

    async def send_dice(self, emoji: str = "🎲") -> int:
        return int((await self._act("dice", emoji=emoji))["message_id"])


def _id_of(message: ChatMessage | int | None) -> int | None:
    return message if message is None or isinstance(message, int) else message.message_id
