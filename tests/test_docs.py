"""The README and .env.example document every setting there is."""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
NAMES = [name.upper() for name in Settings.model_fields]


@pytest.mark.parametrize("name", NAMES)
def test_every_setting_is_in_the_readme(name: str) -> None:
    assert f"`{name}`" in (ROOT / "README.md").read_text()


def test_env_example_lists_every_setting_and_loads_with_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = dotenv_values(ROOT / ".env.example")

    assert sorted(values) == sorted(NAMES)
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    required = {"bot_token": "1:x", "public_url": "https://id.example.com", "secret_key": "s" * 32}
    settings = Settings(_env_file=ROOT / ".env.example", **required)  # type: ignore[call-arg]
    assert settings.login_failures_per_login == 5


def test_the_readme_starts_with_the_two_command_quick_start() -> None:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert block.split() == ["make", "sandbox", "make", "test"]
