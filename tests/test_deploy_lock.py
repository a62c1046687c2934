"""Reproducible installs (issue #14, deliverable 6): the lock files, `make lock`, `make audit`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: ;.*?)? \\$")
sys.path.insert(0, str(ROOT / "tools"))
import audit  # noqa: E402


def pinned(lock: Path) -> dict[str, tuple[str, int]]:
    """Each pin of a lock: its version and how many hashes it carries."""
    out: dict[str, tuple[str, int]] = {}
    name = ""
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            out[name] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = out[name]
            out[name] = (version, hashes + 1)
        else:
            assert not re.match(r"^[A-Za-z0-9]", line), f"an entry that is not a pin: {line}"
    return out


def test_every_dependency_is_pinned_with_hashes_and_both_locks_agree() -> None:
    product, dev = pinned(LOCKS / "product.txt"), pinned(LOCKS / "dev.txt")
    assert {"aiogram", "sqlalchemy", "redis", "asyncpg", "pytest", "ruff"} <= set(dev)
    assert "pytest" not in product and "ruff" not in product  # the image gets no test tools
    assert [name for name, (_, hashes) in dev.items() if hashes == 0] == []
    assert [name for name, (_, hashes) in product.items() if hashes == 0] == []
    # The product's pins are the same in the image and in CI.
    assert {name: dev[name][0] for name in product} == {n: v for n, (v, _) in product.items()}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in product, spec
        assert requirement.specifier.contains(product[name][0], prereleases=True), spec
    for spec in project["optional-dependencies"]["dev"]:
        assert canonicalize_name(Requirement(spec).name) in dev, spec


def test_the_locks_hold_the_markers_of_python_3_11() -> None:
    # redis needs async-timeout before 3.11.3 only; a lock made for one patch release would
    # install it everywhere or nowhere.
    text = (LOCKS / "product.txt").read_text()
    assert "async-timeout==" in text and "python_full_version < '3.11.3'" in text


def test_make_install_and_the_image_install_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps -r requirements/dev.txt" in makefile
    assert "--no-deps -e . -e ./sandbox" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert (
        "--require-hashes --no-deps --wheel-dir /wheels -r requirements/product.txt" in dockerfile
    )
    assert "make audit" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lock_reproduces_the_committed_locks(tmp_path: Path) -> None:
    """`make lock` (the documented way to re-lock) run on copies leaves them as committed: the
    locks are up to date with pyproject.toml, and re-locking without --upgrade moves no pin."""
    for lock in ("product.txt", "dev.txt"):
        shutil.copy(LOCKS / lock, tmp_path / lock)
    done = subprocess.run(
        ["make", "-o", ".venv/.installed", "lock", f"LOCK_DIR={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for lock in ("product.txt", "dev.txt"):  # the "# via" notes name the folder: left out
        assert entries(tmp_path / lock) == entries(LOCKS / lock), lock


def entries(lock: Path) -> list[str]:
    return [line for line in lock.read_text().splitlines() if not line.lstrip().startswith("#")]


def test_the_audit_passes_on_the_locked_set() -> None:
    hits, stale, checked, stamp = audit.audit(
        [LOCKS / "product.txt", LOCKS / "dev.txt"], audit.default_db(), audit.ignored(audit.IGNORES)
    )
    assert checked >= 40 and stamp[:2] == "20"
    assert (hits, stale) == ([], [])


def test_the_audit_names_a_vulnerable_pin_offline(tmp_path: Path) -> None:
    # aiohttp 3.7.3 is in the packaged database (a redirect flaw fixed in 3.7.4); 3.14 is not.
    lock = tmp_path / "lock.txt"
    lock.write_text("aiohttp==3.7.3 \\\n    --hash=sha256:00\nredis==8.1.0 \\\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "audit.py"), str(lock)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    vulnerable = [line for line in done.stdout.splitlines() if "VULNERABLE" in line]
    assert vulnerable and all(
        line.startswith("audit: VULNERABLE aiohttp==3.7.3") for line in vulnerable
    )
    assert "2 locked pins" in done.stdout


def test_an_ignore_that_no_longer_matches_fails_the_audit(tmp_path: Path) -> None:
    lock = tmp_path / "lock.txt"
    lock.write_text("aiohttp==3.14.5 \\\n")
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("# why each is ignored\npyup.io-1  fixed long ago\n")
    assert audit.main([str(lock), "--ignore", str(ignore)]) == 1
    ignore.write_text("")
    assert audit.main([str(lock), "--ignore", str(ignore)]) == 0
