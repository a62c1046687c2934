"""`accountbot workspace keys list|rotate [--now]` run as an operator would (PRODUCT §1.11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accountbot.cli import main
from tests.accountbot.test_cli import accountbot

WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


def test_keys_are_rotated_ahead_listed_and_replaced_at_once_in_an_emergency(
    tmp_path: Path,
) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/k.sqlite3"}
    assert accountbot("migrate", env=env, cwd=tmp_path).returncode == 0

    def run(*args: str, **more: str) -> list[str]:
        done = accountbot("workspace", "keys", *args, env={**env, **more}, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert '"d"' not in done.stdout and "'d'" not in done.stdout  # no private part, ever
        return done.stdout.splitlines()

    # Before the web server's first start nothing signs: the first key signs at once.
    first = run("rotate")
    kid1 = first[0].split()[2].rstrip(":")
    assert re.fullmatch(rf"{kid1}\tsigning\t{WHEN}", first[2])

    ahead = run("rotate", OP_KEY_PUBLISH_AHEAD="3600")
    kid2 = ahead[0].split()[2].rstrip(":")
    assert re.fullmatch(rf"New key {kid2}: in JWKS now, signs from {WHEN}\.", ahead[0])
    assert re.fullmatch(rf"{kid1}\tsigning\t{WHEN}", ahead[2])
    assert re.fullmatch(rf"{kid2}\tpublished-ahead-until {WHEN}\t{WHEN}", ahead[3])

    emergency = run("rotate", "--now")
    kid3 = emergency[0].split()[2].rstrip(":")
    assert emergency[0].startswith(f"New key {kid3}: signs from now, ")
    assert emergency[1] == f"Removed from JWKS: {kid1}, {kid2}."
    assert "no longer verify" in emergency[2]
    assert [line.split("\t")[:2] for line in emergency[5:]] == [[kid3, "signing"]]


def test_the_help_says_what_an_emergency_rotation_breaks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["workspace", "keys", "rotate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "signing after OP_KEY_PUBLISH_AHEAD" in text
    assert "the ID tokens they signed stop verifying" in text
