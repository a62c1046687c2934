"""The SQL persistence adapter: tables, repositories, the unit of work and Alembic migrations."""

from core.adapters.db.engine import Database
from core.adapters.db.uow import SqlUnitOfWork

__all__ = ["Database", "SqlUnitOfWork"]
