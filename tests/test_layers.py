"""What import-linter cannot see: the outer layers reach core only through its flows."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KIT = re.compile(r"\.kit\b")


def test_the_bot_and_the_web_server_never_reach_the_flows_kit() -> None:
    # The Kit holds every port; bot/ and web/ go through the flows (docs/ARCHITECTURE.md).
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("bot", "web")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if KIT.search(line)
    ]
    assert found == [], "\n".join(found)


def test_no_function_imports_a_router_to_dodge_a_cycle() -> None:
    # The conversations return through the continuation table, not by importing their callers.
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "bot" / "routers").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(r"\s+(from bot\.routers|import )", line) or "importlib" in line
    ]
    assert found == [], "\n".join(found)
