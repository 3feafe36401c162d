"""Alembic environment: migrations run on the connection the service hands over (see database.py)."""

from alembic import context

from service.store import case_models  # noqa: F401  (the case tables join the metadata)
from service.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
