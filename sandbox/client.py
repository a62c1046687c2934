"""A test client shaped like a person (and a support agent) talking to the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

Match = str | Callable[["ChatMessage"], bool]
Reader = Callable[[], Awaitable[tuple[list["ChatMessage"], int]]]
EVENT_WAIT = 2.0


class SandboxError(Exception):
    """The sandbox refused a person's action; carries its description."""


@dataclass(frozen=True)
class Button:
    """A button as the person sees it: its text, kind (callback, url, web_app…) and value."""

    text: str
    kind: str
    value: str


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
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> ChatMessage:
        rows = [[Button(b["text"], b["kind"], b["value"]) for b in row] for row in view["buttons"]]
        return cls(
            message_id=view["message_id"],
            text=view["text"],
            html=view["html"],
            from_bot=view["from"]["is_bot"],
            buttons=rows,
            deleted=view["deleted"],
            edited=view["edited"],
            kind=view["kind"],
            version=view["version"],
            thread_id=view["thread_id"],
            raw=view,
        )

    @property
    def button_texts(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]


def _matcher(match: Match) -> Callable[[ChatMessage], bool]:
    if isinstance(match, str):
        return lambda message: match in (message.text or "")
    return match


class Sandbox:
    """The sandbox's person API at base_url; makes people, groups and agents."""

    def __init__(self, base_url: str, *, bot: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot = bot
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, verb: str, path: str, **params: Any) -> Any:
        """One person-API request; the result, or SandboxError with the description."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        values = {key: value for key, value in params.items() if value is not None}
        if self.bot is not None:
            values.setdefault("bot", self.bot)
        url = f"{self.base_url}/sandbox/api/{path}"
        if verb == "GET":
            request = self._session.get(url, params={k: str(v) for k, v in values.items()})
        else:
            request = self._session.post(url, json=values)
        async with request as response:
            body = await response.json()
        if not body.get("ok"):
            raise SandboxError(body.get("description", "unknown error"))
        return body["result"]

    async def wait_event(self, since: int, seconds: float) -> int:
        """Block until the sandbox changes after version `since`, or `seconds` pass."""
        result = await self.call("GET", "events", since=since, timeout=round(seconds, 2))
        return int(result["version"])

    async def person(
        self,
        first_name: str = "Alice",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        phone_number: str | None = None,
    ) -> Person:
        data = await self.call(
            "POST",
            "people",
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone_number=phone_number,
        )
        return Person(self, data)

    async def group(self, title: str = "Support", *, is_forum: bool = True) -> dict[str, Any]:
        return dict(await self.call("POST", "groups", title=title, is_forum=is_forum))

    async def agent(
        self, group: dict[str, Any], first_name: str = "Agent", *, status: str = "administrator"
    ) -> Agent:
        person = await self.person(first_name)
        await self.call("POST", f"groups/{group['id']}/members", person_id=person.id, status=status)
        return Agent(self, person.data, group["id"])


class Waiter:
    """Waits for a bot message newer than the last action, by long-polling the event feed."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.mark = 0

    def seen(self, result: Any) -> Any:
        if isinstance(result, dict) and "version" in result:
            self.mark = max(self.mark, int(result["version"]))
        return result

    async def wait(self, read: Reader, match: Match, seconds: float) -> ChatMessage:
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
            if left <= 0:
                texts = [m.text for m in messages if m.from_bot and m.version > self.mark]
                raise TimeoutError(f"no bot message matched {match!r}; new ones: {texts!r}")
            await self.sandbox.wait_event(version, min(left, EVENT_WAIT))


class Person:
    """A person in a private chat with the bot: types, taps, shares, reads and waits."""

    def __init__(self, sandbox: Sandbox, data: dict[str, Any]) -> None:
        self.sandbox = sandbox
        self.data = data
        self.id: int = data["id"]
        self.first_name: str = data["first_name"]
        self.waiter = Waiter(sandbox)

    async def _act(self, action: str, **params: Any) -> Any:
        result = await self.sandbox.call("POST", f"people/{self.id}/{action}", **params)
        return self.waiter.seen(result)

    async def send(self, text: str) -> int:
        return int((await self._act("messages", text=text))["message_id"])

    async def start(self, payload: str | None = None) -> int:
        return int((await self._act("start", payload=payload))["message_id"])

    async def press(self, button_text: str, message_id: int | None = None) -> str | None:
        """Tap a button; a URL or Web App button gives back the URL to open."""
        result = await self._act("press", text=button_text, message_id=message_id)
        url = result.get("url")
        return str(url) if url is not None else None

    async def share_contact(self, phone: str | None = None, first_name: str | None = None) -> int:
        """Share one's own contact, or someone else's when a phone number is given."""
        result = await self._act("contact", phone_number=phone, first_name=first_name)
        return int(result["message_id"])

    async def send_sticker(self, emoji: str = "👍") -> int:
        return int((await self._act("sticker", emoji=emoji))["message_id"])

    async def send_photo(self, caption: str | None = None) -> int:
        return int((await self._act("photo", caption=caption))["message_id"])

    async def send_document(
        self, content: str = "hello", file_name: str = "notes.txt", caption: str | None = None
    ) -> int:
        result = await self._act("document", content=content, file_name=file_name, caption=caption)
        return int(result["message_id"])

    async def edit(self, message: ChatMessage | int, text: str) -> None:
        message_id = message if isinstance(message, int) else message.message_id
        await self._act("edit", message_id=message_id, text=text)

    async def forward(
        self, text: str, *, from_person: Person | None = None, from_name: str | None = None
    ) -> int:
        source = from_person.id if from_person else None
        result = await self._act("forward", text=text, from_person_id=source, from_name=from_name)
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
        return [[Button(b["text"], b["kind"], b["value"]) for b in row] for row in keyboard["rows"]]

    async def callback_answer(self) -> dict[str, Any] | None:
        answer = (await self.chat())["callback_answer"]
        return dict(answer) if answer is not None else None

    async def wait_for(self, match: Match, timeout: float = 5.0) -> ChatMessage:  # noqa: ASYNC109
        """The first bot message new or edited since the last action that matches."""
        return await self.waiter.wait(self._read, match, timeout)


class Agent:
    """A support agent in a forum supergroup: writes into topics and reads them."""

    def __init__(self, sandbox: Sandbox, data: dict[str, Any], group_id: int) -> None:
        self.sandbox = sandbox
        self.data = data
        self.id: int = data["id"]
        self.group_id = group_id
        self.waiter = Waiter(sandbox)

    async def _act(self, action: str, **params: Any) -> Any:
        path = f"groups/{self.group_id}/{action}"
        return self.waiter.seen(await self.sandbox.call("POST", path, person_id=self.id, **params))

    async def send(self, text: str, thread_id: int | None = None) -> int:
        result = await self._act("messages", text=text, message_thread_id=thread_id)
        return int(result["message_id"])

    async def send_photo(self, thread_id: int | None = None, caption: str | None = None) -> int:
        result = await self._act("photo", message_thread_id=thread_id, caption=caption)
        return int(result["message_id"])

    async def send_document(self, thread_id: int | None = None, content: str = "hello") -> int:
        result = await self._act("document", message_thread_id=thread_id, content=content)
        return int(result["message_id"])

    async def press(self, button_text: str, message_id: int | None = None) -> str | None:
        result = await self._act("press", text=button_text, message_id=message_id)
        url = result.get("url")
        return str(url) if url is not None else None

    async def group(self) -> dict[str, Any]:
        return dict(await self.sandbox.call("GET", f"groups/{self.group_id}", person_id=self.id))

    async def topics(self) -> list[dict[str, Any]]:
        return list((await self.group())["topics"])

    async def _read_thread(self, thread_id: int | None) -> tuple[list[ChatMessage], int]:
        group = await self.group()
        messages = [ChatMessage.from_view(m) for m in group["messages"]]
        if thread_id is not None:
            messages = [m for m in messages if m.thread_id == thread_id]
        return messages, group["version"]

    async def messages(self, thread_id: int | None = None) -> list[ChatMessage]:
        return (await self._read_thread(thread_id))[0]

    async def wait_for(
        self,
        match: Match,
        thread_id: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test reads best with wait_for(..., timeout=)
    ) -> ChatMessage:
        return await self.waiter.wait(lambda: self._read_thread(thread_id), match, timeout)
