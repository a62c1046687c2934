"""How fast the bot answers a step, through the whole sandbox: `python -m bench.bench_conversation`.

The baseline is a bare Bot API round trip (getMe) in the same run, so the figures are ratios on
whatever machine runs them; PRODUCT §1 asks every step to answer within a second.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiogram import Bot

from sandbox.client import Sandbox
from sandbox.stack import start_sandbox


async def main(people: int = 20) -> None:
    with tempfile.TemporaryDirectory() as folder:
        stack = await start_sandbox("127.0.0.1", 0, Path(folder), flood_limits=False)
        try:
            async with Sandbox(stack.url) as sandbox:
                baseline = await _round_trips(stack.bot, people)
                steps = await _steps(sandbox, people)
        finally:
            await stack.stop()
    base = statistics.median(baseline)
    median, p95 = statistics.median(steps), sorted(steps)[int(len(steps) * 0.95) - 1]
    print(f"getMe round trip (baseline): median {base * 1000:.1f} ms")
    print(f"/start answered:              median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    print(f"ratio to baseline:            median {median / base:.1f}x, p95 {p95 / base:.1f}x")


async def _round_trips(bot: Bot, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await bot.get_me()
        times.append(time.perf_counter() - start)
    return times


async def _steps(sandbox: Sandbox, n: int) -> list[float]:
    """Time from a person's /start to the bot's greeting, n people one after another."""
    times = []
    for i in range(n):
        person = await sandbox.person(f"Bench {i}", language_code="en")
        start = time.perf_counter()
        await person.start()
        await person.wait_for("Hello", timeout=10)
        times.append(time.perf_counter() - start)
    return times


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
