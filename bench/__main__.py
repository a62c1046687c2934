"""`make bench`: every figure of docs/PERFORMANCE.md, each beside its baseline from the same run.

    python -m bench [--size full|smoke] [--out bench/results.json] [--plot bench/latency.png]

Writes every key to the JSON file and prints a table; `--size smoke` runs in seconds (CI).
Needs PostgreSQL and Redis (BENCH_PG, BENCH_REDIS_URL); the bench makes its own PostgreSQL
database per run and keeps to its own Redis database number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import common, dispatch, e2e, hashing, memory, report, scale

PARTS = ("dispatch", "e2e", "hashing", "memory", "scale")


def _commit() -> str:
    if os.environ.get("BENCH_COMMIT"):  # a run from an exported tree names its commit
        return os.environ["BENCH_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - the developer's git
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def flatten_dispatch(found: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for storage, figures in found.items():
        out[f"dispatch_ups_{storage}"] = figures["full"]["median"]
        out[f"bare_ups_{storage}"] = figures["bare"]["median"]
        out[f"dispatch_ratio_{storage}"] = figures["ratio"]["median"]
    production = found["redis"]["steps"]
    out["redis_cmds_per_update"] = dispatch.mix_average(production, "redis_commands")
    out["redis_round_trips_per_update"] = dispatch.mix_average(production, "redis_round_trips")
    out["sql_per_update"] = dispatch.mix_average(production, "sql_statements")
    out["units_per_update"] = dispatch.mix_average(production, "units")
    out["bare_redis_cmds_per_update"] = dispatch.mix_average(
        found["redis"]["bare_steps"], "redis_commands"
    )
    sqlite = found["memory"]["steps"]
    out["sql_per_update_sqlite"] = dispatch.mix_average(sqlite, "sql_statements")
    out["units_per_update_sqlite"] = dispatch.mix_average(sqlite, "units")
    return out


async def run(size: common.Size, parts: tuple[str, ...]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    details: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for part in parts:
        print(f"... {part}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        if part == "dispatch":
            details["dispatch"] = await dispatch.main(size)
            results.update(flatten_dispatch(details["dispatch"]))
        elif part == "e2e":
            found = await e2e.main(size)
            details["e2e_curve"] = found.pop("curve")
            results.update(found)
        elif part == "hashing":
            found = await hashing.main(size)
            details["login_ratio"] = found.pop("login_ratio")
            details["login_outcomes"] = found.pop("login_outcomes")
            results.update(found)
        elif part == "memory":
            results.update(await memory.main(size))
        elif part == "scale":
            found = await scale.main(size)
            details["redis_benchmark_rps"] = found.pop("redis_benchmark_rps", None)
            results.update(found)
        seconds[part] = round(time.perf_counter() - start, 1)
    if "scale" in parts and "dispatch" in parts and "memory" in parts:
        results["projection"] = scale.project(results)
    details["seconds"] = seconds
    results["details"] = details
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(common.SIZES), default="full")
    parser.add_argument("--out", type=Path, default=Path("bench/results.json"))
    parser.add_argument("--plot", type=Path, default=None, help="latency against offered load")
    parser.add_argument("--only", nargs="*", choices=PARTS, default=list(PARTS))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger().addHandler(common.WARNINGS)
    logging.getLogger().setLevel(logging.WARNING)
    size = common.SIZES[args.size]
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    results = asyncio.run(run(size, tuple(p for p in PARTS if p in args.only)))
    results["run"] = {
        "size": size.name,
        "commit": _commit(),
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    results["warnings"] = sum(common.WARNINGS.seen.values())
    results["hung_updates"] = len(common.HUNG)
    results["details"]["warnings"] = dict(common.WARNINGS.seen.most_common(20))
    results["targets"] = report.targets(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(report.table(results))
    if args.plot is not None and "e2e_curve" in results["details"]:
        report.plot(results, args.plot)
        print(f"plot: {args.plot}")
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
