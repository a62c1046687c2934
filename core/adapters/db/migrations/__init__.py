"""Alembic migrations of the SQL schema; run them through `core.adapters.db.migrate`."""
