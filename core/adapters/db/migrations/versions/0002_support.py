"""Support handoffs, one topic per person, and the map of relayed messages (PRODUCT §1.8).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_HANDOFF = sa.text("closed_at IS NULL")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "support_handoffs",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger, nullable=False),
        sa.Column("account_id", sa.Integer, nullable=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("saved_state", sa.String(128), nullable=True),
        sa.Column("saved_data", sa.JSON, nullable=False),
        sa.Column("opened_at", _when(), nullable=False),
        sa.Column("closed_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_handoffs")),
    )
    op.create_index(
        "ix_support_handoffs_telegram_user_id", "support_handoffs", ["telegram_user_id"]
    )
    op.create_index(
        "uq_support_handoffs_open",
        "support_handoffs",
        ["telegram_user_id"],
        unique=True,
        sqlite_where=OPEN_HANDOFF,
        postgresql_where=OPEN_HANDOFF,
    )
    op.create_table(
        "support_topics",
        sa.Column("chat_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("thread_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "telegram_user_id", name=op.f("pk_support_topics")),
        sa.UniqueConstraint(
            "chat_id", "thread_id", name=op.f("uq_support_topics_chat_id_thread_id")
        ),
    )
    op.create_table(
        "support_messages",
        sa.Column("chat_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("group_message_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger, nullable=False),
        sa.Column("person_message_id", sa.BigInteger, nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "group_message_id", name=op.f("pk_support_messages")),
    )
    op.create_index(
        "ix_support_messages_person",
        "support_messages",
        ["chat_id", "telegram_user_id", "person_message_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_support_messages_person", table_name="support_messages")
    op.drop_table("support_messages")
    op.drop_table("support_topics")
    op.drop_index("uq_support_handoffs_open", table_name="support_handoffs")
    op.drop_index("ix_support_handoffs_telegram_user_id", table_name="support_handoffs")
    op.drop_table("support_handoffs")
