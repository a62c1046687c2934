"""A provider's documents kept for a while: discovery metadata and its JWKS (PRODUCT §3).

PRODUCT §3: an identity provider's rotated keys are picked up without a restart. Each document is
kept for its lifetime — the provider's Cache-Control max-age (RFC 9111 §5.2.2.1) when it sends
one, else PROVIDER_METADATA_TTL / PROVIDER_KEYS_TTL, always within PROVIDER_CACHE_MIN_TTL and
PROVIDER_CACHE_MAX_TTL — and fetched by one caller at a time, so a burst of callbacks costs the
provider one request. A failed refresh keeps the last good copy for the shortest lifetime.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiohttp

from core.settings import Settings
from web.providers.base import TIMEOUT, ProviderError

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachePolicy:
    """Lifetimes in seconds; the defaults are the settings' defaults (core/settings.py)."""

    metadata_ttl: float = 3_600
    keys_ttl: float = 3_600
    min_ttl: float = 60
    max_ttl: float = 86_400
    # At most one JWKS refetch per provider per this many seconds after a signature failure.
    refetch_interval: float = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> CachePolicy:
        return cls(
            metadata_ttl=settings.provider_metadata_ttl,
            keys_ttl=settings.provider_keys_ttl,
            min_ttl=settings.provider_cache_min_ttl,
            max_ttl=settings.provider_cache_max_ttl,
            refetch_interval=settings.provider_keys_refetch_interval,
        )

    def lifetime(self, cache_control: str | None, default: float) -> float:
        """The provider's max-age when it gave one, else `default`, within [min_ttl, max_ttl]."""
        age = max_age(cache_control)
        seconds = default if age is None else age
        return min(max(seconds, self.min_ttl), self.max_ttl)


def max_age(cache_control: str | None) -> int | None:
    """Seconds from a Cache-Control header: max-age, 0 for no-store or no-cache, None if absent."""
    if not cache_control:
        return None
    seconds = None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0
        if name == "max-age":
            value = value.strip().strip('"')
            seconds = int(value) if value.isdigit() else seconds
    return seconds


async def fetch_document(
    http: aiohttp.ClientSession, url: str, *, reason: str
) -> tuple[Any, str | None]:
    """A provider's JSON document and its Cache-Control header, or a ProviderError(reason)."""
    try:
        async with http.get(url, timeout=TIMEOUT) as response:
            if response.status >= 400:
                raise ProviderError(reason)
            return await response.json(content_type=None), response.headers.get("Cache-Control")
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise ProviderError(reason) from error


Fetch = Callable[[aiohttp.ClientSession], Awaitable[tuple[T, str | None]]]


class Cached(Generic[T]):
    """One document: kept until it expires, fetched by one caller at a time (no stampede).

    `version` counts the successful fetches, so a caller that found the value wanting can ask for
    a newer one and learn whether somebody else already fetched it meanwhile.
    """

    def __init__(
        self,
        what: str,
        fetch: Fetch[T],
        default_ttl: float,
        policy: CachePolicy,
        timer: Callable[[], float],
    ) -> None:
        self.what = what
        self._fetch = fetch
        self._default_ttl = default_ttl
        self._policy = policy
        self._timer = timer
        self._lock = asyncio.Lock()
        self._value: T | None = None
        self._expires = 0.0
        self.version = 0
        self._attempts = 0
        self._failure: str | None = None

    def _fresh(self) -> bool:
        return self._value is not None and self._timer() < self._expires

    async def get(self, http: aiohttp.ClientSession) -> tuple[T, int]:
        """The document and its version, fetched first when missing or expired."""
        if not self._fresh():
            attempts = self._attempts
            async with self._lock:
                if not self._fresh():
                    if self._value is None and self._failure and self._attempts != attempts:
                        # The fetch this caller waited for failed: share its answer, do not queue
                        # one more request behind it.
                        raise ProviderError(self._failure)
                    await self._load(http)
        assert self._value is not None
        return self._value, self.version

    async def newer(
        self, http: aiohttp.ClientSession, seen: int, allowed: Callable[[], bool]
    ) -> T | None:
        """A version newer than `seen`: another caller's fetch, or one now if `allowed()` says so;
        None when there is nothing newer."""
        async with self._lock:
            if self.version == seen and allowed():
                await self._load(http)
            return self._value if self.version != seen else None

    async def _load(self, http: aiohttp.ClientSession) -> None:
        """Fetch under the lock; on failure keep a previous copy for the shortest lifetime."""
        try:
            value, cache_control = await self._fetch(http)
        except ProviderError as error:
            self._attempts += 1  # counted when done: whoever waited meanwhile shares this answer
            self._failure = error.reason
            if self._value is None:
                raise
            self._expires = max(self._expires, self._timer() + self._policy.min_ttl)
            log.warning("could not refresh %s; the last copy stays in use", self.what)
            return
        self._attempts += 1
        self._value, self._failure = value, None
        self._expires = self._timer() + self._policy.lifetime(cache_control, self._default_ttl)
        self.version += 1
