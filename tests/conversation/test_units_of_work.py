"""One unit of work per update (issue #13): the middleware's read of who is writing and the
handler's own reads are one transaction on one connection, and the account is read once.

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

from sandbox.client import Sandbox
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
        # The Telegram link and the account (who is writing), then the card's identities,
        # bindings and password: five reads, the account not read again, in one transaction.
        # Plus the workspaces signed in to ("Signed in to: …", PRODUCT §1.11): one more read, in
        # the same unit (the provider's store reads through the update's scope too).
        assert seen["units"] == 1, seen
        assert seen["SELECT"] == 6, seen
        assert not seen["INSERT"] and not seen["UPDATE"] and not seen["DELETE"], seen
