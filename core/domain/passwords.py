"""The password rules of NIST SP 800-63B §5.1.1.2 (and -4 §3.1.1.2): length and a blocklist only."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from core.errors import WeakPassword


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's bundled list of 30,000 most common passwords, loaded on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def normalize(password: str) -> str:
    """SP 800-63B §5.1.1.2: apply NFKC before hashing so the same text always matches."""
    return unicodedata.normalize("NFKC", password)


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    max_length: int = 256

    def check(self, password: str, personal: Iterable[str] = ()) -> str:
        """The normalized password, or WeakPassword naming the one rule it breaks."""
        text = normalize(password)
        if len(text) < self.min_length:
            raise WeakPassword("too_short", self.min_length)
        if len(text) > self.max_length:
            raise WeakPassword("too_long", self.max_length)
        folded = text.casefold()
        if folded in common_passwords() or folded.strip() == "":
            raise WeakPassword("common")
        if folded in _personal_words(personal):
            raise WeakPassword("personal")
        return text


def _personal_words(values: Iterable[str]) -> set[str]:
    """The email, phone and name, and their obvious parts (the email's local part, the digits)."""
    words: set[str] = set()
    for value in values:
        folded = value.strip().casefold()
        if not folded:
            continue
        words.add(folded)
        if "@" in folded:
            words.add(folded.rpartition("@")[0])
        digits = "".join(ch for ch in folded if ch.isdigit())
        if len(digits) >= 7:
            words.update({digits, "+" + digits})
    return words
