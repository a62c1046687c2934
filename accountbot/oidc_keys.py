"""`accountbot workspace keys list|rotate [--now]`: the provider's signing keys (PRODUCT §1.11).

The keys live in the database; every web instance reads the signing key from it for each ID token
and publishes JWKS from it, so a rotation made here reaches them all without a restart.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from core.adapters.db.engine import Database
from core.adapters.db.oidc import SqlProviderStore
from core.bootstrap import SystemClock
from core.domain.secrets import Keyed
from core.provider.service import KeyState, KeyStatus, Lifetimes, ProviderService
from core.settings import Settings, StorageSettings
from web.oidc import keys

# The very fields of `Settings`, defaults and limits included, so the two never disagree.
_SAME: Any = Settings.model_fields


class KeySettings(StorageSettings):
    """The database and the two settings the keys' timing depends on, nothing else required."""

    op_access_token_ttl: int = _SAME["op_access_token_ttl"]
    op_key_publish_ahead: int = _SAME["op_key_publish_ahead"]


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe(status: KeyStatus) -> str:
    """`signing`, `published-ahead-until <time>`, `retiring-until <time>` or `expired`."""
    if status.state in (KeyState.AHEAD, KeyState.RETIRING) and status.until is not None:
        return f"{status.state.value}-until {_when(status.until)}"
    return status.state.value


async def keys_list(provider: ProviderService, say: Callable[[str], object]) -> None:
    say("kid\tstate\tcreated")
    for status in await provider.key_states():
        say(f"{status.key.kid}\t{describe(status)}\t{_when(status.key.created_at)}")


async def keys_rotate(
    provider: ProviderService,
    publish_ahead: timedelta,
    *,
    now: bool,
    say: Callable[[str], object],
) -> None:
    if now:
        key, dropped = await keys.rotate_now(provider)
        say(f"New key {key.kid}: signs from now, {_when(key.signs_from)}.")
        if dropped:
            say(f"Removed from JWKS: {', '.join(dropped)}.")
            say("ID tokens they signed no longer verify (relying parties that cached JWKS may")
            say("trust them up to 5 minutes more).")
    else:
        first = await provider.signing_key() is None
        # With nothing signing yet no relying party waits for the key: it signs at once.
        key = await keys.rotate(provider, timedelta(0) if first else publish_ahead)
        say(f"New key {key.kid}: in JWKS now, signs from {_when(key.signs_from)}.")
    await keys_list(provider, say)


async def keys_command(args: argparse.Namespace) -> int:
    settings = KeySettings()
    database = Database(settings.database_url)
    # No code or token is hashed here: the server key is not needed; the ID tokens' lifetime is,
    # for how long a replaced key stays published.
    token = timedelta(seconds=settings.op_access_token_ttl)
    lifetimes = Lifetimes(timedelta(0), token, timedelta(0))
    provider = ProviderService(SqlProviderStore(database), Keyed(b""), SystemClock(), lifetimes)
    try:
        if args.keys_verb == "list":
            await keys_list(provider, print)
        else:
            ahead = timedelta(seconds=settings.op_key_publish_ahead)
            await keys_rotate(provider, ahead, now=args.now, say=print)
    finally:
        await database.dispose()
    return 0
