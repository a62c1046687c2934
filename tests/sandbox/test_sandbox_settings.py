"""The sandbox supplies defaults only: the environment and .env win over them, keyword arguments
to start_sandbox win over both, and it says which services it uses (issue #15)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sandbox.stack import SANDBOX_TOKEN, describe_services, sandbox_settings, start_sandbox
from tests import services

URL = "http://127.0.0.1:8080"
CATCHER = 2626


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the shell that runs the tests, and no .env but the test's own."""
    for name in ("REDIS_URL", "RESEND_COOLDOWN", "DATABASE_URL", "BOT_TOKEN", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_without_settings_everything_is_the_sandboxs_own(tmp_path: Path) -> None:
    settings = sandbox_settings(URL, tmp_path, CATCHER)
    assert settings.redis_url is None
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", CATCHER)
    assert settings.resend_cooldown == 30
    assert "sandbox's SMTP catcher on 127.0.0.1:2626" in "\n".join(
        describe_services(settings, CATCHER)
    )


def test_the_environment_wins_over_the_sandboxs_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    redis = services.redis_url()
    monkeypatch.setenv("REDIS_URL", redis)
    monkeypatch.setenv("RESEND_COOLDOWN", "7")
    monkeypatch.setenv("SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("SMTP_PORT", "2525")
    monkeypatch.setenv("SMTP_PASSWORD", "not-to-be-shown")

    settings = sandbox_settings(URL, tmp_path, CATCHER)

    assert settings.redis_url == redis
    assert settings.resend_cooldown == 7
    assert (settings.smtp_host, settings.smtp_port) == ("mail.example.org", 2525)
    assert settings.smtp_tls.value == "starttls"  # the product's default, not the catcher's
    told = "\n".join(describe_services(settings, CATCHER))
    assert "the SMTP server mail.example.org:2525" in told
    assert "not-to-be-shown" not in told


def test_a_dot_env_file_wins_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RESEND_COOLDOWN=9\nREDIS_URL=\n", encoding="utf-8")
    settings = sandbox_settings(URL, tmp_path, CATCHER)
    assert settings.resend_cooldown == 9
    assert settings.redis_url is None  # `NAME=` means the default, as in .env.example


def test_keyword_arguments_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RESEND_COOLDOWN", "7")
    monkeypatch.setenv("BOT_TOKEN", "999:a-real-bot-of-the-developer")
    settings = sandbox_settings(URL, tmp_path, CATCHER, resend_cooldown=1, smtp_port=2727)
    assert settings.resend_cooldown == 1
    assert settings.smtp_port == 2727
    # What the sandbox is stays: its bot, not the one in the environment.
    assert settings.bot_token.get_secret_value() == SANDBOX_TOKEN


async def test_start_sandbox_takes_smtp_settings_as_keywords(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SMTP_HOST", "mail.example.org")
    stack = await start_sandbox("127.0.0.1", 0, tmp_path / "data", smtp_port=2525)
    try:
        settings = stack.services.settings
        assert (settings.smtp_host, settings.smtp_port) == ("mail.example.org", 2525)
    finally:
        await stack.stop()


def test_docs_name_every_setting_the_sandbox_supplies(tmp_path: Path) -> None:
    """docs/SANDBOX.md, "Settings", names each setting whose value the sandbox changes from the
    product's default: a new one cannot be supplied silently."""
    from core.settings import Settings

    docs = (Path(__file__).resolve().parents[2] / "docs" / "SANDBOX.md").read_text()
    section = docs[docs.index("### Settings: the sandbox supplies defaults only") :]
    settings = sandbox_settings(URL, tmp_path, CATCHER, env_file=None)
    supplied = [
        name
        for name, field in Settings.model_fields.items()
        if field.is_required()
        or getattr(settings, name) != field.get_default(call_default_factory=True)
    ]
    assert {"database_url", "smtp_port", "resend_cooldown"} <= set(supplied)
    missing = [name for name in supplied if not re.search(rf"`{name.upper()}(=[^`]*)?`", section)]
    assert missing == []
