"""Do two runs of `make bench` agree? Each ratio of one beside the other's (issue #13: within 15 %).

    python -m bench.compare first.json second.json [--tolerance 0.15]

A ratio is the product's figure over its baseline from the same run, the only numbers of a run
that are meant to be read across runs. The difference is |a - b| over the larger of the two.
Prints a table; exits 1 when a ratio differs by more than the tolerance or is in one run only.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

R = dict[str, Any]


@dataclass(frozen=True)
class Ratio:
    name: str
    key: str  # the product's figure
    base: str  # its baseline from the same run
    kept: str | None = None  # the run's own median of the repetitions' ratios, where it kept one
    repetitions: tuple[str, ...] = ()  # where under "details" the repetitions' spread is


RATIOS: tuple[Ratio, ...] = (
    Ratio(
        "dispatch, memory + SQLite",
        "dispatch_ups_memory",
        "bare_ups_memory",
        kept="dispatch_ratio_memory",
        repetitions=("dispatch", "memory", "ratio"),
    ),
    Ratio(
        "dispatch, Redis + PostgreSQL",
        "dispatch_ups_redis",
        "bare_ups_redis",
        kept="dispatch_ratio_redis",
        repetitions=("dispatch", "redis", "ratio"),
    ),
    Ratio(
        "end to end, polling (max sustained)",
        "e2e_max_sustained_ups",
        "e2e_bare_max_sustained_ups",
    ),
    Ratio(
        "end to end, webhook (max sustained)",
        "e2e_webhook_max_sustained_ups",
        "e2e_webhook_bare_max_sustained_ups",
    ),
    Ratio("/me p99 hashing / idle", "me_p99_ms_hashing", "me_p99_ms_idle"),
    Ratio(
        "sign-in / argon2 verify",
        "login_rps",
        "argon2_verify_per_s",
        repetitions=("login_ratio",),
    ),
    Ratio(
        "Redis bytes per conversation",
        "redis_bytes_per_conversation",
        "bare_redis_bytes_per_conversation",
    ),
    Ratio(
        "process memory per conversation",
        "rss_kb_per_conversation",
        "bare_rss_kb_per_conversation",
    ),
)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def ratio(results: R, which: Ratio) -> float | None:
    """The run's median ratio where it kept one (dispatch), else the two medians' quotient."""
    if which.kept is not None:
        return _number(results.get(which.kept))
    value, baseline = _number(results.get(which.key)), _number(results.get(which.base))
    return None if value is None or not baseline else value / baseline


def spread(results: R, which: Ratio) -> str:
    """min / median / max of the repetitions, where the run kept them."""
    found: Any = results.get("details", {}) if which.repetitions else None
    for step in which.repetitions:
        found = found.get(step) if isinstance(found, dict) else None
    if not isinstance(found, dict) or not {"min", "median", "max"} <= found.keys():
        return ""
    return " / ".join(f"{found[k]:.3f}" for k in ("min", "median", "max"))


def compare(first: R, second: R, tolerance: float) -> tuple[list[tuple[str, ...]], bool]:
    rows: list[tuple[str, ...]] = []
    agree = True
    for which in RATIOS:
        a, b = ratio(first, which), ratio(second, which)
        if a is None and b is None:  # a part neither run ran (`--only`)
            continue
        difference: float | None = None  # a ratio in one run only does not agree
        if a is not None and b is not None:
            larger = max(abs(a), abs(b))
            difference = abs(a - b) / larger if larger else 0.0
        within = difference is not None and difference <= tolerance
        agree = agree and within
        rows.append(
            (
                which.name,
                _n(a),
                spread(first, which),
                _n(b),
                spread(second, which),
                "—" if difference is None else f"{difference:.0%}",
                "yes" if within else "**no**",
            )
        )
    return rows, agree


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _run(results: R) -> str:
    run = results.get("run", {})

    def load(key: str) -> str:
        found = run.get(key)
        return f"{found[0]:.1f}" if isinstance(found, list) and found else "?"

    commit, size = run.get("commit", "?"), run.get("size", "?")
    return f"{commit} {size}, load {load('load_average_before')}–{load('load_average_after')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare", description=__doc__.split("\n")[0]
    )
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--tolerance", type=float, default=0.15)
    args = parser.parse_args(argv)
    first, second = (json.loads(p.read_text()) for p in (args.first, args.second))
    rows, agree = compare(first, second, args.tolerance)
    print(f"first: {_run(first)}; second: {_run(second)}")
    head = ("ratio", "first", "repetitions", "second", "repetitions", "difference", "within")
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"every ratio within {args.tolerance:.0%}: {'yes' if agree else 'no'}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
