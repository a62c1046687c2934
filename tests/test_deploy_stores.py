"""Redis beyond one node and PostgreSQL's pool (issue #14, deliverable 4): Sentinel URLs reach a
real Sentinel's master, Cluster is refused with a line that says what to do, the pool settings
reach the engine, and `accountbot check-config` reads both stores."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from redis import Redis as SyncRedis

from core.adapters.db.engine import Database, PgPool, PgTimeouts, make_engine
from core.adapters.redis.connection import (
    BlockingSentinelPool,
    ClusterRefused,
    RedisOptions,
    SentinelTarget,
    make_client,
    parse_sentinel_url,
    refuse_cluster,
)
from core.settings import Settings
from tests.ports import free_port

REDIS_SERVER = shutil.which("redis-server")
needs_redis_server = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server not installed")


LAUNCHED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def no_server_left() -> Iterator[None]:
    """Whatever a test or fixture launched is stopped after it, even when its set-up failed."""
    yield
    while LAUNCHED:
        process = LAUNCHED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def launch(*args: str, ready_line: str = "Ready to accept connections") -> subprocess.Popen[str]:
    """A redis-server started with `args`, returned once its log says it is ready."""
    assert REDIS_SERVER is not None
    process = subprocess.Popen(
        [REDIS_SERVER, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    LAUNCHED.append(process)
    ready = threading.Event()
    said: list[str] = []

    def drain() -> None:  # its log, read to the end so the server never blocks on it
        assert process.stdout is not None
        for line in process.stdout:
            said.append(line)
            if ready_line in line:
                ready.set()
        ready.set()  # exited: the assertion below says so

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(60) or process.poll() is not None:
        process.kill()  # never left behind by a failed start
        process.wait(timeout=30)
        log = "".join(said[-20:])
        raise AssertionError(f"redis-server {' '.join(args)} did not start; it said:\n{log}")
    return process


def start(tmp: Path, *args: str) -> tuple[int, subprocess.Popen[str]]:
    # A cluster node's bus listens 10,000 above its port.
    port = free_port(also=10000) if "--cluster-enabled" in args else free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    process = launch(
        *args, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", str(tmp),
    )  # fmt: skip
    return port, process


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A real master and a real Sentinel watching it as `themaster`: (sentinel port, master's)."""
    master_port, master = start(tmp_path / "master")
    config = tmp_path / "sentinel.conf"
    sentinel_port = free_port()
    config.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor themaster 127.0.0.1 {master_port} 1\n"
    )
    watcher = launch(str(config), "--sentinel", ready_line="+monitor master themaster")
    try:
        yield sentinel_port, master_port
    finally:
        for process in (watcher, master):
            process.terminate()
            process.wait(timeout=30)


def test_a_sentinel_url_names_the_sentinels_service_and_database() -> None:
    url = (
        "redis+sentinel://app:s%40cret@10.0.0.1:26380,sentinel-b,[::1]:5000/themaster/3"
        "?sentinel_password=watch"
    )
    assert parse_sentinel_url(url) == SentinelTarget(
        sentinels=(("10.0.0.1", 26380), ("sentinel-b", 26379), ("::1", 5000)),
        service_name="themaster",
        db=3,
        username="app",
        password="s@cret",
        sentinel_password="watch",
    )
    assert parse_sentinel_url("rediss+sentinel://h/svc").ssl
    assert parse_sentinel_url("redis+sentinel://h/svc").db == 0
    for wrong in ("redis+sentinel://h", "redis+sentinel:///svc", "redis+sentinel://h:x/svc"):
        with pytest.raises(ValueError, match=r"(?i)sentinel"):
            parse_sentinel_url(wrong)


def settings(**values: str) -> Settings:
    base = {"bot_token": "1:x", "secret_key": "s" * 40, "public_url": "https://id.example.com"}
    return Settings(**{**base, **values})  # type: ignore[arg-type]


def test_the_settings_take_sentinel_and_refuse_cluster_in_one_clear_line() -> None:
    url = "redis+sentinel://127.0.0.1:26379/themaster/0"
    assert settings(redis_url=url).redis_url == url
    with pytest.raises(ValidationError) as refused:
        settings(redis_url="redis+cluster://127.0.0.1:7000")
    assert "Redis Cluster is not supported" in str(refused.value)
    assert "redis+sentinel://" in str(refused.value)
    with pytest.raises(ClusterRefused):
        make_client("redis+cluster://127.0.0.1:7000")


@needs_redis_server
async def test_a_sentinel_url_reaches_the_master_sentinel_names(
    sentinel: tuple[int, int],
) -> None:
    sentinel_port, master_port = sentinel
    client = make_client(
        f"redis+sentinel://127.0.0.1:{sentinel_port}/themaster/2",
        RedisOptions(max_connections=4, pool_timeout=2.0, connect_timeout=2.0, timeout=2.0),
    )
    key = f"test:{uuid.uuid4().hex}"
    try:
        assert await client.set(key, "through sentinel")
        assert isinstance(client.connection_pool, BlockingSentinelPool)
        assert client.connection_pool.max_connections == 4
    finally:
        await client.aclose()
    # The value is on the master Sentinel named, in database 2.
    direct = SyncRedis(port=master_port, db=2)
    assert direct.get(key) == b"through sentinel"
    assert SyncRedis(port=master_port, db=0).get(key) is None


@needs_redis_server
async def test_a_cluster_node_behind_a_plain_url_is_refused(tmp_path: Path) -> None:
    port, node = start(
        tmp_path / "node", "--cluster-enabled", "yes", "--cluster-config-file", "n.conf"
    )
    client = make_client(f"redis://127.0.0.1:{port}/0")
    try:
        with pytest.raises(ClusterRefused, match="Redis Cluster is not supported"):
            await refuse_cluster(client)
        for command in ("run", "check-config"):  # the bot does not start; the check says why
            done = check_config(tmp_path, command, REDIS_URL=f"redis://127.0.0.1:{port}/0")
            assert done.returncode in (1, 2), command
            assert "Redis Cluster is not supported" in done.stderr, command
            assert "Traceback" not in done.stderr, command
    finally:
        await client.aclose()
        node.terminate()
        node.wait(timeout=30)


def test_the_pool_settings_reach_the_engine() -> None:
    url = "postgresql+asyncpg://u:p@127.0.0.1:1/db"
    engine = make_engine(url, pool=PgPool(size=7, max_overflow=3), timeouts=PgTimeouts(pool=2.5))
    pool = engine.sync_engine.pool
    assert pool.size() == 7  # type: ignore[attr-defined]
    assert pool._max_overflow == 3  # type: ignore[attr-defined]
    assert pool._timeout == 2.5  # type: ignore[attr-defined]
    default = make_engine(url).sync_engine.pool  # today's: SQLAlchemy's 5 + 10
    assert (default.size(), default._max_overflow) == (5, 10)  # type: ignore[attr-defined]


async def test_the_statement_timeout_is_the_servers_own(pg_url: str) -> None:
    import sqlalchemy as sa

    database = Database(pg_url, timeouts=PgTimeouts(statement=1.5))
    plain = Database(pg_url)
    try:
        async with database.engine.connect() as conn:
            assert (await conn.execute(sa.text("SHOW statement_timeout"))).scalar() == "1500ms"
            with pytest.raises(sa.exc.DBAPIError, match="statement timeout"):
                await conn.execute(sa.text("SELECT pg_sleep(5)"))
        async with plain.engine.connect() as conn:
            assert (await conn.execute(sa.text("SHOW statement_timeout"))).scalar() == "0"
    finally:
        await database.dispose()
        await plain.dispose()


def check_config(
    tmp_path: Path, command: str = "check-config", **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    base = {
        "BOT_TOKEN": "1:x",
        "SECRET_KEY": "s" * 40,
        "PUBLIC_URL": "https://id.example.com",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/a.sqlite3",
    }
    return subprocess.run(
        [sys.executable, "-m", "accountbot", command],
        env={**clean, **base, **env}, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_config_says_both_stores_answer_with_their_settings(
    tmp_path: Path, pg_url: str
) -> None:
    done = check_config(
        tmp_path,
        DATABASE_URL=pg_url,
        DATABASE_POOL_SIZE="4",
        DATABASE_MAX_OVERFLOW="2",
        DATABASE_STATEMENT_TIMEOUT="3",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert done.returncode == 0, done.stderr
    assert "Database (postgresql, pool 4 + 2 overflow" in done.stdout
    assert "statement 3.0 s): answers." in done.stdout
    assert "Redis (one node, pool 100): answers." in done.stdout
    password = pg_url.split("@")[0].rsplit(":", 1)[-1]
    assert password not in done.stdout + done.stderr


@needs_redis_server
def test_check_config_reads_redis_through_sentinel(
    tmp_path: Path, sentinel: tuple[int, int]
) -> None:
    done = check_config(tmp_path, REDIS_URL=f"redis+sentinel://127.0.0.1:{sentinel[0]}/themaster")
    assert done.returncode == 0, done.stderr
    assert "Redis (Sentinel, master 'themaster' of 1 sentinel(s), pool 100): answers." in (
        done.stdout
    )


def test_check_config_fails_when_a_store_does_not_answer(tmp_path: Path) -> None:
    done = check_config(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert done.returncode == 1
    assert "Database (sqlite): answers." in done.stdout
    assert "Redis (one node): does not answer (ConnectionError)." in done.stderr


@needs_redis_server
async def test_after_a_failover_the_client_writes_to_the_new_master(tmp_path: Path) -> None:
    """The master dies, Sentinel promotes the replica; the same client, unchanged, writes to
    the new master (the first try meets the dead connection, the retry asks Sentinel)."""
    from redis.asyncio import Redis

    master_port, master = start(tmp_path / "master")
    replica_port = free_port()
    (tmp_path / "replica").mkdir()
    replica = launch(
        "--port", str(replica_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", str(tmp_path / "replica"), "--replicaof", "127.0.0.1", str(master_port),
        ready_line="MASTER <-> REPLICA sync: Finished with success",
    )  # fmt: skip
    config = tmp_path / "sentinel.conf"
    sentinel_port = free_port()
    config.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor themaster 127.0.0.1 {master_port} 1\n"
        "sentinel down-after-milliseconds themaster 1000\n"
    )
    watcher = launch(str(config), "--sentinel", ready_line="+slave slave 127.0.0.1")
    watch = Redis(port=sentinel_port, decode_responses=True)
    client = make_client(
        f"redis+sentinel://127.0.0.1:{sentinel_port}/themaster/0",
        RedisOptions(pool_timeout=5.0, connect_timeout=5.0, timeout=5.0),
    )
    try:
        assert await client.set("test:failover", "before")
        events = watch.pubsub()
        await events.subscribe("+switch-master")
        master.kill()  # the master's machine is lost: no goodbye to anyone
        master.wait(timeout=30)
        async with asyncio.timeout(60):  # the promotion is announced
            async for message in events.listen():
                if message["type"] == "message":
                    assert message["data"].split()[-1] == str(replica_port)
                    break
        await events.aclose()
        assert await client.set("test:failover", "after")
        assert SyncRedis(port=replica_port).get("test:failover") == b"after"
    finally:
        await client.aclose()
        await watch.aclose()
        for process in (watcher, replica, master):
            process.terminate()
            process.wait(timeout=30)
