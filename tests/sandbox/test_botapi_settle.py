"""The settle barrier: held, delivered, handled, and work off an update (botapi/handling)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.sandbox.conftest import Running


async def look(running: Running) -> dict[str, Any]:
    """The barrier now, without waiting."""
    return dict(await running.sandbox.call("GET", "settled", timeout=0))


async def test_a_bot_that_does_not_report_has_settled_once_it_confirmed_its_updates(
    running: Running,
) -> None:
    person = await running.sandbox.person()
    await person.send("hello")

    held = await look(running)
    updates = await running.bot.get_updates(timeout=0)
    fetched = await look(running)
    await running.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)

    assert (held["settled"], held["tracked"]) == (False, False)
    assert not fetched["settled"]  # fetched but not confirmed: it may come again
    assert (await look(running))["settled"]


async def test_a_reporting_bot_has_settled_only_when_it_finished_what_it_was_given(
    running: Running,
) -> None:
    handling = running.state.find_bot().handling
    handling.attach()
    person = await running.sandbox.person()
    await person.send("one")
    await person.send("two")
    updates = await running.bot.get_updates(timeout=0)
    # Confirmed at once, as aiogram's own polling does, before any handler ran.
    await running.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    first, second = (u.update_id for u in updates)

    delivered = await look(running)
    handling.started(first)
    handling.done(first)
    half = await look(running)
    handling.started(second)
    handling.done(second)

    assert (delivered["settled"], delivered["tracked"]) == (False, True)
    assert delivered["bots"][str(running.state.find_bot().id)]["unfinished"] == [first, second]
    assert not half["settled"]
    assert (await look(running))["settled"]


async def test_a_waiting_client_returns_when_the_last_update_is_finished(
    running: Running,
) -> None:
    handling = running.state.find_bot().handling
    handling.attach()
    person = await running.sandbox.person()
    await person.send("hello")
    (update,) = await running.bot.get_updates(timeout=0)
    handling.started(update.update_id)

    waiting = asyncio.create_task(person.settled(timeout=10))
    await running.until_waiting(settles=1)
    assert not waiting.done()
    handling.done(update.update_id)

    await asyncio.wait_for(waiting, 5)


async def test_work_off_an_update_holds_the_barrier_until_it_ends(running: Running) -> None:
    handling = running.state.find_bot().handling
    handling.attach()

    with handling.working():
        busy = await look(running)
    after = await look(running)

    assert (busy["settled"], after["settled"]) == (False, True)


async def test_a_finished_update_fetched_again_is_not_waited_for_twice(running: Running) -> None:
    """At-least-once polling fetches a finished update again until the offset moves past it."""
    handling = running.state.find_bot().handling
    handling.attach()
    person = await running.sandbox.person()
    await person.send("hello")
    (update,) = await running.bot.get_updates(timeout=0)
    handling.started(update.update_id)
    handling.done(update.update_id)

    again = await running.bot.get_updates(timeout=0)

    assert [u.update_id for u in again] == [update.update_id]
    assert (await look(running))["settled"]


async def test_an_abandoned_update_keeps_the_barrier_until_it_is_handled_again(
    running: Running,
) -> None:
    handling = running.state.find_bot().handling
    handling.attach()
    person = await running.sandbox.person()
    await person.send("hello")
    (update,) = await running.bot.get_updates(timeout=0)
    handling.started(update.update_id)
    handling.abandoned(update.update_id)  # the bot was stopped mid-way
    await running.bot.get_updates(offset=update.update_id + 1, timeout=0)

    stuck = await look(running)
    handling.started(update.update_id)
    handling.done(update.update_id)

    assert not stuck["settled"]
    assert (await look(running))["settled"]


async def test_an_update_to_be_delivered_twice_keeps_the_barrier_until_the_second_is_confirmed(
    running: Running,
) -> None:
    bot = running.state.find_bot()
    bot.deliver_twice = True
    bot.handling.attach()
    person = await running.sandbox.person()
    await person.send("hello")
    (update,) = await running.bot.get_updates(timeout=0)
    bot.handling.started(update.update_id)
    bot.handling.done(update.update_id)

    unconfirmed = await look(running)  # it will come again once confirmed
    again = await running.bot.get_updates(offset=update.update_id + 1, timeout=0)
    waiting = await look(running)
    bot.handling.started(update.update_id)
    bot.handling.done(update.update_id)
    await running.bot.get_updates(offset=update.update_id + 1, timeout=0)

    assert [u.update_id for u in again] == [update.update_id]
    assert not unconfirmed["settled"]
    assert not waiting["settled"]
    assert (await look(running))["settled"]
