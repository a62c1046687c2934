"""`make bench` cannot rot: its smoke size runs and writes every key with a number.

The figures themselves are never asserted (they move with the machine); docs/PERFORMANCE.md
reads them from a full run. PostgreSQL and Redis are required: missing, the test is skipped,
and under CI=true it fails.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from tests import services

ROOT = Path(__file__).resolve().parents[2]
# Every key issue #13 names, for both storage pairs.
KEYS = [
    *(
        f"{figure}_{storage}"
        for storage in ("memory", "redis")
        for figure in ("dispatch_ups", "bare_ups", "dispatch_ratio")
    ),
    "redis_cmds_per_update",
    "redis_round_trips_per_update",
    "sql_per_update",
    "units_per_update",
    "e2e_p50_ms",
    "e2e_p99_ms",
    "e2e_max_sustained_ups",
    "e2e_bare_max_sustained_ups",
    "e2e_webhook_p50_ms",
    "e2e_webhook_p99_ms",
    "e2e_webhook_max_sustained_ups",
    "e2e_webhook_bare_max_sustained_ups",
    "me_p99_ms_hashing",
    "me_p99_ms_idle",
    "login_rps",
    "argon2_verify_per_s",
    "redis_bytes_per_conversation",
    "rss_kb_per_conversation",
]


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_the_smoke_size_writes_every_key_with_a_number(tmp_path: Path) -> None:
    services.require("PostgreSQL", services.PG_HOST, services.PG_PORT)
    services.require("Redis", services.REDIS_HOST, services.REDIS_PORT)
    out = tmp_path / "results.json"
    env = {
        **os.environ,
        "BENCH_PG": f"postgresql://{services.PG_USER}@{services.PG_HOST}:{services.PG_PORT}/postgres",
        "BENCH_REDIS_URL": f"redis://{services.REDIS_HOST}:{services.REDIS_PORT}/13",
    }
    command = [sys.executable, "-m", "bench", "--size", "smoke", "--out", str(out)]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    results = json.loads(out.read_text())
    assert {key: results.get(key) for key in KEYS if not _number(results.get(key))} == {}
    assert set(results["targets"]) <= set(KEYS)
    # The capacity is measured when the tools are installed, and said to be missing otherwise.
    assert _number(results.get("redis_ops_per_s")) or "not installed" in results["redis_benchmark"]
    assert _number(results.get("pg_tpcb_tps")) or "not installed" in results["pgbench"]
    assert {"1000", "10000"} <= set(results["projection"])
    assert "dispatch_ratio_redis" in done.stdout  # the table is printed
