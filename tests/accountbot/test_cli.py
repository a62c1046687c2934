"""The operator's commands, run as an operator would: a new process with environment variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.adapters.db.migrate import revisions


def accountbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    return subprocess.run(
        [sys.executable, "-m", "accountbot", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_creates_a_sqlite_schema_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/new/accounts.sqlite3"}

    first = accountbot("migrate", env=env, cwd=tmp_path)
    second = accountbot("migrate", env=env, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert f"revision {revisions()[-1]}" in second.stdout
    assert (tmp_path / "new" / "accounts.sqlite3").exists()


async def test_migrate_creates_a_postgres_schema(pg_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": pg_url}

    assert accountbot("migrate", env=env, cwd=tmp_path).returncode == 0
    again = accountbot("migrate", env=env, cwd=tmp_path)

    assert again.returncode == 0, again.stderr
    import asyncpg

    conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables")}
    finally:
        await conn.close()
    assert {"accounts", "bindings", "social_identities", "audit_events"} <= tables


def test_a_missing_setting_stops_start_up_with_one_line_naming_it(tmp_path: Path) -> None:
    result = accountbot(
        "check-config",
        env={"BOT_TOKEN": "1:x", "PUBLIC_URL": "https://id.example.com"},
        cwd=tmp_path,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SECRET_KEY is required (at least 32 random characters)."
    ]


def test_a_malformed_setting_is_named_with_what_is_expected(tmp_path: Path) -> None:
    result = accountbot(
        "check-config",
        env={
            "BOT_TOKEN": "1:x",
            "SECRET_KEY": "s" * 40,
            "PUBLIC_URL": "https://id.example.com",
            "WEB_PORT": "eighty",
        },
        cwd=tmp_path,
    )

    assert result.returncode == 2
    assert result.stderr.startswith("Configuration error: WEB_PORT ")
    assert "integer" in result.stderr


def test_webhook_mode_without_a_secret_is_refused_in_one_line(tmp_path: Path) -> None:
    result = accountbot(
        "check-config",
        env={
            "BOT_TOKEN": "1:x",
            "SECRET_KEY": "s" * 40,
            "PUBLIC_URL": "https://id.example.com",
            "TELEGRAM_MODE": "webhook",
        },
        cwd=tmp_path,
    )

    assert result.returncode == 2
    assert result.stderr.strip().startswith("Configuration error: WEBHOOK_SECRET is required")
    assert len(result.stderr.strip().splitlines()) == 1


def test_workspaces_are_managed_from_the_command_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/w.sqlite3"}
    assert accountbot("migrate", env=env, cwd=tmp_path).returncode == 0

    created = accountbot("workspace", "create", "portal", "Main portal", env=env, cwd=tmp_path)
    listed = accountbot("workspace", "list", env=env, cwd=tmp_path)

    assert created.returncode == 0, created.stderr
    assert listed.stdout.strip() == "portal\tMain portal"
