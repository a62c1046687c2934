"""gettext catalogs of the `messages` domain in `locales/`, shared with the bot's aiogram I18n."""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

# locales/{ru,en}/LC_MESSAGES/messages.mo: the layout aiogram.utils.i18n.I18n(path=..., domain=...)
# expects, so the bot and core read the same compiled catalogs.
LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "messages"
SUPPORTED = ("ru", "en")


def pick_locale(language_code: str | None, default: str) -> str:
    """The supported locale for a Telegram or browser language tag: 'ru-RU' -> 'ru'."""
    if not language_code:
        return default
    primary = language_code.replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if primary in SUPPORTED else default


@cache
def translator(locale: str) -> gettext.NullTranslations:
    """The catalog of one locale, read on first use; an unknown locale falls back to the msgids."""
    return gettext.translation(DOMAIN, localedir=LOCALES_DIR, languages=[locale], fallback=True)
