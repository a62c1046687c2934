"""One unit of work per update (issue #13): the middleware's read of who is writing and the
handler's own reads are one transaction on one connection, and the account is read once: who
is writing comes with the card's rows in one SELECT, and the card, the plan and the checks of
the same update are served from it (core/adapters/db/seen.py).

Counted by SQLAlchemy event listeners on the running bot's engine: `begin` (a transaction
begun, a unit of work) and `before_cursor_execute` (what the database was asked). Exact and
deterministic: nothing else uses the database while the person waits for the card.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from sandbox.client import Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.conftest import sign_in


@contextmanager
def counted(stack: SandboxStack) -> Iterator[Counter[str]]:
    """Units begun ("units") and statements by their first word, while inside."""
    engine = stack.services.database.engine.sync_engine
    seen: Counter[str] = Counter()

    def statement(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        seen[text.split(None, 1)[0].upper()] += 1

    def begin(_conn: Any) -> None:
        seen["units"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", begin)


# Per step of the bench's mix (bench/dispatch.py), for a person signed in with a password:
# (units begun, SELECTs, writes). Every step reads who is writing in one SELECT; besides:
# the card ("Your account", after /start, /me and /cancel) the workspaces signed in to (one
# SELECT, the provider's store), the tap the plan's memberships, the address the address's owner
# and the memberships, then after the letter (the connection given back) the pending claim and
# its audit event in one writer, whose plan for "step k of n" is the one read before; a wrong
# code the address's owner (bound meanwhile?).
STEPS = {
    "start": (1, 2, 0),
    "me": (1, 2, 0),
    "bind_email": (1, 2, 0),
    "email": (2, 3, 3),
    "wrong_code": (1, 2, 0),
    "cancel": (1, 2, 0),
}
WRITES = ("INSERT", "UPDATE", "DELETE")


async def with_a_password(stack: SandboxStack, person: Person) -> None:
    """The account gets a password, as if set on the secure page: the letter goes out at once."""
    services = stack.services
    account_id = await services.account.account_for(person.id)
    assert account_id is not None
    digest = await services.kit.hasher.hash("kettle under the violet moon")
    async with services.kit.unit() as uow:
        await uow.passwords.set(account_id, digest, services.clock.now())
        await uow.commit()


async def test_me_is_one_unit_of_work_and_reads_the_account_once(
    stack: SandboxStack, sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    await ivan.settled()

    for _ in range(2):  # the first /me and a later one alike
        with counted(stack) as seen:
            await ivan.send("/me")
            await ivan.wait_for("Your account")
            await ivan.settled()
        # Who is writing with the card's rows (the link, the account, its identities, bindings
        # and password) in one SELECT, then the workspaces signed in to ("Signed in to: …",
        # PRODUCT §1.11; the provider's store reads through the update's scope too): two reads,
        # in one transaction.
        assert seen["units"] == 1, seen
        assert seen["SELECT"] == 2, seen
        assert not any(seen[write] for write in WRITES), seen


async def test_each_step_of_the_mix_reads_who_is_writing_once(
    stack: SandboxStack, sandbox: Sandbox, browser: Browser
) -> None:
    """The bench's step mix, counted per step on both storage pairs, so no read creeps back."""
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    await with_a_password(stack, ivan)
    await ivan.settled()

    steps = {
        "start": (lambda: ivan.start(), "Your account"),
        "me": (lambda: ivan.send("/me"), "Your account"),
        "bind_email": (lambda: ivan.press("Bind email"), "Send the email address"),
        "email": (lambda: ivan.send("ivan@example.com"), "I sent a letter"),
        "wrong_code": (lambda: ivan.send("000000"), "attempts left"),
        "cancel": (lambda: ivan.send("/cancel"), "Your account"),
    }
    counts = {}
    for name, (act, answer) in steps.items():
        with counted(stack) as seen:
            await act()
            await ivan.wait_for(answer)
            await ivan.settled()
        counts[name] = (seen["units"], seen["SELECT"], sum(seen[write] for write in WRITES))
    assert counts == STEPS, counts
