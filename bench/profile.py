"""Where the time of a bench part goes, from a py-spy profile in raw (collapsed) format.

    py-spy record -f raw -o prof.txt -- .venv/bin/python -m bench --only dispatch
    .venv/bin/python -m bench.profile prof.txt

Samples are counted per thread; a stack goes to the bucket of its innermost frame that matches
one: a sample inside SQLAlchemy called from a flow counts as "database", one in the product's
own frames as "product code".
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# (bucket, a pattern one of the stack's frames matches), first match wins.
BUCKETS: tuple[tuple[str, str], ...] = (
    ("argon2", r"argon2"),
    ("database (SQLAlchemy, aiosqlite, asyncpg)", r"sqlalchemy|aiosqlite|asyncpg|sqlite3"),
    ("Redis client", r"[(/]redis/|fsm/storage/redis"),
    ("thread hand-off (run_in_executor, to_thread)", r"run_in_executor|to_thread|futures"),
    ("i18n (gettext, babel)", r"gettext|babel"),
    ("aiogram types (pydantic)", r"pydantic"),
    ("aiogram filters and magic", r"aiogram/filters|magic_filter"),
    ("the sandbox's Bot API", r"sandbox/botapi"),
    ("aiohttp", r"aiohttp"),
    ("logging", r"logging/"),
    ("product code (bot/, core/, web/)", r"\((bot|core|web)/"),
    ("aiogram dispatch", r"aiogram/"),
    ("asyncio loop", r"asyncio/"),
)


def summarize(path: Path, within: str | None = "feed_update") -> list[tuple[str, int, float]]:
    """(bucket, samples, share) of the stacks that pass through `within` (None: all)."""
    counts: Counter[str] = Counter()
    compiled = [(name, re.compile(pattern)) for name, pattern in BUCKETS]
    for line in path.read_text(errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit() or (within and within not in stack):
            continue
        frames = stack.split(";")
        bucket = next((name for name, rx in compiled if any(rx.search(f) for f in frames)), "other")
        counts[bucket] += int(number)
    total = sum(counts.values()) or 1
    return [(name, n, n / total) for name, n in counts.most_common()]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("raw", type=Path, help="py-spy record -f raw output")
    parser.add_argument("--within", default="feed_update", help="only stacks through this frame")
    args = parser.parse_args()
    rows = summarize(args.raw, args.within or None)
    total = sum(n for _, n, _ in rows)
    print(f"| where (stacks through {args.within or 'anything'}) | samples | share |")
    print("| --- | --- | --- |")
    for name, n, share in rows:
        print(f"| {name} | {n:,} | {share:.0%} |")
    print(f"| total | {total:,} | |")


if __name__ == "__main__":
    main()
