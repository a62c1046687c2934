"""Every string the code can show is translated in ru and en, and the compiled .mo files match."""

from __future__ import annotations

import io
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
LANGUAGES = ("ru", "en")
# The same keywords as `make locales`, so this test sees what the Makefile extracts.
KEYWORDS = ("_", "__", "N_", "gettext", "ngettext:1,2")
Key = tuple[str, str | None]  # (msgid, msgctxt)


def _key(message: Message) -> Key:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return str(msgid), message.context


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def _domains() -> list[str]:
    found = {path.stem for path in LOCALES.glob("*/LC_MESSAGES/*.po")}
    found |= {path.stem for path in LOCALES.glob("*.pot")}
    return sorted(found)


def _po(language: str, domain: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{domain}.po"


def _all_msgids(domain: str) -> set[Key]:
    """Every msgid that any catalog of the domain (or its template) knows."""
    paths = [*LOCALES.glob(f"*/LC_MESSAGES/{domain}.po"), *LOCALES.glob(f"{domain}.pot")]
    return {_key(m) for path in paths for m in _read_po(path) if m.id}


def _strings(message: Message) -> list[str]:
    value = message.string
    return [str(s or "") for s in value] if isinstance(value, tuple | list) else [value or ""]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def _problems(catalog: Catalog, wanted: set[Key]) -> list[str]:
    messages = {_key(m): m for m in catalog if m.id}
    problems = []
    for key in sorted(wanted, key=str):
        message = messages.get(key)
        if message is None:
            problems.append(f"missing: {key[0]!r}")
        elif message.fuzzy or not all(_strings(message)):
            problems.append(f"untranslated or fuzzy: {key[0]!r}")
        elif message.python_brace_format and any(
            not _fields(s) <= _fields(" ".join(_strings_of_id(message))) for s in _strings(message)
        ):
            problems.append(f"placeholders differ: {key[0]!r}")
    return problems


def _strings_of_id(message: Message) -> list[str]:
    return [str(s) for s in message.id] if isinstance(message.id, tuple | list) else [message.id]


def _entries(catalog: Catalog) -> dict[Key, tuple[str, ...]]:
    return {_key(m): tuple(_strings(m)) for m in catalog if m.id and not m.fuzzy}


def test_there_is_a_catalog_to_check() -> None:
    assert "messages" in _domains()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", _domains())
def test_every_msgid_is_translated(language: str, domain: str) -> None:
    path = _po(language, domain)
    assert path.exists(), f"{path} is missing: run `make locales`"
    assert _problems(_read_po(path), _all_msgids(domain)) == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", _domains())
def test_compiled_catalog_matches_its_po(language: str, domain: str) -> None:
    po = _read_po(_po(language, domain))
    mo_path = _po(language, domain).with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run `make locales`"
    with mo_path.open("rb") as file:
        committed = read_mo(file)
    fresh = io.BytesIO()
    write_mo(fresh, po)
    fresh.seek(0)
    assert _entries(committed) == _entries(read_mo(fresh)), "stale .mo: run `make locales`"


def test_every_string_in_the_code_is_in_the_catalogs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pot = tmp_path / "messages.pot"
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    monkeypatch.chdir(ROOT)
    argv = ["pybabel", "-q", "extract", "-F", "babel.cfg", *keywords, "-o", str(pot), "."]
    CommandLineInterface().run(argv)  # type: ignore[no-untyped-call]
    in_code = {_key(m) for m in _read_po(pot) if m.id}
    assert ("Hello!", None) in in_code
    for language in LANGUAGES:
        assert _problems(_read_po(_po(language, "messages")), in_code) == [], language
