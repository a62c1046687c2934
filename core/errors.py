"""Typed domain errors: each carries what the person must be told, nothing more.

The bot and the web server map them to localized messages in one place each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


class DomainError(Exception):
    """Base of every error a flow raises on purpose."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args or (type(self).__name__,))


@dataclass
class InvalidEmail(DomainError):
    reason: str  # "syntax", "domain", "too_long"


@dataclass
class InvalidPhone(DomainError):
    reason: str  # "syntax", "not_a_number", "not_mobile"


@dataclass
class AddressTaken(DomainError):
    """The address belongs to another account (PRODUCT §1.5); the other account stays anonymous."""

    kind: str  # "email" or "phone"
    address: str  # normalized, as the person typed it


@dataclass
class AddressAlreadyYours(DomainError):
    kind: str


@dataclass
class CodeInvalid(DomainError):
    attempts_left: int


class CodeExpired(DomainError):
    """The code or link is unknown, used, expired or voided by too many attempts."""


@dataclass
class ResendTooSoon(DomainError):
    """The resend cooldown runs: `until` is its stored deadline, which every answer about it
    is read from (PRODUCT §1.9); `retry_in` the wait at the moment of the refusal."""

    retry_in: timedelta
    until: datetime | None = None


@dataclass
class LimitReached(DomainError):
    """A cap reached, free again at `until`: of codes sent, or of wrong `"passwords"`."""

    until: datetime
    what: str = "codes"


@dataclass
class WeakPassword(DomainError):
    reason: str  # "too_short", "too_long", "common", "personal"
    limit: int = 0


class LastSignInMethod(DomainError):
    """Removing this would leave the account with no way to sign in."""


class PasswordRequired(DomainError):
    """The step needs a password on the account first (PRODUCT §1.3 step 5)."""


class WrongPassword(DomainError):
    """The current password given to change it is wrong."""


@dataclass
class Throttled(DomainError):
    retry_in: timedelta


@dataclass
class Busy(DomainError):
    """Too many password checks at once (a storm of sign-ins): refused at once instead of
    queued, so the answer still comes within a second; try again in `retry_in` (issue #13)."""

    retry_in: timedelta


class AuthenticationFailed(DomainError):
    """One generic refusal for sign-in, whatever was wrong (PRODUCT §1.7)."""


class NotSignedIn(DomainError):
    """The Telegram user has no account linked."""


class TermsNotAccepted(DomainError):
    """The operator's user agreement must be accepted first (PRODUCT §1.1)."""


class NothingPending(DomainError):
    """There is no binding or release waiting for this step."""


class FeatureDisabled(DomainError):
    """The operator did not configure what this needs (e.g. SMS)."""


class Unavailable(DomainError):
    """The database or the store is down; try again in a minute (PRODUCT §3)."""


class FreshSignInNeeded(DomainError):
    """Deleting an account without a bound address needs a social sign-in again, made in the
    last few minutes by this chat (PRODUCT §1.12)."""
