"""The ports of the domain: what the flows need from the outside world, one Protocol each.

Adapters in `core/adapters/` implement them; `core/bootstrap.py` is the only place that picks one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from core.domain.models import (
    Account,
    AddressKind,
    AuditEvent,
    Binding,
    Membership,
    SocialIdentity,
    Workspace,
)
from core.notices import Notice
from core.provider.ports import NoticeOutbox


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


# --- persistence -------------------------------------------------------------------------------


class AccountRepository(Protocol):
    """Accounts and their terms acceptance."""

    async def add(self, name: str, locale: str | None, now: datetime) -> Account: ...
    async def get(self, account_id: int) -> Account | None: ...
    async def lock(self, account_id: int) -> None: ...
    async def set_locale(self, account_id: int, locale: str) -> None: ...
    async def accept_terms(self, account_id: int, terms_url: str, now: datetime) -> None: ...
    async def erase(self, account_id: int, now: datetime) -> None: ...


class IdentityRepository(Protocol):
    """Social identities, unique by (provider, subject)."""

    async def find(self, provider: str, subject: str) -> SocialIdentity | None: ...
    async def for_account(self, account_id: int) -> list[SocialIdentity]: ...
    async def add(self, identity: SocialIdentity) -> None: ...
    async def update_email(
        self, provider: str, subject: str, email: str | None, verified: bool
    ) -> None: ...


class BindingRepository(Protocol):
    """Emails and phones; a confirmed address is unique across accounts, one per kind each."""

    async def owner(self, kind: AddressKind, address: str) -> int | None: ...
    async def for_account(self, account_id: int) -> list[Binding]: ...
    async def set_pending(
        self, account_id: int, kind: AddressKind, address: str, expires_at: datetime, now: datetime
    ) -> None: ...
    async def confirm(
        self, account_id: int, kind: AddressKind, address: str, now: datetime
    ) -> None: ...
    async def remove(
        self, account_id: int, kind: AddressKind, *, pending: bool = False
    ) -> None: ...


class PasswordRepository(Protocol):
    """Password credentials, as argon2id hashes only."""

    async def get(self, account_id: int) -> str | None: ...
    async def set(self, account_id: int, password_hash: str, now: datetime) -> None: ...
    async def remove(self, account_id: int) -> None: ...


@dataclass(frozen=True)
class AccountRecord:
    """An account with the rows its card is made of (PRODUCT §1.2), read in one round trip."""

    account: Account
    identities: tuple[SocialIdentity, ...]
    bindings: tuple[Binding, ...]  # pending ones past their lifetime included, as stored
    has_password: bool


class TelegramLinkRepository(Protocol):
    """Which account a Telegram user is signed in to."""

    async def account_for(self, telegram_user_id: int) -> int | None: ...
    async def person(self, telegram_user_id: int) -> AccountRecord | None:
        """The account this Telegram user is signed in to, with its identities, bindings and
        whether it has a password, in one read. Inside an update's read transaction the
        repositories then answer for these rows without asking again (until a write or the
        transaction's end)."""
        ...

    async def link(self, telegram_user_id: int, account_id: int, now: datetime) -> None: ...
    async def unlink(self, telegram_user_id: int) -> None: ...
    async def users_of(self, account_id: int) -> list[int]: ...


class WorkspaceRepository(Protocol):
    """The operator's workspaces and the accounts' memberships with their contact addresses."""

    async def create(self, slug: str, title: str) -> Workspace: ...
    async def get(self, slug: str) -> Workspace | None: ...
    async def all(self) -> list[Workspace]: ...
    async def add_member(
        self, workspace_id: int, account_id: int, email: str | None, phone: str | None
    ) -> None: ...
    async def remove_member(self, workspace_id: int, account_id: int) -> None: ...
    async def memberships(self, account_id: int) -> list[Membership]: ...
    async def update_contacts(self, account_id: int, kind: AddressKind, address: str) -> int: ...


class AuditLog(Protocol):
    """Append-only record of changes; never a secret."""

    async def record(self, event: AuditEvent) -> None: ...
    async def for_account(self, account_id: int, limit: int = 50) -> list[AuditEvent]: ...


class RetentionRepository(Protocol):
    """Rows that outlived their purpose, removed by housekeeping at most `limit` at a time."""

    async def remove_expired_claims(self, now: datetime, limit: int) -> int: ...
    async def remove_audit_before(self, moment: datetime, limit: int) -> int: ...


class UnitOfWork(Protocol):
    """One transaction over every repository: `commit()` or nothing is written."""

    accounts: AccountRepository
    identities: IdentityRepository
    bindings: BindingRepository
    passwords: PasswordRepository
    telegram: TelegramLinkRepository
    workspaces: WorkspaceRepository
    audit: AuditLog
    retention: RetentionRepository
    notices: NoticeOutbox  # back-channel notices to workspaces (PRODUCT §1.11)

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


# --- codes, tokens and limits ------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCode:
    """A one-time code at rest: its keyed hash, never the code (PRODUCT §1.9)."""

    digest: str
    expires_at: datetime
    attempts_left: int
    issue_id: str
    data: Mapping[str, str] = field(default_factory=dict)


class CodeStore(Protocol):
    """One-time codes by key, with an expiry and a number of attempts."""

    async def put(self, key: str, code: StoredCode) -> None: ...
    async def get(self, key: str) -> StoredCode | None: ...
    async def take_attempt(self, key: str) -> StoredCode | None: ...
    async def consume(self, key: str, issue_id: str) -> bool: ...
    async def discard(self, key: str) -> None: ...


class TokenStore(Protocol):
    """Single-use records by key with an expiry: link tokens, OAuth state, secure-page links."""

    async def put(self, key: str, data: Mapping[str, str], ttl: timedelta) -> None: ...
    async def peek(self, key: str) -> dict[str, str] | None: ...
    async def pop(self, key: str) -> dict[str, str] | None: ...
    async def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class Rule:
    """At most `limit` events per `key` in any sliding `window`."""

    key: str
    limit: int
    window: timedelta


class Limiter(Protocol):
    """Sliding-window caps; several rules are checked and counted together, atomically.

    `reserve` takes a slot before the work it limits (a password check, an SMS): a held slot
    counts like an event, so concurrent requests can never pass more than the limit. The work's
    outcome then `confirm`s it (it counts as an event) or `release`s it (it never happened).
    `reset` forgets the counted events of a key but not the slots still held by work in flight.
    """

    async def acquire(self, rules: Sequence[Rule]) -> datetime | None: ...
    async def check(self, rules: Sequence[Rule]) -> datetime | None: ...
    async def reset(self, key: str) -> None: ...
    async def reserve(self, rules: Sequence[Rule], slot: str) -> datetime | None: ...
    async def confirm(self, rules: Sequence[Rule], slot: str) -> None: ...
    async def release(self, rules: Sequence[Rule], slot: str) -> None: ...


class Cooldowns(Protocol):
    """Resend cooldowns that double with each resend (PRODUCT §1.9)."""

    async def start(self, key: str, base: timedelta, horizon: timedelta) -> timedelta | None: ...
    async def remaining(self, key: str) -> timedelta | None: ...
    async def deadline(self, key: str) -> datetime | None: ...
    async def clear(self, key: str) -> None: ...


# --- outbound ----------------------------------------------------------------------------------


class PasswordHasher(Protocol):
    """argon2id hashing, run off the event loop."""

    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True)
class Letter:
    """An email ready to send: plain text and HTML alternatives."""

    to: str
    subject: str
    text: str
    html: str


class Mailer(Protocol):
    """Sends letters."""

    async def send(self, letter: Letter) -> None: ...


class SmsSender(Protocol):
    """Sends a text message to an E.164 number."""

    async def send(self, phone: str, text: str) -> None: ...


class Notifier(Protocol):
    """Tells a person in their chat what happened elsewhere (a sign-in, a confirmed link)."""

    async def notify(self, notice: Notice) -> None: ...
