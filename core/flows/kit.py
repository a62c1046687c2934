"""What every flow needs: the ports, the limits from settings, time and randomness."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from core.domain.models import AuditEvent
from core.domain.secrets import CodeGenerator, Keyed, six_digits, url_token
from core.metrics import OpsMetrics
from core.ports import (
    Clock,
    CodeStore,
    Cooldowns,
    Limiter,
    Mailer,
    Notifier,
    PasswordHasher,
    SmsSender,
    TokenStore,
    UnitOfWork,
    UnitOfWorkFactory,
)


@dataclass(frozen=True)
class Limits:
    """PRODUCT §1.9, every value from settings; the defaults are the spec's."""

    oauth_state_ttl: timedelta = timedelta(minutes=10)
    email_code_ttl: timedelta = timedelta(hours=1)
    sms_code_ttl: timedelta = timedelta(minutes=10)
    code_max_attempts: int = 5
    resend_cooldown: timedelta = timedelta(seconds=60)
    sms_per_number: int = 5
    sms_per_account: int = 10
    sms_per_telegram_user: int = 10
    sms_window: timedelta = timedelta(hours=24)
    # A number moved to another account hears of it by SMS at most once in this (PRODUCT §1.10).
    moved_number_sms_interval: timedelta = timedelta(hours=24)
    login_failures_per_login: int = 5
    login_failures_per_address: int = 50
    login_failures_window: timedelta = timedelta(minutes=15)
    password_min_length: int = 8
    password_max_length: int = 256
    secure_page_ttl: timedelta = timedelta(minutes=30)
    delete_reauth_max_age: timedelta = timedelta(minutes=5)  # PRODUCT §1.12


@dataclass(frozen=True)
class Options:
    """Operator choices that change a flow's path."""

    public_url: str = "http://127.0.0.1:8080"
    terms_url: str | None = None
    trusted_email_providers: frozenset[str] = frozenset()
    skip_sms_for_own_contact: bool = False
    product: str = "Account assistant"
    default_locale: str = "en"


@dataclass(frozen=True)
class Kit:
    """The ports and policies shared by the flows; built once by `core.bootstrap`."""

    uow: UnitOfWorkFactory
    codes: CodeStore
    tokens: TokenStore
    limiter: Limiter
    cooldowns: Cooldowns
    hasher: PasswordHasher
    mailer: Mailer
    sms: SmsSender | None
    notifier: Notifier
    clock: Clock
    keyed: Keyed
    limits: Limits = field(default_factory=Limits)
    options: Options = field(default_factory=Options)
    new_code: CodeGenerator = six_digits
    new_token: Callable[[], str] = url_token
    metrics: OpsMetrics = field(default_factory=OpsMetrics)  # what operators alert on
    # Units that only read: on SQLite they take no write lock (None: the same as `uow`).
    read_uow: UnitOfWorkFactory | None = None
    # Called before the flow waits on the outside world (a letter, an SMS, a hash): the update's
    # database connection, idle between its units, goes back to the pool meanwhile.
    release_idle: Callable[[], Awaitable[None]] | None = None

    def unit(self) -> UnitOfWork:
        return self.uow()

    def reader(self) -> UnitOfWork:
        """A unit of work for reading only; it must not write (SQLite refuses it)."""
        return (self.read_uow or self.uow)()

    async def idle(self) -> None:
        """Between units of work, before a wait on the outside world (see `release_idle`)."""
        if self.release_idle is not None:
            await self.release_idle()

    def event(self, action: str, account_id: int | None, actor: str, **details: str) -> AuditEvent:
        return AuditEvent(action, account_id, self.clock.now(), actor, dict(details))

    def url(self, path: str) -> str:
        return self.options.public_url.rstrip("/") + path
