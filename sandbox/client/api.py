"""The person API's entry point: makes people, groups and agents."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from sandbox.client.agent import Agent
from sandbox.client.browser import new_browser
from sandbox.client.messages import WAIT, SandboxError, Settled
from sandbox.client.person import Person

# A person-API request is answered at once, or for a wait within its own timeout (at most 30 s):
# only a hang reaches this, once the request has its connection.
REQUEST_HANG = 300.0


class Sandbox:
    """The sandbox's person API at base_url; makes people, groups and agents."""

    def __init__(self, base_url: str, *, bot: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot = bot
        self._session: aiohttp.ClientSession | None = None
        self._browsers: list[aiohttp.ClientSession] = []

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        for session in [self._session, *self._browsers]:
            if session is not None:
                await session.close()

    def browser(self) -> aiohttp.ClientSession:
        """A browser of its own for one person: its own cookies, closed with the client."""
        session = new_browser()
        self._browsers.append(session)
        return session

    async def call(self, verb: str, path: str, **params: Any) -> Any:
        """One person-API request; the result, or SandboxError with the description."""
        if self._session is None:
            # aiohttp's pool of 100 connections stays: it bounds how many of a crowd's long
            # polls are parked at once, and every change to the sandbox wakes all of them (with
            # a connection each, 500 people's polls flooded the sandbox and answers came late).
            # But a request may wait for a free connection for as long as the crowd takes: only
            # a read is bounded. Under load a person's tap once waited out aiohttp's 300 s total
            # timeout in that queue behind 500 people's polls (docs/RELIABILITY.md §11).
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=REQUEST_HANG)
            )
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

    async def settle_or_change(self, since: int, seconds: float) -> Settled:
        """Block until the bots settled, the sandbox changed after `since`, or `seconds` pass."""
        result = await self.call("GET", "settled", since=since, timeout=round(seconds, 2))
        return Settled(int(result["version"]), bool(result["settled"]), bool(result["tracked"]))

    async def handling(self) -> Any:
        """What the bots have not finished yet: held and unfinished update ids, busy work."""
        return (await self.call("GET", "settled", timeout=0))["bots"]

    async def settled(self, timeout: float = WAIT) -> int:  # noqa: ASYNC109
        """Return once every update the sandbox holds for the bots was delivered and handled.

        For a bot in the sandbox's process (`accountbot sandbox`, the tests' stack) that means its
        handlers finished, their messages sent, and no notice from the web side is being told;
        for any other bot, only that it fetched its updates. Then "nothing (more) came" can be
        asserted. The sandbox's version at that moment is returned.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            result = await self.call("GET", "settled", timeout=round(max(left, 0), 2))
            if result["settled"]:
                return int(result["version"])
            if left <= 0 or result.get("closing"):
                raise TimeoutError(f"the bots did not settle: {result['bots']!r}")

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
