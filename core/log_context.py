"""The id of the Telegram update or web request being handled, for every log line it writes.

One id per update (``u<update_id>-<random>``) and per web request (``w<random>``, or the proxy's
own ``X-Request-ID`` when it sends a sane one), set by the bot's outermost middleware and the web
server's (bot/middlewares/request_id.py, web/request_id.py) in a context variable, so the tasks
the handling starts inherit it; accountbot.logs writes it as ``request_id`` on every line.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("accountbot_request_id", default=None)
# What a proxy may hand us as an id: short, and nothing that could forge a log line.
SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_id(prefix: str, key: int | str | None = None) -> str:
    """A fresh id: the kind, an optional key (the update's id) and 8 random hex digits."""
    return f"{prefix}{'' if key is None else key}-{secrets.token_hex(4)}"


def given_or_new(value: str | None, prefix: str) -> str:
    """The caller's id when it is sane, otherwise a new one."""
    if value and SANE.fullmatch(value):
        return value
    return new_id(prefix)


@contextmanager
def bound(request_id: str) -> Iterator[str]:
    """Every log line written inside (and in tasks started inside) carries `request_id`."""
    token = REQUEST_ID.set(request_id)
    try:
        yield request_id
    finally:
        REQUEST_ID.reset(token)


def current() -> str | None:
    return REQUEST_ID.get()
