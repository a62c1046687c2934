"""Known vulnerabilities in the locked dependencies, without the network (`make audit`).

The advisories come from a package, safety-db (PyUp's database of insecure Python releases,
installed from requirements/dev.txt), so the audit gives the same answer on a machine that
reaches nothing but the package index. Every `name==version` pin of the lock files given is
checked against the ranges of every advisory on that name, markers or not: a pin that the lock
holds is audited even where this interpreter would skip it. Exit status 1 names each hit.

An advisory that does not apply is listed with its reason in tools/audit-ignore.txt, one
`<advisory id>  <reason>` a line; an ignored id that no longer matches any pin is reported too,
so the list does not outlive its reasons.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import re
import sys
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
IGNORES = Path(__file__).with_name("audit-ignore.txt")


def default_db() -> Path:
    # Located, not imported: the package's __init__ opens its files relative to the working
    # directory and fails anywhere else.
    spec = importlib.util.find_spec("safety_db")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("audit: the advisory database (safety-db) is not installed: make install")
    return Path(next(iter(spec.submodule_search_locations))) / "insecure_full.json"


def pins(lock: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def ignored(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            ident, _, reason = line.partition(" ")
            out[ident] = reason.strip()
    return out


def audit(
    locks: list[Path], db: Path, ignore: dict[str, str]
) -> tuple[list[str], list[str], int, str]:
    """The hits (one line each), the ignores that matched nothing, the pins checked, the date."""
    data = json.loads(db.read_text(encoding="utf-8"))
    meta = data.pop("$meta", {})
    advisories = {canonicalize_name(name): entries for name, entries in data.items()}
    locked: dict[str, str] = {}
    for lock in locks:
        locked.update(pins(lock))
    hits: list[str] = []
    used: set[str] = set()
    for name, raw in sorted(locked.items()):
        try:
            version = Version(raw)
        except InvalidVersion:
            continue
        for entry in advisories.get(name, []):
            specs = entry.get("specs") or [entry.get("v", "")]
            if not any(s and version in SpecifierSet(s, prereleases=True) for s in specs):
                continue
            ident = str(entry.get("id", "?"))
            if ident in ignore:
                used.add(ident)
                continue
            cve = entry.get("cve") or "no CVE"
            advisory = " ".join(str(entry.get("advisory", "")).split())[:200]
            hits.append(f"{name}=={raw}: {ident} ({cve}), affected {', '.join(specs)}: {advisory}")
    stale = sorted(set(ignore) - used)
    when = meta.get("timestamp")
    stamp = dt.datetime.fromtimestamp(when, dt.UTC).date().isoformat() if when else "?"
    return hits, stale, len(locked), stamp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("locks", nargs="+", type=Path)
    parser.add_argument("--db", type=Path, default=None, help="an insecure_full.json to read")
    parser.add_argument("--ignore", type=Path, default=IGNORES)
    args = parser.parse_args(argv)
    db = args.db or default_db()
    hits, stale, checked, stamp = audit(args.locks, db, ignored(args.ignore))
    for hit in hits:
        print(f"audit: VULNERABLE {hit}")
    for ident in stale:
        print(f"audit: {args.ignore.name} ignores {ident}, which matches no locked pin: remove it")
    verdict = "FAILED" if hits or stale else "ok"
    print(
        f"audit: {verdict}: {checked} locked pins, {len(hits)} known vulnerable, "
        f"advisories of {db.name} dated {stamp}"
    )
    return 1 if hits or stale else 0


if __name__ == "__main__":
    sys.exit(main())
