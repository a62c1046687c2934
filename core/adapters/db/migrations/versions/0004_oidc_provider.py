"""The OpenID Provider: clients, consents, codes, refresh tokens, keys (PRODUCT §1.11).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, target_column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.{target_column}"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "oidc_clients",
        sa.Column("client_id", sa.String(96), nullable=False),
        sa.Column("workspace_id", sa.Integer, nullable=False),
        sa.Column("redirect_uris", sa.JSON, nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint(
            "subject_kind IN ('public', 'pairwise')", name=op.f("ck_oidc_clients_subject_kind")
        ),
        _fk("oidc_clients", "workspace_id", "workspaces", "id"),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_oidc_clients")),
    )
    op.create_index(op.f("ix_oidc_clients_workspace_id"), "oidc_clients", ["workspace_id"])
    op.create_table(
        "oidc_consents",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("client_id", sa.String(96), nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("granted_at", _when(), nullable=False),
        _fk("oidc_consents", "account_id", "accounts", "id"),
        _fk("oidc_consents", "client_id", "oidc_clients", "client_id"),
        sa.PrimaryKeyConstraint("account_id", "client_id", name=op.f("pk_oidc_consents")),
    )
    op.create_table(
        "oidc_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(96), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("redirect_uri", sa.String(2048), nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("nonce", sa.String(512), nullable=True),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("code_challenge_method", sa.String(8), nullable=False),
        sa.Column("auth_time", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.Column("used_at", _when(), nullable=True),
        _fk("oidc_codes", "client_id", "oidc_clients", "client_id"),
        _fk("oidc_codes", "account_id", "accounts", "id"),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oidc_codes")),
    )
    op.create_table(
        "oidc_refresh_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(96), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("issued_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.Column("used_at", _when(), nullable=True),
        sa.Column("revoked_at", _when(), nullable=True),
        _fk("oidc_refresh_tokens", "client_id", "oidc_clients", "client_id"),
        _fk("oidc_refresh_tokens", "account_id", "accounts", "id"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oidc_refresh_tokens")),
    )
    op.create_index(op.f("ix_oidc_refresh_tokens_family"), "oidc_refresh_tokens", ["family"])
    op.create_index(
        "ix_oidc_refresh_tokens_account_id_client_id",
        "oidc_refresh_tokens",
        ["account_id", "client_id"],
    )
    op.create_table(
        "oidc_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("jwk", sa.JSON, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("signs_from", _when(), nullable=False),
        sa.Column("retired_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_oidc_keys")),
    )


def downgrade() -> None:
    op.drop_table("oidc_keys")
    op.drop_index("ix_oidc_refresh_tokens_account_id_client_id", "oidc_refresh_tokens")
    op.drop_index(op.f("ix_oidc_refresh_tokens_family"), "oidc_refresh_tokens")
    op.drop_table("oidc_refresh_tokens")
    op.drop_table("oidc_codes")
    op.drop_table("oidc_consents")
    op.drop_index(op.f("ix_oidc_clients_workspace_id"), "oidc_clients")
    op.drop_table("oidc_clients")
