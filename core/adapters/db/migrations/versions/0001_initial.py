"""The initial schema: accounts, identities, bindings, passwords, Telegram links, workspaces, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONFIRMED = sa.text("status = 'confirmed'")
PENDING = sa.text("status = 'pending'")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _account_id() -> sa.Column[int]:
    return sa.Column("account_id", sa.Integer, nullable=False)


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.id"],
        name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("terms_accepted_at", _when(), nullable=True),
        sa.Column("terms_url", sa.String(2048), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "social_identities",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        _account_id(),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("email_verified", sa.Boolean, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        _account_fk("social_identities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_identities")),
        sa.UniqueConstraint(
            "provider", "subject", name=op.f("uq_social_identities_provider_subject")
        ),
    )
    op.create_index(
        op.f("ix_social_identities_account_id"), "social_identities", ["account_id"]
    )
    op.create_table(
        "bindings",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        _account_id(),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("confirmed_at", _when(), nullable=True),
        sa.Column("expires_at", _when(), nullable=True),
        sa.CheckConstraint("kind IN ('email', 'phone')", name=op.f("ck_bindings_kind")),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed')", name=op.f("ck_bindings_status")
        ),
        _account_fk("bindings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bindings")),
    )
    op.create_index(op.f("ix_bindings_account_id"), "bindings", ["account_id"])
    # PRODUCT §3: of two accounts binding one address at once, exactly one wins.
    for name, columns, where in (
        ("uq_bindings_confirmed_address", ["kind", "address"], CONFIRMED),
        ("uq_bindings_confirmed_kind", ["account_id", "kind"], CONFIRMED),
        ("uq_bindings_pending_kind", ["account_id", "kind"], PENDING),
    ):
        op.create_index(
            op.f(name),
            "bindings",
            columns,
            unique=True,
            sqlite_where=where,
            postgresql_where=where,
        )
    op.create_table(
        "password_credentials",
        sa.Column("account_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("password_hash", sa.String(512), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        _account_fk("password_credentials"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_password_credentials")),
    )
    op.create_table(
        "telegram_links",
        sa.Column("telegram_user_id", sa.BigInteger, autoincrement=False, nullable=False),
        _account_id(),
        sa.Column("linked_at", _when(), nullable=False),
        _account_fk("telegram_links"),
        sa.PrimaryKeyConstraint("telegram_user_id", name=op.f("pk_telegram_links")),
    )
    op.create_index(op.f("ix_telegram_links_account_id"), "telegram_links", ["account_id"])
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("created_at", _when(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint("slug", name=op.f("uq_workspaces_slug")),
    )
    op.create_table(
        "memberships",
        sa.Column("workspace_id", sa.Integer, nullable=False),
        _account_id(),
        sa.Column("contact_email", sa.String(320), nullable=True),
        sa.Column("contact_phone", sa.String(32), nullable=True),
        _account_fk("memberships"),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_memberships_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "account_id", name=op.f("pk_memberships")),
    )
    op.create_index(op.f("ix_memberships_account_id"), "memberships", ["account_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer, nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        op.f("ix_audit_events_account_id_at"), "audit_events", ["account_id", "at"]
    )


def downgrade() -> None:
    # Dropping a table drops its indexes too, on both databases.
    for table in (
        "audit_events",
        "memberships",
        "workspaces",
        "telegram_links",
        "password_credentials",
        "bindings",
        "social_identities",
        "accounts",
    ):
        op.drop_table(table)
