"""Hashing beside chatting, and sign-in against raw argon2 (memory + SQLite, in-process).

`/me` is fed to the full bot one at a time, idle and then while passwords are hashed through the
product's hasher at the rate one core sustains (measured first, in the same run). `POST
/auth/login` is served by the product's web application and called by two clients at once; the
baseline is argon2's verify with the same parameters, two threads at once, in the same run.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher, Type

from bench import dispatch
from bench.common import Size, percentile, stats

CLIENTS = 2  # concurrent sign-ins, and concurrent raw verifies (the machine has two cores)
PAUSE = 0.01  # between two /me of the latency probe
PROBE_LIMIT = 60.0  # seconds at most per probe, however slow /me became
BACKLOG = 0.5  # seconds of hashes at most waiting for the pool; beyond it the next ones wait


def raw_hasher(settings: Any) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )


def one_core_hash_rate(hasher: PasswordHasher) -> float:
    """Hashes per second on one core: sequential, in this thread, for about a second."""
    count, start = 0, time.perf_counter()
    while count < 3 or time.perf_counter() - start < 1.0:
        hasher.hash(dispatch.PASSWORD)
        count += 1
    return count / (time.perf_counter() - start)


async def me_latencies(target: dispatch.Target, samples: int) -> list[float]:
    """`samples` /me one after another, or as many as fit in PROBE_LIMIT seconds."""
    people = target.take(min(samples, 20))
    times: list[float] = []
    end = time.perf_counter() + PROBE_LIMIT
    for i in range(samples):
        if time.perf_counter() > end:
            break
        update = target.updates.text(people[i % len(people)], "/me")
        start = time.perf_counter()
        await target.feed(update)
        times.append(time.perf_counter() - start)
        await asyncio.sleep(PAUSE)
    return times


async def hashing_load(services: Any, rate: float, stop: asyncio.Event) -> tuple[int, int]:
    """Hash through the product's hasher at `rate` per second until told to stop: how many
    were offered, and how many of them the hasher refused as over its bound (`Busy`)."""
    from core.errors import Busy

    pending: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    start, done = loop.time(), 0
    refused: list[Busy] = []

    async def one() -> None:
        try:
            await services.kit.hasher.hash(dispatch.PASSWORD)
        except Busy as error:
            refused.append(error)

    # Hashes are offered at `rate`; when the pool is behind by more than BACKLOG, the offer waits
    # (and the figure says how many were done per second).
    while not stop.is_set():
        due = int((loop.time() - start) * rate) + 1
        while done < due and len(pending) < max(1, rate * BACKLOG):  # the pool is not flooded
            task = asyncio.create_task(one())
            pending.add(task)
            task.add_done_callback(pending.discard)
            done += 1
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*pending)
    return done, len(refused)


async def me_while_hashing(size: Size) -> dict[str, Any]:
    async with dispatch.full_bot("memory", 60) as target:
        await me_latencies(target, 5)  # warm up
        rate = one_core_hash_rate(raw_hasher(target.services.settings))
        idle = await me_latencies(target, size.me_samples)
        stop = asyncio.Event()
        load = asyncio.create_task(hashing_load(target.services, rate, stop))
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        busy = await me_latencies(target, size.me_samples)
        stop.set()
        hashed, refused = await load
        seconds = time.perf_counter() - started + 0.2
    return {
        "me_p50_ms_idle": percentile(idle, 50) * 1000,
        "me_p99_ms_idle": percentile(idle, 99) * 1000,
        "me_p50_ms_hashing": percentile(busy, 50) * 1000,
        "me_p99_ms_hashing": percentile(busy, 99) * 1000,
        "hashes_per_s_one_core": rate,
        "hashes_per_s_during_probe": (hashed - refused) / seconds,
        "hashes_refused_during_probe": refused,
        "me_samples_hashing": len(busy),
    }


async def seed_logins(services: Any, people: list[int]) -> list[str]:
    """Each account gets a confirmed email: the login the web's sign-in takes."""
    from core.domain.models import AddressKind

    now = datetime.now(UTC)
    logins = []
    async with services.kit.unit() as uow:
        for telegram_id in people:
            found = await services.account.person(telegram_id)
            assert found is not None
            email = f"login{telegram_id}@example.com"
            kind = AddressKind.EMAIL
            await uow.bindings.set_pending(found[0], kind, email, now + timedelta(hours=1), now)
            await uow.bindings.confirm(found[0], kind, email, now)
            logins.append(email)
        await uow.commit()
    return logins


async def _for(seconds: float, clients: int, once: Any) -> tuple[float, dict[str, int]]:
    """Calls of `once()` per second, `clients` at a time, for `seconds`; outcomes counted."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    outcomes: dict[str, int] = {}

    async def client(n: int) -> None:
        i = n
        while loop.time() < end:
            outcome = await once(i)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            i += clients

    start = loop.time()
    await asyncio.gather(*(client(n) for n in range(clients)))
    good = sum(v for k, v in outcomes.items() if k in ("200", "ok"))
    return good / (loop.time() - start), outcomes


async def sign_in(size: Size) -> dict[str, Any]:
    import aiohttp
    from aiohttp import web

    from web.app import create_web_app

    async with dispatch.full_bot("memory", 20) as target:
        services = target.services
        logins = await seed_logins(services, target.take(20))
        app = create_web_app(services, providers={})
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/auth/login"
        stored = raw_hasher(services.settings).hash(dispatch.PASSWORD)
        raw = raw_hasher(services.settings)
        try:
            async with aiohttp.ClientSession() as http:

                async def login(i: int) -> str:
                    body = {"login": logins[i % len(logins)], "password": dispatch.PASSWORD}
                    async with http.post(url, json=body) as response:
                        await response.read()
                        return str(response.status)

                async def verify(_: int) -> str:
                    ok = await asyncio.to_thread(raw.verify, stored, dispatch.PASSWORD)
                    return "ok" if ok else "wrong"

                await login(0)  # warm up
                rps: list[float] = []
                verifies: list[float] = []
                outcomes: dict[str, int] = {}
                for _ in range(size.repetitions):  # interleaved: both see the same machine
                    rate, _outcomes = await _for(size.login_seconds, CLIENTS, verify)
                    verifies.append(rate)
                    rate, seen = await _for(size.login_seconds, CLIENTS, login)
                    rps.append(rate)
                    for k, v in seen.items():
                        outcomes[k] = outcomes.get(k, 0) + v
        finally:
            await runner.cleanup()
    ratios = [r / v for r, v in zip(rps, verifies, strict=True)]
    return {
        "login_rps": stats(rps)["median"],
        "argon2_verify_per_s": stats(verifies)["median"],
        "login_ratio": stats(ratios),
        "login_outcomes": outcomes,
    }


async def main(size: Size) -> dict[str, Any]:
    return {**await me_while_hashing(size), **await sign_in(size)}
