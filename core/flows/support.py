"""Support handoff (PRODUCT §1.8): open, close and reopen; one topic per person; the message map."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.domain.addresses import mask_email, mask_phone
from core.ports import Clock
from core.support_ports import Handoff, NewHandoff, Relayed, SupportStore

HIDDEN = "[hidden]"
# A one-time code is 6 digits, typed "123456", "123 456" or "123-456" (core/domain/secrets.py);
# any run of 4-8 digits (a PIN, a code from elsewhere) is hidden too, whatever surrounds it.
CODE_RUN = re.compile(r"(?<!\d)(?:\d{3}[ -]\d{3}|\d{4,8})(?!\d)")
# A link's token (`url_token`: 43 URL-safe characters) or any such run of 16 or more that is not
# a plain word, inside a link or not.
TOKEN = re.compile(r"(?<![\w-])[A-Za-z0-9_-]{16,}(?![\w-])")
LONG_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
# Addresses reach the support chat masked, as everywhere but in the owner's own chat.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s()-]{8,17}\d(?!\d)")
# Ordinary words: letters, maybe joined by hyphens, apostrophes, dots or slashes ("что-то",
# "don't", "example.com"), once the punctuation around them is set aside ("Здравствуйте,").
WORD = re.compile(r"[^\W\d_]+(?:[-'’./][^\W\d_]+)*")
EDGES = "\"'`«»„“”‘’()[]{}<>.,;:!?…-"
PASSWORD_LENGTH = 8  # the shortest password the product accepts (PRODUCT §1.6)


def redact(text: str) -> str:
    """What agents may read of a person's message (PRODUCT §1.8): codes, link tokens and
    password-like words hidden, addresses masked; ordinary words and the spacing stay."""
    text = EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    text = PHONE.sub(_masked_phone, text)
    text = TOKEN.sub(_hidden_token, text)
    text = re.sub(r"\S+", lambda m: HIDDEN if looks_like_password(m.group(0)) else m.group(0), text)
    return CODE_RUN.sub(HIDDEN, text)


def _masked_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) < 10:
        return match.group(0)  # too short for a phone: the code rule decides
    return mask_phone("+" + digits)


def _hidden_token(match: re.Match[str]) -> str:
    return match.group(0) if LONG_WORD.fullmatch(match.group(0)) else HIDDEN


def looks_like_password(word: str) -> bool:
    """A word of 8 or more characters that mixes letters with digits or symbols inside it
    (NIST 800-63B §5.1.1 passwords); a word of letters with punctuation around it is a word."""
    if len(word) < PASSWORD_LENGTH or "@" in word or "://" in word or HIDDEN in word:
        return False
    core = word.strip(EDGES)
    if not core or WORD.fullmatch(core):
        return False
    letters = any(c.isalpha() for c in word)
    return letters and any(c.isdigit() or not c.isalnum() for c in word)


@dataclass(frozen=True)
class SupportFlow:
    """The persistence side of handoffs; the Telegram layer does the sending."""

    store: SupportStore
    clock: Clock

    async def open(
        self,
        telegram_user_id: int,
        account_id: int | None,
        reason: str,
        saved_state: str | None,
        saved_data: Mapping[str, Any],
    ) -> tuple[Handoff, bool]:
        """The open handoff, made now unless one is open already (then nothing is overwritten)."""
        new = NewHandoff(telegram_user_id, account_id, reason, saved_state, saved_data)
        return await self.store.open(new, self.clock.now())

    async def current(self, telegram_user_id: int) -> Handoff | None:
        return await self.store.current(telegram_user_id)

    async def close(self, telegram_user_id: int) -> Handoff | None:
        """Close the open handoff and hand back what was saved, or None when none was open."""
        return await self.store.close(telegram_user_id, self.clock.now())

    async def reopen(
        self, telegram_user_id: int, saved_state: str | None, saved_data: Mapping[str, Any]
    ) -> tuple[Handoff, bool] | None:
        """Open again for the person whose last handoff was closed; None if there never was one."""
        last = await self.store.last(telegram_user_id)
        if last is None:
            return None
        return await self.open(
            telegram_user_id, last.account_id, "reopened", saved_state, saved_data
        )

    async def topic(self, chat_id: int, telegram_user_id: int) -> int | None:
        return await self.store.topic(chat_id, telegram_user_id)

    async def set_topic(self, chat_id: int, telegram_user_id: int, thread_id: int) -> None:
        await self.store.set_topic(chat_id, telegram_user_id, thread_id, self.clock.now())

    async def person_in(self, chat_id: int, thread_id: int) -> int | None:
        return await self.store.person_in(chat_id, thread_id)

    async def remember(self, chat_id: int, relayed: Relayed) -> None:
        await self.store.remember(chat_id, relayed, self.clock.now())

    async def by_group_message(self, chat_id: int, message_id: int) -> Relayed | None:
        return await self.store.by_group_message(chat_id, message_id)

    async def by_person_message(
        self, chat_id: int, telegram_user_id: int, message_id: int
    ) -> Relayed | None:
        return await self.store.by_person_message(chat_id, telegram_user_id, message_id)
