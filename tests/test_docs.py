"""Every setting is documented; every rule the code cites is a section of docs/PRODUCT.md."""

from __future__ import annotations

import re
import subprocess
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


def product_sections() -> set[str]:
    """Every citable place of docs/PRODUCT.md: "3", "1.4", and numbered items ("1.4.6", "3.3")."""
    found: set[str] = set()
    section = ""
    for line in (ROOT / "docs" / "PRODUCT.md").read_text().splitlines():
        heading = re.match(r"#{2,3} (\d+(?:\.\d+)?)\.? ", line)
        if heading:
            section = heading.group(1)
            found.add(section)
            continue
        item = re.match(r"(\d+)\. ", line)
        if item and section:
            found.add(f"{section}.{item.group(1)}")
    return found


def product_references() -> list[tuple[str, str]]:
    """(file, section) for every "PRODUCT §x" the repository's code and docs cite."""
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    found = []
    for name in listed:
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".html", ".js", ".txt", ".po"} or not path.is_file():
            continue
        for cited in re.findall(r"PRODUCT §(\d+(?:\.\d+)*)", path.read_text(errors="ignore")):
            found.append((name, cited))
    return found


def test_every_rule_the_code_cites_is_a_section_of_the_product_document() -> None:
    sections = product_sections()
    references = product_references()

    assert len(references) > 100
    assert {"1.1", "1.9", "1.11", "2", "3", "3.5"} <= sections
    assert [(name, cited) for name, cited in references if cited not in sections] == []


OUTSIDE = "SPEC" + " §"  # the specification this project started from, which it does not ship


def test_nothing_cites_a_document_outside_the_repository() -> None:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    citing = [
        name
        for name in listed
        if name.endswith((".py", ".md", ".html", ".js"))
        and (ROOT / name).is_file()
        and OUTSIDE in (ROOT / name).read_text(errors="ignore")
    ]
    assert citing == []
