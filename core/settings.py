"""Every setting of PRODUCT §2 and every limit of PRODUCT §1.9, from the environment and `.env`."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROVIDERS = ("google", "vk", "yandex", "github")


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class SmsBackend(StrEnum):
    DISABLED = "disabled"  # phone binding is not offered
    HTTP = "http"  # an HTTP SMS gateway (SMS_HTTP_*)
    OUTBOX = "outbox"  # development: messages are kept for the sandbox's outbox page


class TelegramMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class StorageSettings(BaseSettings):
    """What the operator commands (migrate, workspace) need: only where the data lives."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # `NAME=` in .env means "the default", as in .env.example
        extra="ignore",
        frozen=True,
    )

    database_url: str = "sqlite+aiosqlite:///var/accountbot.sqlite3"
    redis_url: str | None = None
    redis_prefix: str = Field("accountbot:", min_length=1, description="key prefix in Redis")
    data_dir: Path = Path("var")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        scheme = value.split("://", 1)[0].lower()
        if scheme.endswith("+cluster"):
            raise ValueError(
                "Redis Cluster is not supported (the bot's scripts use several keys at once): "
                "use one node or Sentinel, redis+sentinel://host:port,host:port/service_name/db"
            )
        if scheme not in ("redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel"):
            raise ValueError(
                "must start with redis://, rediss://, unix:// or redis+sentinel:// (Sentinel)"
            )
        return value


class Settings(StorageSettings):
    """The whole configuration; a missing or malformed value stops start-up (`describe_error`)."""

    # Telegram
    bot_token: SecretStr = Field(description="the bot's token from @BotFather")
    telegram_api_url: str = Field(
        "https://api.telegram.org", description="Bot API base URL (a local Bot API server, too)"
    )
    telegram_mode: TelegramMode = TelegramMode.POLLING
    webhook_secret: SecretStr | None = None
    webhook_max_connections: int = Field(
        40, ge=1, le=100, description="Telegram's simultaneous webhook requests to this bot"
    )
    # Flood control (PRODUCT §3): a 429 is waited out and retried, sends paced to Telegram's limits
    telegram_retry_limit: int = Field(5, ge=0, description="retries of one call refused with 429")
    telegram_max_retry_wait: float = Field(
        60.0, ge=0, description="seconds one call may spend waiting out 429s before giving up"
    )
    telegram_pacing: bool = True
    telegram_pace_private: Annotated[tuple[int, float], NoDecode] = Field(
        (4, 4.0), description="'N/S': at most N messages in any S seconds in one private chat"
    )
    telegram_pace_group: Annotated[tuple[int, float], NoDecode] = Field(
        (20, 60.0), description="'N/S': at most N messages in any S seconds in one group"
    )
    telegram_pace_overall: Annotated[tuple[int, float], NoDecode] = Field(
        (30, 1.0), description="'N/S': at most N messages in any S seconds from the bot in all"
    )

    # Web server
    public_url: str = Field(
        description="where the web server is reachable, e.g. https://id.example.com"
    )
    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=1, le=65535)

    # Email
    smtp_host: str = "localhost"
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Account assistant <no-reply@localhost>"
    smtp_tls: SmtpTls = SmtpTls.STARTTLS
    smtp_timeout: float = Field(15.0, gt=0)

    # SMS
    sms_backend: SmsBackend = SmsBackend.DISABLED
    sms_http_url: str | None = None
    sms_http_auth: SecretStr | None = Field(
        None, description="'Bearer <token>' or 'Basic <user>:<password>' or a raw header value"
    )
    sms_http_body: str = '{"to": "{phone}", "text": "{text}"}'
    sms_http_content_type: str = "application/json"

    # Social sign-in: OAUTH_<PROVIDER>_CLIENT_ID / _CLIENT_SECRET, and one generic OIDC issuer
    oauth_google_client_id: str | None = None
    oauth_google_client_secret: SecretStr | None = None
    oauth_google_trust_email: bool = True
    oauth_vk_client_id: str | None = None
    oauth_vk_client_secret: SecretStr | None = None
    oauth_vk_trust_email: bool = False
    oauth_yandex_client_id: str | None = None
    oauth_yandex_client_secret: SecretStr | None = None
    oauth_yandex_trust_email: bool = True
    oauth_github_client_id: str | None = None
    oauth_github_client_secret: SecretStr | None = None
    oauth_github_trust_email: bool = True
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_name: str = "OpenID Connect"
    oidc_trust_email: bool = True
    dev_idp_enabled: bool = False
    # Providers' discovery metadata and JWKS, kept in seconds (PRODUCT §3: rotated keys picked up)
    provider_metadata_ttl: int = Field(3_600, gt=0)
    provider_keys_ttl: int = Field(3_600, gt=0)
    provider_cache_min_ttl: int = Field(60, gt=0)
    provider_cache_max_ttl: int = Field(86_400, gt=0)
    provider_keys_refetch_interval: int = Field(60, ge=0)

    # The OpenID Provider for the workspaces (PRODUCT §1.11); OP_ISSUER defaults to PUBLIC_URL
    op_issuer: str | None = None
    op_code_ttl: int = Field(60, gt=0, le=600)
    op_access_token_ttl: int = Field(600, gt=0)
    op_refresh_token_ttl: int = Field(2_592_000, gt=0)
    op_session_ttl: int = Field(3_600, gt=0)
    op_key_publish_ahead: int = Field(86_400, ge=0)
    # The key of the pairwise subjects; unset: SECRET_KEY's. Kept when SECRET_KEY rotates, it
    # keeps every pairwise `sub` (docs/DEPLOY.md §7).
    op_pairwise_key: SecretStr | None = Field(None, min_length=32)
    op_notice_interval: float = Field(5.0, ge=0)
    op_notice_timeout: float = Field(5.0, gt=0, le=60)
    op_notice_max_attempts: int = Field(12, ge=1, le=100)
    op_notice_backoff: int = Field(30, gt=0)
    op_notice_backoff_max: int = Field(3_600, gt=0)

    # Support
    support_chat_id: int | None = None
    support_contact_text: str = ""
    support_show_agent_names: bool = False

    # People and product
    default_locale: Annotated[str, Field(pattern=r"^(ru|en)$")] = "en"
    secret_key: SecretStr = Field(min_length=32, description="at least 32 random characters")
    terms_url: str | None = None
    skip_sms_for_own_contact: bool = False
    fsm_ttl: int = Field(86_400, gt=0)

    # Updates handled at least once, acted on once (PRODUCT §3)
    chat_lock_timeout: float = Field(3.0, gt=0, description="seconds a chat's lock outlives")
    update_ack_timeout: float = Field(55.0, gt=0, le=3_600)
    duplicate_window: int = Field(10_000, ge=100)
    duplicate_memory: int = Field(86_400, gt=0)
    polling_timeout: int = Field(10, ge=0, le=50)
    polling_busy_interval: float = Field(0.25, gt=0)
    shutdown_grace: float = Field(10.0, ge=0)

    # Limits (PRODUCT §1.9)
    oauth_state_ttl: int = Field(600, gt=0)
    email_code_ttl: int = Field(3_600, gt=0)
    sms_code_ttl: int = Field(600, gt=0)
    code_max_attempts: int = Field(5, ge=1)
    resend_cooldown: int = Field(60, ge=0)
    sms_limit_per_number: int = Field(5, ge=1)
    sms_limit_per_account: int = Field(10, ge=1)
    sms_limit_per_telegram_user: int = Field(10, ge=1)
    sms_limit_window: int = Field(86_400, gt=0)
    moved_number_sms_interval: int = Field(
        86_400, gt=0, description="seconds: a number moved to another account gets one SMS about it"
    )
    login_failures_per_login: int = Field(5, ge=1)
    login_failures_per_address: int = Field(50, ge=1)
    login_failures_window: int = Field(900, gt=0)
    password_min_length: int = Field(8, ge=8, le=256)
    password_max_length: int = Field(256, ge=64, le=4096)
    argon2_memory_kib: int = Field(19_456, ge=19_456)
    argon2_time_cost: int = Field(2, ge=1)
    argon2_parallelism: int = Field(1, ge=1)
    argon2_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        description="threads hashing passwords at once (default: one per core)",
    )
    argon2_queue: int = Field(64, ge=0, description="hashes waiting for a thread; more: busy")
    delete_reauth_max_age: int = Field(
        300, gt=0, description="seconds a fresh social sign-in confirms deleting the account"
    )

    # Outages (PRODUCT §3): "temporarily unavailable" within 2 s, never a long hang
    database_connect_timeout: float = Field(1.0, gt=0)
    database_pool_timeout: float = Field(1.0, gt=0)
    database_command_timeout: float = Field(1.0, gt=0)
    database_statement_timeout: float = Field(
        0.0, ge=0, description="seconds PostgreSQL itself lets a statement run (0: its own)"
    )
    database_pool_size: int = Field(5, ge=1, description="PostgreSQL connections kept per process")
    database_max_overflow: int = Field(10, ge=0, description="more opened at a busy moment")
    redis_connect_timeout: float = Field(0.5, gt=0)
    redis_timeout: float = Field(0.5, gt=0)
    redis_retries: int = Field(1, ge=0)
    redis_max_connections: int = Field(100, ge=1)
    redis_pool_timeout: float = Field(0.5, gt=0)
    secret_steps_remembered: int = Field(10_000, ge=1)
    double_tap_window: float = Field(2.0, ge=0)

    # Embedded database and housekeeping
    sqlite_busy_timeout: float = Field(
        5.0, gt=0, description="seconds a SQLite writer waits for another's write lock"
    )
    housekeeping_interval: int = Field(
        3_600, gt=0, description="seconds between removals of expired claims and old audit"
    )
    audit_retention_days: int = Field(365, ge=1, description="days an audit event is kept")

    # Operations
    log_level: str = "INFO"
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(
        9464, ge=0, le=65535, description="the /metrics server's own port; 0: none of its own"
    )
    metrics_token: SecretStr | None = Field(
        None, description="a bearer token /metrics requires; with it, /metrics on WEB_PORT too"
    )
    readiness_cache: float = Field(
        5.0, ge=0, description="seconds /readyz reuses its last look at the dependencies"
    )

    @field_validator("public_url", "telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator(
        "telegram_pace_private", "telegram_pace_group", "telegram_pace_overall", mode="before"
    )
    @classmethod
    def _pace(cls, value: Any) -> Any:
        """'4/4' is four messages in any four seconds."""
        if isinstance(value, str):
            count, slash, seconds = value.partition("/")
            if not slash:
                raise ValueError("must be N/S, e.g. 20/60 for 20 messages a minute")
            return (count.strip(), seconds.strip())
        return value

    @field_validator("telegram_pace_private", "telegram_pace_group", "telegram_pace_overall")
    @classmethod
    def _positive_pace(cls, value: tuple[int, float]) -> tuple[int, float]:
        if value[0] < 1 or value[1] <= 0:
            raise ValueError("must be N/S with N at least 1 and S above 0")
        return value

    def provider_credentials(self, name: str) -> tuple[str, str] | None:
        """(client id, client secret) of a configured provider, or None when it is off."""
        client_id = getattr(self, f"oauth_{name}_client_id", None)
        if not client_id:
            return None
        secret: SecretStr | None = getattr(self, f"oauth_{name}_client_secret", None)
        return client_id, secret.get_secret_value() if secret else ""

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        if self.telegram_mode is TelegramMode.WEBHOOK and not self.webhook_secret:
            raise ValueError(
                "WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook "
                "(Telegram sends it with every update)"
            )
        return self

    def sign_in_providers(self) -> list[tuple[str, str]]:
        """(name, button title) of every provider a person may sign in with, in menu order."""
        titles = {"google": "Google", "vk": "VK ID", "yandex": "Yandex ID", "github": "GitHub"}
        found = [(name, titles[name]) for name in PROVIDERS if self.provider_credentials(name)]
        if self.oidc_issuer and self.oidc_client_id:
            found.append(("oidc", self.oidc_name))
        if self.dev_idp_enabled:
            found.append(("dev", "Dev ID"))
        return found

    @property
    def public_is_https(self) -> bool:
        return self.public_url.startswith("https://")


def describe_error(error: ValidationError) -> str:
    """One line per bad variable, naming it and what is expected."""
    lines = []
    for item in error.errors():
        if not item["loc"]:  # a rule over several settings names them in its message
            lines.append(f"Configuration error: {item['msg'].removeprefix('Value error, ')}.")
            continue
        field = str(item["loc"][0])
        name = field.upper()
        info = Settings.model_fields.get(field)
        hint = f" ({info.description})" if info is not None and info.description else ""
        if item["type"] == "missing":
            lines.append(f"Configuration error: {name} is required{hint}.")
        else:
            lines.append(f"Configuration error: {name} {item['msg'].lower()}{hint}.")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment, `.env` and keyword overrides."""
    return Settings(**overrides)
