"""Several webhook instances (issue #14, PRODUCT §3): two `accountbot run` processes in webhook
mode on one PostgreSQL database and one Redis, behind a round-robin stand-in for the TLS proxy,
which the sandbox's Bot API posts every update to (one chat in sequence, chats at once, as
Telegram does) and every person's browser opens.

- people running whole flows at once: every update handled once, in its chat's order, by either
  instance; every person finishes; the crash test's invariants hold;
- SIGTERM to one instance mid-load: it drains and exits, the other takes over, nothing is lost;
- SIGKILL to one in the middle of a chat's update: that chat answers again within 5 s, from the
  other instance.

The SIGTERM test runs issue #14's crowd of 500 people in `make test` too (about 5 minutes, bound
by the sandbox's flood limits rather than the CPU); the others run 20 unless
RELIABILITY_INSTANCE_PEOPLE says otherwise (500 in `make reliability`), which sets all three.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import random
import signal
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from sandbox.client import Sandbox
from tests.ports import free_port
from tests.reliability.standin import BotProcess, World, bot_and_world
from tests.reliability.test_crash import SETTINGS, Journey, check_invariants, transcripts

log = logging.getLogger(__name__)
PEOPLE = int(os.environ.get("RELIABILITY_INSTANCE_PEOPLE", "20"))
CROWD = int(os.environ.get("RELIABILITY_INSTANCE_PEOPLE", "500"))
SEED = int(os.environ.get("RELIABILITY_SEED", "14"))
ANSWER_WITHIN = 5.0  # a chat answers within 5 s of its instance's death (issue #14)
HANG = 600.0  # only a hang reaches this
STALL = 300.0  # a crowd in which nobody took a step for this long hangs (see `progressing`)
WEBHOOK_SECRET = "instances-webhook-secret-not-a-secret"
HOP_BY_HOP = {"connection", "content-length", "content-encoding", "transfer-encoding", "host"}


@dataclass
class Delivery:
    update_id: int
    chat: int | None
    upstream: int
    status: int


@dataclass
class RoundRobin:
    """The TLS proxy's stand-in: each request to the next instance in turn; one that refuses the
    connection (stopped, killed) is skipped, as a load balancer's passive health check does."""

    upstreams: list[str]
    deliveries: list[Delivery] = field(default_factory=list)
    in_flight: dict[int, int] = field(default_factory=dict)  # a chat's update -> its instance
    turn: itertools.count[int] = field(default_factory=itertools.count)
    url: str = ""

    async def forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        update = json.loads(body) if request.path == "/telegram/webhook" else None
        chat = _chat(update) if update is not None else None
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP
        )
        # The development identity provider keeps its keys and codes in its process: it is one
        # service, as a real provider is, so its paths always go to the first instance.
        first = 0 if request.path.startswith("/idp/") else next(self.turn)
        for attempt in range(len(self.upstreams)):
            upstream = (first + attempt) % len(self.upstreams)
            if chat is not None:
                self.in_flight[chat] = upstream
            try:
                async with self.session.request(
                    request.method,
                    self.upstreams[upstream] + request.path_qs,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                ) as answer:
                    content = await answer.read()
                    if update is not None:
                        self.deliveries.append(
                            Delivery(update["update_id"], chat, upstream, answer.status)
                        )
                    out = web.Response(status=answer.status, body=content)
                    for key, value in answer.headers.items():
                        if key.lower() not in HOP_BY_HOP:
                            out.headers.add(key, value)
                    return out
            except aiohttp.ClientConnectorError:
                continue  # that instance is gone (nothing was sent): the next one
            except aiohttp.ClientError:
                break  # it died with the request: a 502, which Telegram retries later
            finally:
                if chat is not None:
                    self.in_flight.pop(chat, None)
        return web.Response(status=502, text="no instance answers")

    async def start(self) -> web.AppRunner:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HANG))
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.forward)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return runner

    def handled(self) -> list[Delivery]:
        return [d for d in self.deliveries if 200 <= d.status < 300]


def _chat(update: dict[str, object]) -> int | None:
    for key, value in update.items():
        if key != "update_id" and isinstance(value, dict):
            holder = value.get("message") if "chat" not in value else value
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict):
                return int(chat["id"])
            sender = value.get("from")
            if isinstance(sender, dict):
                return int(sender["id"])
    return None


@dataclass
class Instances:
    world: World
    proxy: RoundRobin
    bots: list[BotProcess]
    env: dict[str, str]

    async def start(self, index: int) -> None:
        bot = self.bots[index]
        await bot.start()
        port = bot.env["WEB_PORT"]
        assert bot.process is not None
        async with aiohttp.ClientSession() as session, asyncio.timeout(HANG):
            while True:  # up once its web server answers (a start is imports and migrations)
                if bot.process.returncode is not None:
                    raise AssertionError(f"instance {index} exited: {bot.log()[-3000:]}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"http://127.0.0.1:{port}/livez") as answer:
                        if answer.status == 200:
                            return
                await asyncio.sleep(0.1)  # polling a child's readiness, not waiting for a result


@contextlib.asynccontextmanager
async def two_instances(folder: Path) -> AsyncIterator[Instances]:
    async with bot_and_world(folder, **SETTINGS) as (first, world):
        first.world.state.webhook_retry_delays = (0.5, 1.0, 2.0)
        ports = [free_port(), free_port()]
        proxy = RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
        runner = await proxy.start()
        bots = []
        for index, port in enumerate(ports):
            env = {
                **first.env,
                "TELEGRAM_MODE": "webhook",
                "WEBHOOK_SECRET": WEBHOOK_SECRET,
                "PUBLIC_URL": proxy.url,
                "WEB_PORT": str(port),
                "METRICS_PORT": str(free_port()),
                "DATA_DIR": str(folder / f"instance-{index}"),
            }
            (folder / f"instance-{index}").mkdir()
            bots.append(BotProcess(env, folder / f"instance-{index}", world))
        instances = Instances(world, proxy, bots, first.env)
        try:
            for index in range(2):
                await instances.start(index)
            yield instances
        finally:
            for bot in bots:
                await bot.stop()
            await runner.cleanup()
            await proxy.session.close()


async def everyone(
    sandbox: Sandbox, world: World, rng: random.Random, people: int = PEOPLE
) -> list[Journey]:
    journeys = []
    for number in range(1, people + 1):
        person = await sandbox.person(f"Person{number}", language_code="en")
        journeys.append(Journey(number, person, world, random.Random(rng.random())))
    return journeys


async def finish(journeys: list[Journey]) -> None:
    await progressing(asyncio.gather(*(journey.run() for journey in journeys)), journeys)
    await nothing_lost(journeys)


async def progressing(running: asyncio.Future[list[None]], journeys: list[Journey]) -> None:
    """Wait for the crowd while it gets anywhere: only STALL seconds in which nobody took a
    step is a hang (however long 500 people take on a busy machine). A message the bot never
    answered fails it at once: that person would only go on asking (every ANSWER_WAIT)."""
    seen = -1
    while not running.done():
        await asyncio.wait({running}, timeout=STALL)
        if not running.done() and any(j.lost for j in journeys):
            running.cancel()
            await nothing_lost(journeys)
        steps = sum(j.actions for j in journeys)
        if not running.done() and steps == seen:
            running.cancel()
            done = sum(j.finished for j in journeys)
            raise AssertionError(f"nobody took a step in {STALL:.0f} s; {done} finished")
        seen = steps
    running.result()


async def nothing_lost(journeys: list[Journey]) -> None:
    stuck = [j for j in journeys if not j.finished]
    assert sum(j.lost for j in journeys) == 0, "messages or presses the bot never answered"
    assert stuck == [], await transcripts(stuck)


def assert_once_and_in_order(proxy: RoundRobin) -> None:
    handled = proxy.handled()
    counts: dict[int, int] = defaultdict(int)
    for delivery in handled:
        counts[delivery.update_id] += 1
    assert {u: n for u, n in counts.items() if n > 1} == {}, "updates handled twice"
    by_chat: dict[int | None, list[int]] = defaultdict(list)
    for delivery in handled:
        by_chat[delivery.chat].append(delivery.update_id)
    assert all(ids == sorted(ids) for ids in by_chat.values()), "a chat's updates out of order"


async def test_two_instances_share_the_people_and_lose_nothing(tmp_path: Path) -> None:
    async with two_instances(tmp_path / "bots") as instances, Sandbox(instances.world.url) as sb:
        journeys = await everyone(sb, instances.world, random.Random(SEED))
        await finish(journeys)
        handled = instances.proxy.handled()
        by_instance = [sum(1 for d in handled if d.upstream == i) for i in range(2)]
        log.warning(
            "two instances: %s people, %s updates handled (%s and %s), %s actions",
            len(journeys),
            len(handled),
            *by_instance,
            sum(j.actions for j in journeys),
        )
        assert all(by_instance), "one instance took every update"
        assert_once_and_in_order(instances.proxy)
        await check_invariants(instances.bots[0], instances.world, journeys)


async def test_sigterm_to_one_instance_mid_load_loses_nothing(tmp_path: Path) -> None:
    async with two_instances(tmp_path / "bots") as instances, Sandbox(instances.world.url) as sb:
        journeys = await everyone(sb, instances.world, random.Random(SEED + 1), CROWD)
        running = asyncio.gather(*(journey.run() for journey in journeys))
        await instances.world.worked(CROWD * 3)  # everyone is on their way
        assert {d.upstream for d in instances.proxy.handled()} == {0, 1}, "one instance took all"
        stopping = instances.bots[1]  # not the one with the identity provider (see RoundRobin)
        assert stopping.process is not None
        stopping.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(HANG):
            code = await stopping.process.wait()
        assert code == 0, stopping.log()[-3000:]
        await progressing(running, journeys)
        await nothing_lost(journeys)
        assert_once_and_in_order(instances.proxy)
        await check_invariants(instances.bots[0], instances.world, journeys)


async def test_a_chat_answers_within_5_s_after_its_instance_is_killed(tmp_path: Path) -> None:
    async with two_instances(tmp_path / "bots") as instances, Sandbox(instances.world.url) as sb:
        world, proxy = instances.world, instances.proxy
        ivan = await sb.person("Ivan", language_code="en")
        journey = Journey(1, ivan, world, random.Random(SEED))
        await ivan.start()
        await ivan.wait_for("sign in with the network", timeout=HANG)
        browser = journey.browser
        try:
            await journey.sign_in()
            await ivan.wait_for("Your account", timeout=HANG)
            world.release.clear()
            world.hold_next_send = True
            await ivan.send("/me")
            async with asyncio.timeout(HANG):
                await world.held.wait()  # an instance is in the middle of it, holding the chat
            victim = proxy.in_flight[ivan.id]
            loop = asyncio.get_running_loop()
            killed = loop.time()
            await instances.bots[victim].kill()
            world.release.set()
            # The update comes again (Telegram retries a failed delivery) to the other instance.
            await ivan.wait_for("Your account", timeout=HANG)
            await ivan.send("/help")
            await ivan.wait_for("/cancel", timeout=HANG)
            answered = loop.time() - killed
            log.warning("after the kill the chat answered in %.2f s", answered)
            assert answered < ANSWER_WITHIN
            survivors = {d.upstream for d in proxy.handled() if d.chat == ivan.id}
            assert 1 - victim in survivors
        finally:
            await browser.close()
