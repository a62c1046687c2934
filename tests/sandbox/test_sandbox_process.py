"""`accountbot sandbox` as a person runs it, stopped the ways people stop it: SIGKILL, SIGTERM,
and SIGINT in the background. Telegram's side is never mixed up: people, their chats and the
next ids survive any stop (issue #15)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

OWN_TOKEN = "424242:own-bot-secret"
OWN_BOT = "own_test_bot"
READY = re.compile(r"Open (http://127\.0\.0\.1:\d+)/ in your browser")
START_BOUND = 180.0  # bounds a hang only: starting under a loaded machine takes a while
# Settings a developer's shell may hold: the sandbox would take them (that is the point).
FOREIGN = ("REDIS_URL", "DATABASE_URL", "RESEND_COOLDOWN", "SMTP_HOST", "SMTP_PORT")


@dataclass
class Process:
    process: asyncio.subprocess.Process
    url: str
    output: list[str]

    async def call(self, verb: str, path: str, **body: Any) -> Any:
        async with aiohttp.ClientSession() as http:
            async with http.request(verb, self.url + path, json=body or None) as answer:
                data = await answer.json()
        assert data["ok"], data
        return data["result"]

    async def stopped(self) -> int:
        async with asyncio.timeout(START_BOUND):
            code = await self.process.wait()
            rest = await self.process.stdout.read() if self.process.stdout else b""
        self.output.extend(rest.decode(errors="replace").splitlines())
        return code


@asynccontextmanager
async def sandbox_process(
    data: Path, *, background: bool = False, extra_env: dict[str, str] | None = None
) -> AsyncIterator[Process]:
    """`accountbot sandbox --port 0` in its own process; `background`: SIGINT ignored, as a
    shell does for `accountbot sandbox &`."""
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN}
    env.update(extra_env or {})
    command = ["-m", "accountbot", "sandbox", "--port", "0", "--data", str(data)]
    command += ["--bot", f"{OWN_TOKEN}={OWN_BOT}"]

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        cwd=data.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        preexec_fn=ignore_sigint if background else None,
    )
    output: list[str] = []
    try:
        async with asyncio.timeout(START_BOUND):
            assert process.stdout is not None
            while True:
                line = (await process.stdout.readline()).decode(errors="replace")
                if not line:
                    raise AssertionError("the sandbox did not start:\n" + "\n".join(output))
                output.append(line.rstrip())
                found = READY.search(line)
                if found:
                    break
        yield Process(process, found.group(1), output)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def own_updates(running: Process, offset: int = 0) -> list[dict[str, Any]]:
    """getUpdates for the test's own bot, as any client library would call it."""
    updates: list[dict[str, Any]] = await running.call(
        "POST", f"/bot{OWN_TOKEN}/getUpdates", offset=offset, timeout=0
    )
    return updates


async def test_a_killed_sandbox_keeps_people_chats_and_ids(tmp_path: Path) -> None:
    data = tmp_path / "sandbox"
    async with sandbox_process(data) as first:
        ivan = await first.call("POST", "/sandbox/api/people", first_name="Ivan")
        await first.call("POST", f"/sandbox/api/people/{ivan['id']}/start", bot=OWN_BOT)
        await first.call(
            "POST", f"/sandbox/api/people/{ivan['id']}/messages", text="hello", bot=OWN_BOT
        )
        seen = [update["update_id"] for update in await own_updates(first)]
        assert len(seen) == 2
        first.process.kill()  # SIGKILL: nothing is written on the way out
        await first.stopped()

    async with sandbox_process(data) as second:
        people = await second.call("GET", "/sandbox/api/people")
        assert [p["id"] for p in people if p["first_name"] == "Ivan"] == [ivan["id"]]
        chat = await second.call("GET", f"/sandbox/api/people/{ivan['id']}/chat?bot={OWN_BOT}")
        assert [m["text"] for m in chat["messages"]] == ["/start", "hello"]
        olga = await second.call("POST", "/sandbox/api/people", first_name="Olga")
        assert olga["id"] not in [p["id"] for p in people]
        assert olga["id"] > ivan["id"]
        await second.call(
            "POST", f"/sandbox/api/people/{ivan['id']}/messages", text="again", bot=OWN_BOT
        )
        after = await own_updates(second, offset=max(seen) + 1)
        assert [u["message"]["text"] for u in after] == ["again"]
        assert after[0]["update_id"] > max(seen)


@pytest.mark.parametrize(
    ("signum", "background"),
    [(signal.SIGTERM, False), (signal.SIGTERM, True), (signal.SIGINT, True)],
    ids=["sigterm", "sigterm-background", "sigint-background"],
)
async def test_sigterm_and_sigint_stop_it_cleanly(
    tmp_path: Path, signum: signal.Signals, background: bool
) -> None:
    data = tmp_path / "sandbox"
    async with sandbox_process(data, background=background) as running:
        ivan = await running.call("POST", "/sandbox/api/people", first_name="Ivan")
        running.process.send_signal(signum)
        assert await running.stopped() == 0, "\n".join(running.output)
    assert "The sandbox has stopped." in running.output
    world = json.loads((data / "telegram.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in world["people"] if p["first_name"] == "Ivan"] == [ivan["id"]]
    assert not (data / "telegram.journal").exists()  # folded into the world's file
