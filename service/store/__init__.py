"""Storage: the database (SQLAlchemy, migrated by Alembic), its models, the document blob files and the
key that seals personal data.

:func:`init_app` opens them for an application; views reach them through :func:`database`,
:func:`blobs` and :func:`sealer`, as Flask's tutorial reaches its database through ``get_db()``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, current_app

from service.store import case_models  # noqa: F401  (the case tables join the metadata)
from service.store.blobs import BlobStore
from service.store.database import Database
from service.store.sealing import KeyFileError, Keyring, Sealer, start_keyring

__all__ = ["BlobStore", "Database", "KeyFileError", "Sealer", "blobs", "database", "init_app", "sealer"]

_DATABASE = "veidlapas.database"
_BLOBS = "veidlapas.blobs"
_SEALER = "veidlapas.sealer"


def init_app(app: Flask) -> None:
    """The database (migrated to the newest schema) and, when storing is on, the document store."""
    url = app.config["DATABASE_URL"]
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = f"sqlite:///{Path(app.instance_path) / 'veidlapas.db'}"
    db = Database(url)
    seals = Sealer(keyring(app, db))
    db.upgrade(seals)
    app.extensions[_DATABASE] = db
    app.extensions[_SEALER] = seals
    app.extensions[_BLOBS] = blob_store(app) if app.config["STORE_DOCUMENTS"] else None


def keyring(app: Flask, db: Database) -> Keyring:
    """The data keys of ``app`` (``service.store.sealing.start_keyring``): the configured key file, or the
    instance folder's, made on first start while nothing is sealed."""
    configured = app.config.get("DATA_KEY_FILE")
    return start_keyring(app.instance_path, configured, sealed_data=db.holds_sealed_data())


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


def sealer(app: Flask | None = None) -> Sealer:
    """What seals and opens personal data for ``app`` (or the current application)."""
    return (app or current_app).extensions[_SEALER]
