"""Scale-out on paper: Redis and PostgreSQL capacity measured here, and the projection.

redis-benchmark runs against the bench's own Redis database (`--dbnum`, its one key removed
after); pgbench against a fresh database of its own, dropped after. A tool that is not installed
is said so in the results (`apt-get install redis-tools postgresql-contrib`), never guessed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
import re
import shutil
from typing import Any
from urllib.parse import urlsplit

from bench import common
from bench.common import Size

TARGETS = (1_000, 10_000)  # updates/s the projection is made for
# A conversation of the step mix (6 updates) stays in progress about five minutes.
CONVERSATION_SECONDS, UPDATES_PER_CONVERSATION = 300, 6


async def _run(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"{args[0]} failed: {out.decode(errors='replace')[-500:]}")
    return out.decode(errors="replace")


async def redis_capacity(size: Size) -> dict[str, Any]:
    tool = shutil.which("redis-benchmark")
    if tool is None:
        return {"redis_benchmark": "not installed (apt-get install redis-tools)"}
    url = urlsplit(common.REDIS_URL)
    db = (url.path or "/0").lstrip("/") or "0"
    requests = str(10_000 * size.tool_seconds)
    args = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 6379), "--dbnum", db]
    out = await _run(tool, *args, "-n", requests, "-q", "-t", "set,get", "--csv")
    from redis.asyncio import Redis

    client = Redis.from_url(common.REDIS_URL)
    try:
        await client.delete("key:__rand_int__")  # the one key redis-benchmark's SET/GET use
    finally:
        await client.aclose()
    rows = {row["test"]: float(row["rps"]) for row in csv.DictReader(io.StringIO(out))}
    return {"redis_ops_per_s": min(rows.values()), "redis_benchmark_rps": rows}


async def pg_capacity(size: Size) -> dict[str, Any]:
    tool = shutil.which("pgbench")
    if tool is None:
        return {"pgbench": "not installed (apt-get install postgresql-contrib)"}
    async with common.pg_database() as url:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        await _run(tool, "-i", "-s", "1", "-q", dsn)
        seconds = str(size.tool_seconds)
        run = (tool, "-n", "-c", "4", "-j", "2", "-T", seconds, dsn)
        tpcb = _tps(await _run(*run))
        select = _tps(await _run(*run[:-1], "-S", dsn))
    return {"pg_tpcb_tps": tpcb, "pg_select_tps": select}


def _tps(out: str) -> float:
    found = re.search(r"tps = ([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"no tps in pgbench's output: {out[-300:]}")
    return float(found.group(1))


def project(results: dict[str, Any]) -> dict[str, Any]:
    """Instances and sizes for TARGETS updates/s, from operations per update and capacity."""
    out: dict[str, Any] = {}
    bot_ups = results.get("dispatch_ups_redis")
    for ups in TARGETS:
        plan: dict[str, Any] = {}
        if bot_ups:
            plan["bot_processes"] = math.ceil(ups / bot_ups)
        if "redis_ops_per_s" in results:
            needed = ups * results["redis_cmds_per_update"]
            plan["redis_ops_per_s"] = needed
            plan["redis_instances"] = math.ceil(needed / results["redis_ops_per_s"])
        if "pg_tpcb_tps" in results:
            units = ups * results["units_per_update"]
            plan["pg_units_per_s"] = units
            plan["pg_statements_per_s"] = ups * results["sql_per_update"]
            plan["pg_instances"] = math.ceil(units / results["pg_tpcb_tps"])
        in_progress = ups * CONVERSATION_SECONDS / UPDATES_PER_CONVERSATION
        plan["conversations_in_progress"] = in_progress
        plan["redis_mb"] = in_progress * results["redis_bytes_per_conversation"] / 1e6
        out[str(ups)] = plan
    out["assumption"] = (
        f"a conversation is {UPDATES_PER_CONVERSATION} updates and stays in progress "
        f"{CONVERSATION_SECONDS} s; one bot process is one core at dispatch_ups_redis"
    )
    return out


async def main(size: Size) -> dict[str, Any]:
    return {**await redis_capacity(size), **await pg_capacity(size)}
