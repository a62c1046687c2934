"""What the core tells the chat through the Notifier port (PRODUCT §1.1, §1.3 step 6, §1.10).

Each notice is for one Telegram user's chat and carries the language the chat spoke when the
thing began (`locale`, from the link, the attempt or the account), so a chat with no account yet
still hears it in its own language; an account's chosen language wins when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Notice:
    telegram_user_id: int
    # How to say it, not what happened: notices compare equal whatever language they carry.
    locale: str | None = field(default=None, kw_only=True, compare=False)


@dataclass(frozen=True)
class SignedIn(Notice):
    account_id: int
    provider: str
    created: bool
    joined: bool = False  # this Telegram user was just linked to an account others already use


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


@dataclass(frozen=True)
class TelegramLinked(Notice):
    """Another Telegram user was linked to this chat's account (PRODUCT §1.1.8)."""

    account_id: int
    newcomer_id: int
    newcomer: str  # how Telegram named them: "Anna (@anna)"


@dataclass(frozen=True)
class AddressReleased(Notice):
    """This chat's account gave its address to another account by "It's mine, free it"
    (PRODUCT §1.5, §1.10); `kind` is "email" or "phone", the addresses are masked."""

    account_id: int
    kind: str
    released: str
    new_address: str


@dataclass(frozen=True)
class Unlinked(Notice):
    """Another chat of the account unlinked this Telegram user from it (PRODUCT §1.1.8)."""


@dataclass(frozen=True)
class AccountDeleted(Notice):
    """This chat's account was deleted, from this chat or another (PRODUCT §1.12): the chat is
    signed out, its step forgotten; `locale` is the account's language, read before it went."""


@dataclass(frozen=True)
class Reauthenticated(Notice):
    """A fresh social sign-in to confirm deleting the account came back (PRODUCT §1.12);
    `matched` is False when it was another account's social account (nothing counts then)."""

    account_id: int
    matched: bool = True
