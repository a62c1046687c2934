"""A support agent in a forum supergroup, for tests and scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.client.messages import WAIT, ChatMessage, Match, Waiter

if TYPE_CHECKING:
    from sandbox.client.api import Sandbox


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

    async def send(
        self,
        text: str,
        thread_id: int | None = None,
        reply_to: int | None = None,
        *,
        quote: str | None = None,
    ) -> int:
        result = await self._act(
            "messages",
            text=text,
            message_thread_id=thread_id,
            reply_to_message_id=reply_to,
            quote=quote,
        )
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
        timeout: float = WAIT,  # noqa: ASYNC109 - a test reads best with wait_for(..., timeout=)
    ) -> ChatMessage:
        return await self.waiter.wait(lambda: self._read_thread(thread_id), match, timeout)

    async def settled(self, timeout: float = WAIT) -> None:  # noqa: ASYNC109
        """Once the bot has handled everything (`Sandbox.settled`): then "nothing came" holds."""
        await self.sandbox.settled(timeout)
