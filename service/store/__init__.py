"""Storage: the database (SQLAlchemy, migrated by Alembic) and its models."""

from service.store.database import Database

__all__ = ["Database"]
