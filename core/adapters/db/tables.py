"""The schema as SQLAlchemy Core tables; `migrations/versions/` must build exactly this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite would drop the tzinfo)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # A naive time is ambiguous; refusing it keeps every stored instant in UTC.
            raise ValueError("naive datetime given; use a timezone-aware UTC datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _account_fk() -> sa.ForeignKey:
    return sa.ForeignKey("accounts.id", ondelete="CASCADE")


CONFIRMED = sa.text("status = 'confirmed'")
PENDING = sa.text("status = 'pending'")

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("locale", sa.String(16), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("terms_accepted_at", UtcDateTime, nullable=True),
    sa.Column("terms_url", sa.String(2048), nullable=True),
    # PRODUCT §1.12: a deleted account is a tombstone (no name, nothing linked to it), kept so
    # that its id is never another account's.
    sa.Column("deleted_at", UtcDateTime, nullable=True),
)

social_identities = sa.Table(
    "social_identities",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, _account_fk(), nullable=False, index=True),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("email_verified", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("provider", "subject"),
)

bindings = sa.Table(
    "bindings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, _account_fk(), nullable=False, index=True),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("address", sa.String(320), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("confirmed_at", UtcDateTime, nullable=True),
    sa.Column("expires_at", UtcDateTime, nullable=True),
    sa.CheckConstraint("kind IN ('email', 'phone')", name="kind"),
    sa.CheckConstraint("status IN ('pending', 'confirmed')", name="status"),
    # PRODUCT §3: two accounts binding one address at once, exactly one wins.
    sa.Index(
        "uq_bindings_confirmed_address",
        "kind",
        "address",
        unique=True,
        sqlite_where=CONFIRMED,
        postgresql_where=CONFIRMED,
    ),
    sa.Index(
        "uq_bindings_confirmed_kind",
        "account_id",
        "kind",
        unique=True,
        sqlite_where=CONFIRMED,
        postgresql_where=CONFIRMED,
    ),
    sa.Index(
        "uq_bindings_pending_kind",
        "account_id",
        "kind",
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    ),
)

password_credentials = sa.Table(
    "password_credentials",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True, autoincrement=False),
    sa.Column("password_hash", sa.String(512), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

telegram_links = sa.Table(
    "telegram_links",
    metadata,
    sa.Column("telegram_user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.Integer, _account_fk(), nullable=False, index=True),
    sa.Column("linked_at", UtcDateTime, nullable=False),
)

workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.String(256), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False, server_default=sa.func.now()),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column(
        "workspace_id",
        sa.Integer,
        sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True, index=True),
    sa.Column("contact_email", sa.String(320), nullable=True),
    sa.Column("contact_phone", sa.String(32), nullable=True),
)

# No foreign key: the record of what happened outlives the account it was about.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Index("ix_audit_events_account_id_at", "account_id", "at"),
    sa.Index("ix_audit_events_at", "at"),  # housekeeping's oldest-first batches
)

# Support handoffs (PRODUCT §1.8). Keyed by the Telegram user, not the account: a person who is not
# signed in may need help too. No foreign keys, like the audit: the record outlives the account.
OPEN_HANDOFF = sa.text("closed_at IS NULL")

support_handoffs = sa.Table(
    "support_handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("telegram_user_id", sa.BigInteger, nullable=False),
    sa.Column("account_id", sa.Integer, nullable=True),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("saved_state", sa.String(128), nullable=True),
    sa.Column("saved_data", sa.JSON, nullable=False),
    sa.Column("opened_at", UtcDateTime, nullable=False),
    sa.Column("closed_at", UtcDateTime, nullable=True),
    sa.Index("ix_support_handoffs_telegram_user_id", "telegram_user_id"),
    # Two instances opening a handoff for one person at once: exactly one row wins.
    sa.Index(
        "uq_support_handoffs_open",
        "telegram_user_id",
        unique=True,
        sqlite_where=OPEN_HANDOFF,
        postgresql_where=OPEN_HANDOFF,
    ),
)

support_topics = sa.Table(
    "support_topics",
    metadata,
    sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("telegram_user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("thread_id", sa.BigInteger, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("chat_id", "thread_id"),
)

support_messages = sa.Table(
    "support_messages",
    metadata,
    sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("group_message_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("telegram_user_id", sa.BigInteger, nullable=False),
    sa.Column("person_message_id", sa.BigInteger, nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Index("ix_support_messages_person", "chat_id", "telegram_user_id", "person_message_id"),
)

# The OpenID Provider (PRODUCT §1.11): workspaces as clients, consents, codes, token families and
# signing keys. Codes and tokens only as keyed hashes; client secrets only as SHA-256.
oidc_clients = sa.Table(
    "oidc_clients",
    metadata,
    sa.Column("client_id", sa.String(96), primary_key=True),
    sa.Column(
        "workspace_id",
        sa.Integer,
        sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("redirect_uris", sa.JSON, nullable=False),
    sa.Column("subject_kind", sa.String(16), nullable=False),
    sa.Column("secret_hash", sa.String(128), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # Where back-channel notices go (RFC 8935 push); None: the workspace gets none.
    sa.Column("notice_uri", sa.String(2048), nullable=True),
    sa.CheckConstraint("subject_kind IN ('public', 'pairwise')", name="subject_kind"),
)


def _client_fk() -> sa.ForeignKey:
    return sa.ForeignKey("oidc_clients.client_id", ondelete="CASCADE")


oidc_consents = sa.Table(
    "oidc_consents",
    metadata,
    sa.Column("account_id", sa.Integer, _account_fk(), primary_key=True),
    sa.Column("client_id", sa.String(96), _client_fk(), primary_key=True),
    sa.Column("scope", sa.String(512), nullable=False),
    sa.Column("granted_at", UtcDateTime, nullable=False),
)

oidc_codes = sa.Table(
    "oidc_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(96), _client_fk(), nullable=False),
    sa.Column("account_id", sa.Integer, _account_fk(), nullable=False),
    sa.Column("redirect_uri", sa.String(2048), nullable=False),
    sa.Column("scope", sa.String(512), nullable=False),
    sa.Column("nonce", sa.String(512), nullable=True),
    sa.Column("code_challenge", sa.String(128), nullable=False),
    sa.Column("code_challenge_method", sa.String(8), nullable=False),
    sa.Column("auth_time", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime, nullable=True),
)

oidc_refresh_tokens = sa.Table(
    "oidc_refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("family", sa.String(32), nullable=False, index=True),
    sa.Column("client_id", sa.String(96), _client_fk(), nullable=False),
    sa.Column("account_id", sa.Integer, _account_fk(), nullable=False),
    sa.Column("scope", sa.String(512), nullable=False),
    sa.Column("issued_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime, nullable=True),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Index("ix_oidc_refresh_tokens_account_id_client_id", "account_id", "client_id"),
)

# The outbox of back-channel notices (PRODUCT §1.11): written in the transaction that changed the
# address, deleted once delivered or given up. `attempts` counts the sends claimed so far.
oidc_notices = sa.Table(
    "oidc_notices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("jti", sa.String(64), nullable=False, unique=True),
    sa.Column("client_id", sa.String(96), _client_fk(), nullable=False),
    sa.Column("account_id", sa.Integer, _account_fk(), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("address", sa.String(320), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("due_at", UtcDateTime, nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.String(200), nullable=True),
    sa.CheckConstraint("kind IN ('email', 'phone')", name="kind"),
    sa.Index("ix_oidc_notices_client_id_account_id", "client_id", "account_id"),
)

oidc_keys = sa.Table(
    "oidc_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("jwk", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("signs_from", UtcDateTime, nullable=False),
    sa.Column("retired_at", UtcDateTime, nullable=True),
)
