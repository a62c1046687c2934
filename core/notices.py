"""What the web side tells the chat through the Notifier port (PRODUCT §1.1, §1.3 step 6)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Notice:
    telegram_user_id: int


@dataclass(frozen=True)
class SignedIn(Notice):
    account_id: int
    provider: str
    created: bool


@dataclass(frozen=True)
class SignInFailed(Notice):
    reason: str  # "expired", "provider_error", "declined"


@dataclass(frozen=True)
class EmailConfirmed(Notice):
    account_id: int
    address: str


@dataclass(frozen=True)
class PasswordSet(Notice):
    account_id: int
