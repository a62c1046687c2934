"""Letters and SMS texts in Russian and English: the code and link are there, values are escaped."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from core.i18n import pick_locale, translator
from core.letters import (
    TEMPLATES_DIR,
    confirmation_letter,
    email_changed_notice,
    new_address_letter,
    password_changed_notice,
    recovery_letter,
    release_letter,
    sms_code_text,
    sms_recovery_text,
)
from core.ports import Letter

LINK = "https://id.example.com/email/confirm?token=abc&lang=ru"
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
BUILDERS: dict[str, Callable[[str], Letter]] = {
    "confirmation": lambda loc: confirmation_letter(loc, "ivan@example.org", "123456", LINK, 60),
    "release": lambda loc: release_letter(loc, "ivan@example.org", "123456", 60),
    "new_address": lambda loc: new_address_letter(loc, "ivan@example.org", "123456", 60),
    "recovery": lambda loc: recovery_letter(loc, "ivan@example.org", "123456", 60),
    "email_changed": lambda loc: email_changed_notice(loc, "ivan@example.org", "n***@example.net"),
    "password_changed": lambda loc: password_changed_notice(loc, "ivan@example.org"),
}
WITH_CODE = ("confirmation", "release", "new_address", "recovery")


@pytest.mark.parametrize("locale", ["ru", "en"])
@pytest.mark.parametrize("kind", WITH_CODE)
def test_code_letters_show_the_code_in_both_parts(kind: str, locale: str) -> None:
    letter = BUILDERS[kind](locale)
    assert letter.to == "ivan@example.org"
    assert "123456" in letter.text
    assert "123456" in letter.html


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_confirmation_letter_has_the_link_as_a_button_and_in_the_text(locale: str) -> None:
    letter = BUILDERS["confirmation"](locale)
    assert LINK in letter.text
    assert 'href="https://id.example.com/email/confirm?token=abc&amp;lang=ru"' in letter.html


@pytest.mark.parametrize("kind", BUILDERS)
def test_russian_letters_read_in_russian(kind: str) -> None:
    letter = BUILDERS[kind]("ru")
    assert CYRILLIC.search(letter.subject)
    assert CYRILLIC.search(letter.text)
    assert 'lang="ru"' in letter.html


@pytest.mark.parametrize("kind", BUILDERS)
def test_english_letters_have_no_russian(kind: str) -> None:
    letter = BUILDERS[kind]("en")
    assert not CYRILLIC.search(letter.subject + letter.text + letter.html)


@pytest.mark.parametrize("kind", BUILDERS)
def test_html_is_self_contained_and_fits_a_phone(kind: str) -> None:
    html = BUILDERS[kind]("en").html
    assert 'name="viewport"' in html
    assert "<img" not in html
    assert "<link" not in html
    assert "<script" not in html
    assert set(re.findall(r'(?:src|href)="([^"]*)"', html)) <= {LINK.replace("&", "&amp;")}


def test_values_are_escaped_in_html() -> None:
    letter = email_changed_notice("en", "a@example.org", "<b>x</b>@evil.test", product="A & <B>")
    assert "&lt;b&gt;x&lt;/b&gt;@evil.test" in letter.html
    assert "A &amp; &lt;B&gt;" in letter.html
    assert "<b>x</b>" not in letter.html
    assert "<b>x</b>@evil.test" in letter.text


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_markup_from_outside_is_escaped_in_html_and_plain_in_text(locale: str) -> None:
    script = "<script>alert(1)</script>"
    letter = email_changed_notice(locale, "a@example.org", f"{script}@evil.test", product=script)
    assert "<script" not in letter.html
    assert letter.html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # body, footer
    assert f"{script}@evil.test" in letter.text
    assert "&lt;" not in letter.text


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_text_part_reads_as_plain_paragraphs_with_a_signature(locale: str) -> None:
    letter = BUILDERS["confirmation"](locale)
    blocks = letter.text.split("\n\n")
    assert blocks[0] == translator(locale).gettext("Hello!")
    assert "123456" in blocks[3]
    assert blocks[4].endswith(f": {LINK}")
    assert blocks[-1].startswith("-- \n")
    assert letter.text.endswith("\n")
    assert "\n\n\n" not in letter.text
    assert "<" not in letter.text


def test_letter_copy_and_markup_live_in_templates_not_in_python() -> None:
    source = Path(__file__).parents[2].joinpath("core", "letters.py").read_text()
    assert not re.search(r"<[a-zA-Z!/]", source)
    assert not re.search(r"\b(?:_|gettext|ngettext)\(", source)
    for kind in BUILDERS:
        assert (TEMPLATES_DIR / "letters" / f"{kind}.jinja").is_file()
    assert (TEMPLATES_DIR / "letters" / "letter.txt").is_file()
    assert (TEMPLATES_DIR / "letters" / "letter.html").is_file()


def test_notice_of_a_changed_email_names_the_new_address_masked() -> None:
    letter = email_changed_notice("ru", "ivan@example.org", "n***@example.net")
    assert "n***@example.net" in letter.text
    assert letter.subject == "Адрес электронной почты в аккаунте изменён"


def test_release_letter_says_to_ignore_it_if_it_was_not_you() -> None:
    assert "Если это были не вы, просто проигнорируйте письмо" in BUILDERS["release"]("ru").text
    assert "If it was not you, just ignore this letter" in BUILDERS["release"]("en").text


@pytest.mark.parametrize(
    ("minutes", "phrase"),
    [(1, "1 минуту"), (3, "3 минуты"), (11, "11 минут"), (21, "21 минуту"), (60, "60 минут")],
)
def test_russian_lifetime_agrees_with_the_number(minutes: int, phrase: str) -> None:
    letter = recovery_letter("ru", "ivan@example.org", "123456", minutes)
    assert f"Код действует {phrase}." in letter.text


def test_english_lifetime_agrees_with_the_number() -> None:
    assert "valid for 1 minute." in recovery_letter("en", "a@b.org", "123456", 1).text
    assert "valid for 60 minutes." in confirmation_letter("en", "a@b.org", "1", LINK, 60).text


@pytest.mark.parametrize("build", [sms_code_text, sms_recovery_text])
@pytest.mark.parametrize("locale", ["ru", "en"])
def test_sms_fits_one_message_and_carries_the_code(
    build: Callable[[str, str, int], str], locale: str
) -> None:
    text = build(locale, "987654", 10)
    assert "987654" in text
    assert "10" in text
    # 70 characters is one SMS segment in UCS-2, which any Cyrillic forces (3GPP TS 23.038).
    assert len(text) <= 70
    assert bool(CYRILLIC.search(text)) == (locale == "ru")


@pytest.mark.parametrize(
    ("language_code", "expected"),
    [("ru-RU", "ru"), ("ru", "ru"), ("en_GB", "en"), ("EN", "en"), ("de", "ru"), (None, "ru")],
)
def test_pick_locale_maps_language_tags(language_code: str | None, expected: str) -> None:
    assert pick_locale(language_code, "ru") == expected


def test_unknown_locale_falls_back_to_english_msgids() -> None:
    assert translator("xx").gettext("Hello!") == "Hello!"
    assert translator("ru").gettext("Hello!") == "Здравствуйте!"
