"""Back-channel notices to workspaces: a client's notice URI and the outbox (PRODUCT §1.11).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
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
    # A nullable column without constraints: SQLite adds it in place, no copy of the table.
    op.add_column("oidc_clients", sa.Column("notice_uri", sa.String(2048), nullable=True))
    op.create_table(
        "oidc_notices",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(96), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("due_at", _when(), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.CheckConstraint("kind IN ('email', 'phone')", name=op.f("ck_oidc_notices_kind")),
        _fk("oidc_notices", "client_id", "oidc_clients", "client_id"),
        _fk("oidc_notices", "account_id", "accounts", "id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_notices")),
        sa.UniqueConstraint("jti", name=op.f("uq_oidc_notices_jti")),
    )
    op.create_index(op.f("ix_oidc_notices_due_at"), "oidc_notices", ["due_at"])
    op.create_index(
        "ix_oidc_notices_client_id_account_id", "oidc_notices", ["client_id", "account_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_oidc_notices_client_id_account_id", "oidc_notices")
    op.drop_index(op.f("ix_oidc_notices_due_at"), "oidc_notices")
    op.drop_table("oidc_notices")
    with op.batch_alter_table("oidc_clients") as batch:
        batch.drop_column("notice_uri")
