"""The database of one application: engine, sessions, and Alembic migrations run at start-up.

SQLite in the instance folder by default; PostgreSQL (or any SQLAlchemy URL) when ``DATABASE_URL`` says
so. The schema is managed only by the migrations in ``service/store/migrations``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from service.store import case_models  # noqa: F401  (every sealed table is mapped)
from service.store.models import Base, Sealed
from service.store.sealing import Sealer

MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """An engine and a session factory for one URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self, sealer: Sealer) -> None:
        """Bring the schema to the newest migration; ``sealer`` seals what older revisions kept in clear."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            config.attributes["sealer"] = sealer
            command.upgrade(config, "head")

    def holds_sealed_data(self) -> bool:
        """Whether any sealed column of any table already holds a value (at whatever revision it is)."""
        tables = {
            mapper.local_table: mapper.class_.__sealed_columns__
            for mapper in Base.registry.mappers
            if issubclass(mapper.class_, Sealed)
        }
        inspector = inspect(self.engine)
        with self.engine.connect() as connection:
            for table, columns in tables.items():
                if not inspector.has_table(table.name):
                    continue
                present = {column["name"] for column in inspector.get_columns(table.name)}
                for name in set(columns) & present:
                    column = table.c[name]
                    if connection.scalar(select(column).where(column.is_not(None)).limit(1)) is not None:
                        return True
        return False

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends normally and rolls back otherwise."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA secure_delete=ON")  # what is deleted or re-sealed leaves no plaintext behind
    cursor.close()
