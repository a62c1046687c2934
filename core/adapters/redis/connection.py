"""The Redis client from REDIS_URL: one node, or the master of a Sentinel-watched group.

Forms (README, "Configuration"; docs/DEPLOY.md, "Redis beyond one node"):

- ``redis://[[user]:password@]host[:port][/db]``, ``rediss://…`` (TLS), ``unix:///path?db=N``:
  one node, through redis-py's own URL parsing.
- ``redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/service_name[/db]``, or
  ``rediss+sentinel://…`` for TLS to the master: the sentinels (port 26379 unless given) are
  asked for the current master of ``service_name``; after a failover the pool follows the new
  one. The user and password are the master's; ``?sentinel_password=…`` (and
  ``sentinel_username``) authenticate to the sentinels when they need it.

Redis Cluster is refused: the stores' Lua scripts and the isolation's lock scripts touch several
keys at once that are not hash-tagged to one slot, so a cluster would answer CROSSSLOT.
``redis+cluster://`` is refused by the settings; a plain URL that reaches a node with
``cluster_enabled:1`` is refused by `refuse_cluster` at start and by ``accountbot check-config``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialWithJitterBackoff

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
SENTINEL_PORT = 26379
CLUSTER_REFUSED = (
    "Redis Cluster is not supported: the bot's scripts use several keys at once; "
    "point REDIS_URL at one node or at Sentinel (redis+sentinel://host:port,…/service_name)"
)


class ClusterRefused(RuntimeError):
    """REDIS_URL reaches a Redis Cluster node."""

    def __init__(self) -> None:
        super().__init__(CLUSTER_REFUSED)


@dataclass(frozen=True)
class RedisOptions:
    """Pool and timeouts (settings REDIS_*; PRODUCT §3.3: an outage is told within 2 s)."""

    max_connections: int = 100
    pool_timeout: float = 0.5
    connect_timeout: float = 0.5
    timeout: float = 0.5
    retries: int = 1
    backoff_cap: float = 0.05


@dataclass(frozen=True)
class SentinelTarget:
    """What a ``redis+sentinel://`` URL names."""

    sentinels: tuple[tuple[str, int], ...]
    service_name: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    ssl: bool = False
    sentinel_username: str | None = None
    sentinel_password: str | None = None


def is_sentinel_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in SENTINEL_SCHEMES


def parse_sentinel_url(url: str) -> SentinelTarget:
    """The sentinels, service name and database of a ``redis+sentinel://`` URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SENTINEL_SCHEMES:
        raise ValueError("a Sentinel URL starts with redis+sentinel:// or rediss+sentinel://")
    credentials, _, hosts = parts.netloc.rpartition("@")
    username = password = None
    if credentials:
        user, has_password, secret = credentials.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if has_password else None
    sentinels = tuple(_host_port(item) for item in hosts.split(",") if item)
    if not sentinels:
        raise ValueError("a Sentinel URL names at least one sentinel: host:port")
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not path or len(path) > 2:
        raise ValueError("a Sentinel URL ends with /service_name or /service_name/db")
    try:
        db = int(path[1]) if len(path) == 2 else 0
    except ValueError:
        raise ValueError("the database after the service name is a number") from None
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return SentinelTarget(
        sentinels=sentinels,
        service_name=path[0],
        db=db,
        username=username,
        password=password,
        ssl=parts.scheme.lower() == "rediss+sentinel",
        sentinel_username=query.get("sentinel_username"),
        sentinel_password=query.get("sentinel_password"),
    )


def _host_port(item: str) -> tuple[str, int]:
    if item.startswith("["):  # [::1]:26379
        host, _, rest = item[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = item.partition(":")
    if not host:
        raise ValueError(f"a sentinel without a host: {item!r}")
    try:
        return host, int(port) if port else SENTINEL_PORT
    except ValueError:
        raise ValueError(f"a sentinel's port is a number: {item!r}") from None


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """The master's pool as Sentinel finds it, waiting for a free connection at its size (as the
    one-node pool does) instead of raising."""


def make_client(url: str, options: RedisOptions | None = None) -> Redis:
    """A client for REDIS_URL with the pool and timeouts of `options`."""
    opts = options or RedisOptions()
    # A busy moment waits for a free connection instead of failing (redis-py's default pool
    # raises at its size), but no longer than the pool timeout.
    common: dict[str, Any] = {
        "max_connections": opts.max_connections,
        "timeout": opts.pool_timeout,
        "socket_connect_timeout": opts.connect_timeout,
        "socket_timeout": opts.timeout,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.01, cap=opts.backoff_cap), opts.retries),
    }
    if url.split("://", 1)[0].lower().endswith("+cluster"):
        raise ClusterRefused()
    if not is_sentinel_url(url):
        return Redis.from_pool(BlockingConnectionPool.from_url(url, **common))
    target = parse_sentinel_url(url)
    sentinel_kwargs: dict[str, Any] = {
        "socket_connect_timeout": opts.connect_timeout,
        "socket_timeout": opts.timeout,
    }
    if target.sentinel_password is not None:
        sentinel_kwargs["password"] = target.sentinel_password
    if target.sentinel_username is not None:
        sentinel_kwargs["username"] = target.sentinel_username
    sentinel = Sentinel(list(target.sentinels), sentinel_kwargs=sentinel_kwargs)  # type: ignore[no-untyped-call]
    master: Redis = sentinel.master_for(
        target.service_name,
        connection_pool_class=BlockingSentinelPool,
        db=target.db,
        username=target.username,
        password=target.password,
        ssl=target.ssl,
        **common,
    )
    return master


async def refuse_cluster(client: Redis) -> None:
    """Raise `ClusterRefused` if the server is a Redis Cluster node."""
    info = await client.info("cluster")
    if int(info.get("cluster_enabled", 0) or 0):
        raise ClusterRefused()
