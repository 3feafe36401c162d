"""Storage: the database (SQLAlchemy, migrated by Alembic), its models and the document blob files.

:func:`init_app` opens both for an application; views reach them through :func:`database` and
:func:`blobs`, as Flask's tutorial reaches its database through ``get_db()``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, current_app

from service.store.blobs import BlobStore
from service.store.database import Database

__all__ = ["BlobStore", "Database", "blobs", "database", "init_app"]

_DATABASE = "veidlapas.database"
_BLOBS = "veidlapas.blobs"


def init_app(app: Flask) -> None:
    """The database (migrated to the newest schema) and, when storing is on, the document store."""
    url = app.config["DATABASE_URL"]
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = f"sqlite:///{Path(app.instance_path) / 'veidlapas.db'}"
    db = Database(url)
    db.upgrade()
    app.extensions[_DATABASE] = db
    app.extensions[_BLOBS] = blob_store(app) if app.config["STORE_DOCUMENTS"] else None


def blob_store(app: Flask) -> BlobStore:
    """The document store of ``app``'s configuration (whether or not storing is switched on)."""
    return BlobStore(app.config["BLOBS_DIR"] or Path(app.instance_path) / "blobs")


def keep_documents(app: Flask, store: BlobStore | None) -> None:
    """Switch storing rendered documents on (with ``store``) or off (``None``) for ``app``."""
    app.extensions[_BLOBS] = store


def database(app: Flask | None = None) -> Database:
    """The database of ``app`` (the current application when not given)."""
    return (app or current_app).extensions[_DATABASE]


def blobs(app: Flask | None = None) -> BlobStore | None:
    """The document store of ``app`` (or the current one), or None when only hashes are registered."""
    return (app or current_app).extensions[_BLOBS]
