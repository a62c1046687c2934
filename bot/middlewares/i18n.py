"""aiogram's gettext middleware, with the language the Person middleware chose."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware

from core.i18n import DOMAIN, LOCALES_DIR


def make_i18n(default_locale: str) -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


class PersonI18n(I18nMiddleware):
    """The account's language, else Telegram's language_code, else DEFAULT_LOCALE."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        locale: str = data.get("locale") or self.i18n.default_locale
        return locale
