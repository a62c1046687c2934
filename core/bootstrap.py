"""The one composition root: settings in, wired services out (cosmicpython's bootstrap)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.domain.secrets import Keyed
from core.flows.account import AccountFlow
from core.flows.auth import AuthFlow
from core.flows.bind_email import BindEmailFlow
from core.flows.bind_phone import BindPhoneFlow
from core.flows.delete import DeleteFlow
from core.flows.forms import FormTokens
from core.flows.housekeeping import Housekeeping
from core.flows.kit import Kit, Limits, Options
from core.flows.password import PasswordFlow
from core.flows.recovery import RecoveryFlow
from core.flows.release import ReleaseFlow
from core.flows.sign_in import SignInFlow
from core.flows.support import SupportFlow
from core.flows.workspace_sign_in import WorkspaceSignIn
from core.metrics import OpsMetrics
from core.notices import Notice
from core.ports import Clock, Notifier
from core.provider.service import Lifetimes, ProviderService
from core.settings import PROVIDERS, Settings, SmsBackend

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from core.adapters.db.engine import Database

# The longest pause between two tries of a Redis command (seconds): retries stay quick, so an
# outage is told within PRODUCT §3.3's two seconds.
REDIS_BACKOFF_CAP = 0.1


class SystemClock:
    """Real time, UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class DeferredNotifier:
    """Forwards notices to the notifier the Telegram layer attaches once it is up."""

    def __init__(self) -> None:
        self.target: Notifier | None = None

    async def notify(self, notice: Notice) -> None:
        if self.target is not None:
            await self.target.notify(notice)


@dataclass(eq=False)  # one per process, told apart by identity (the bot keys its caches by it)
class Services:
    """Everything the bot, the web server and the sandbox call, built from one Settings."""

    settings: Settings
    kit: Kit
    sign_in: SignInFlow
    workspace_sign_in: WorkspaceSignIn  # social sign-in on the provider's page (§1.11)
    account: AccountFlow
    bind_email: BindEmailFlow
    bind_phone: BindPhoneFlow
    release: ReleaseFlow
    password: PasswordFlow
    auth: AuthFlow
    forms: FormTokens
    recovery: RecoveryFlow
    delete: DeleteFlow  # PRODUCT §1.12
    support: SupportFlow
    housekeeping: Housekeeping
    notifier: DeferredNotifier
    clock: Clock  # the flows' clock, for the bot's own times (double taps, the update ledger)
    # The clients behind the ports, for what talks to them directly: the bot's FSM storage and
    # update ledger share the Redis client; operator tools and tests reach the database.
    database: Database
    checks: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    redis: Redis | None = None
    metrics: OpsMetrics = field(default_factory=OpsMetrics)
    provider: ProviderService | None = None  # the OpenID Provider for workspaces (§1.11)

    async def health(self) -> dict[str, bool]:
        """Each dependency and whether it answers (for /healthz)."""
        result = {}
        for name, check in self.checks.items():
            try:
                await check()
            except Exception:
                result[name] = False
            else:
                result[name] = True
        return result

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()


def limits_from(settings: Settings) -> Limits:
    s = settings
    return Limits(
        oauth_state_ttl=timedelta(seconds=s.oauth_state_ttl),
        email_code_ttl=timedelta(seconds=s.email_code_ttl),
        sms_code_ttl=timedelta(seconds=s.sms_code_ttl),
        code_max_attempts=s.code_max_attempts,
        resend_cooldown=timedelta(seconds=s.resend_cooldown),
        sms_per_number=s.sms_limit_per_number,
        sms_per_account=s.sms_limit_per_account,
        sms_per_telegram_user=s.sms_limit_per_telegram_user,
        sms_window=timedelta(seconds=s.sms_limit_window),
        moved_number_sms_interval=timedelta(seconds=s.moved_number_sms_interval),
        login_failures_per_login=s.login_failures_per_login,
        login_failures_per_address=s.login_failures_per_address,
        login_failures_window=timedelta(seconds=s.login_failures_window),
        password_min_length=s.password_min_length,
        password_max_length=s.password_max_length,
        delete_reauth_max_age=timedelta(seconds=s.delete_reauth_max_age),
    )


def options_from(settings: Settings) -> Options:
    trusted = {p for p in PROVIDERS if getattr(settings, f"oauth_{p}_trust_email")}
    if settings.oidc_trust_email:
        trusted.add("oidc")
    if settings.dev_idp_enabled:
        trusted.add("dev")
    return Options(
        public_url=settings.public_url,
        terms_url=settings.terms_url,
        trusted_email_providers=frozenset(trusted),
        skip_sms_for_own_contact=settings.skip_sms_for_own_contact,
        default_locale=settings.default_locale,
    )


def build_services(settings: Settings, **overrides: Any) -> Services:
    """Wire adapters to flows from settings; keyword overrides replace any Kit field (tests)."""
    from core.adapters import argon2, smtp
    from core.adapters.counted import CountedMailer, CountedSms
    from core.adapters.db.engine import Database
    from core.adapters.db.oidc import SqlProviderStore
    from core.adapters.db.support import SqlSupportStore

    clock = overrides.pop("clock", None) or SystemClock()
    checks: dict[str, Callable[[], Awaitable[None]]] = {}
    closers: list[Callable[[], Awaitable[None]]] = []

    database = overrides.pop("database", None) or Database(
        settings.database_url,
        timeouts=pg_timeouts(settings),
        sqlite_busy_timeout=settings.sqlite_busy_timeout,
        pool=pg_pool(settings),
    )
    checks["database"] = database.ping
    closers.append(database.dispose)

    stores, redis = _stores(settings, clock, checks, closers)

    sms: Any = None
    if settings.sms_backend is SmsBackend.OUTBOX and "sms" not in overrides:
        # The outbox is the sandbox's: it passes its own sender (`sandbox.stack`).
        raise ValueError("SMS_BACKEND=outbox needs the sandbox: run `accountbot sandbox`")
    if settings.sms_backend is SmsBackend.HTTP:
        from core.adapters.sms_http import HttpSmsSender

        if not settings.sms_http_url:
            raise ValueError("SMS_HTTP_URL is required when SMS_BACKEND=http")
        auth = settings.sms_http_auth.get_secret_value() if settings.sms_http_auth else None
        sender = HttpSmsSender(
            settings.sms_http_url, settings.sms_http_body, settings.sms_http_content_type, auth
        )
        closers.append(sender.close)
        sms = sender

    # Its own threads, never asyncio's default executor (issue #13); a storm gets Busy.
    hasher = overrides.get("hasher")
    if hasher is None:
        hasher = argon2.Argon2Hasher(
            settings.argon2_memory_kib,
            settings.argon2_time_cost,
            settings.argon2_parallelism,
            workers=settings.argon2_workers,
            queue=settings.argon2_queue,
        )
        closers.append(hasher.close)

    notifier = DeferredNotifier()
    fields: dict[str, Any] = {
        "uow": database.uow,
        "read_uow": database.reader,
        "release_idle": database.park,
        **stores,
        "hasher": hasher,
        "mailer": smtp.SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            settings.smtp_tls,
            username=settings.smtp_user,
            password=(
                settings.smtp_password.get_secret_value() if settings.smtp_password else None
            ),
            timeout=settings.smtp_timeout,
        ),
        "sms": sms,
        "notifier": notifier,
        "clock": clock,
        "keyed": Keyed(settings.secret_key.get_secret_value().encode()),
        "limits": limits_from(settings),
        "options": options_from(settings),
    }
    fields.update(overrides)
    # Letters and SMS counted as they are handed over (accountbot_messages_total).
    metrics = fields.setdefault("metrics", OpsMetrics())
    fields["mailer"] = CountedMailer(fields["mailer"], metrics)
    if fields["sms"] is not None:
        fields["sms"] = CountedSms(fields["sms"], metrics)
    kit = Kit(**fields)
    return Services(
        settings=settings,
        kit=kit,
        sign_in=SignInFlow.from_kit(kit),
        workspace_sign_in=WorkspaceSignIn.from_kit(kit),
        account=AccountFlow(kit),
        bind_email=BindEmailFlow(kit),
        bind_phone=BindPhoneFlow(kit),
        release=ReleaseFlow(kit),
        password=PasswordFlow(kit),
        auth=AuthFlow(kit),
        forms=FormTokens.from_kit(kit),
        recovery=RecoveryFlow(kit),
        delete=DeleteFlow(kit),
        support=SupportFlow(SqlSupportStore(database), clock),
        housekeeping=Housekeeping(
            kit,
            audit_retention=timedelta(days=settings.audit_retention_days),
            interval=timedelta(seconds=settings.housekeeping_interval),
        ),
        notifier=notifier,
        clock=kit.clock,
        checks=checks,
        closers=closers,
        database=database,
        redis=redis,
        metrics=kit.metrics,
        provider=ProviderService(
            SqlProviderStore(database),
            kit.keyed,
            kit.clock,
            Lifetimes(
                code=timedelta(seconds=settings.op_code_ttl),
                access_token=timedelta(seconds=settings.op_access_token_ttl),
                refresh_token=timedelta(seconds=settings.op_refresh_token_ttl),
            ),
            pairwise=Keyed(settings.op_pairwise_key.get_secret_value().encode())
            if settings.op_pairwise_key is not None
            else None,
        ),
    )


def redis_options(settings: Settings) -> Any:
    """The Redis client's pool, timeouts and retries from settings (PRODUCT §3)."""
    from core.adapters.redis.connection import RedisOptions

    return RedisOptions(
        max_connections=settings.redis_max_connections,
        pool_timeout=settings.redis_pool_timeout,
        connect_timeout=settings.redis_connect_timeout,
        timeout=settings.redis_timeout,
        retries=settings.redis_retries,
        backoff_cap=REDIS_BACKOFF_CAP,
    )


def pg_timeouts(settings: Settings) -> Any:
    """PostgreSQL's connect, pool and command timeouts from settings (PRODUCT §3)."""
    from core.adapters.db.engine import PgTimeouts

    return PgTimeouts(
        connect=settings.database_connect_timeout,
        pool=settings.database_pool_timeout,
        command=settings.database_command_timeout,
        statement=settings.database_statement_timeout or None,
    )


def pg_pool(settings: Settings) -> Any:
    """PostgreSQL's pool sizes from settings (DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW)."""
    from core.adapters.db.engine import PgPool

    return PgPool(size=settings.database_pool_size, max_overflow=settings.database_max_overflow)


def _stores(
    settings: Settings,
    clock: Any,
    checks: dict[str, Callable[[], Awaitable[None]]],
    closers: list[Callable[[], Awaitable[None]]],
) -> tuple[dict[str, Any], Redis | None]:
    """Redis when REDIS_URL is set, otherwise in-process memory (PRODUCT §2)."""
    if settings.redis_url:
        from core.adapters import redis as r
        from core.adapters.redis.connection import make_client

        # One node or Sentinel's master (core/adapters/redis/connection.py); an outage is told
        # within 2 s (PRODUCT §3.3): short socket timeouts, few quick retries, a pool that
        # waits for a free connection no longer than REDIS_POOL_TIMEOUT.
        client = make_client(settings.redis_url, redis_options(settings))

        async def ping() -> None:
            await client.ping()

        checks["redis"] = ping
        closers.append(client.aclose)
        prefix = settings.redis_prefix
        return {
            "codes": r.RedisCodeStore(client, clock, prefix),
            "tokens": r.RedisTokenStore(client, clock, prefix),
            "limiter": r.RedisLimiter(client, clock, prefix),
            "cooldowns": r.RedisCooldowns(client, clock, prefix),
        }, client
    from core.adapters import memory_stores as m

    return {
        "codes": m.MemoryCodeStore(clock),
        "tokens": m.MemoryTokenStore(clock),
        "limiter": m.MemoryLimiter(clock),
        "cooldowns": m.MemoryCooldowns(clock),
    }, None
