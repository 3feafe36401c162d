"""Veidlapas: Latvian case documents for community-based social services.

``create_app()`` builds the Flask application; nothing happens at import time.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask

from schemas import catalogue, municipalities, projects
from service import api, auth, i18n, jobs, security
from service.config import from_environment
from service.documents import Templates
from service.documents.pdf import ConversionPool
from service.logs import configure_logging
from service.store import Database
from service.store.blobs import BlobStore


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The application, configured from the environment and then from ``config``.

    The catalogue, the projects, the message catalogs and every template are loaded and checked here, so a
    broken data file, a missing catalog or a broken template stops start-up with a clear message
    instead of failing a request later.
    """
    app = Flask(__name__, instance_relative_config=True)
    # For the web pages to come: cookie sessions that never travel unencrypted or cross-site.
    app.config.update(
        SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict"
    )
    app.config.update(from_environment())
    app.config.update(config or {})
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    configure_logging(app)
    catalogue.default()
    projects.default()
    municipalities.default()
    i18n.check_catalogs()
    templates = Templates.of(app.config["TEMPLATES_DIR"])
    templates.load_all()
    app.extensions["veidlapas.templates"] = templates
    _init_storage(app)
    jobs.init_app(app)
    app.extensions["veidlapas.pdf"] = _pdf_pool(
        app.config["PDF_CONVERTERS"],
        app.config["PDF_TIMEOUT_S"],
        app.config["PDF_RESTART_AFTER"],
        app.config["PDF_QUEUE"],
    )
    auth.init_app(app)
    api.init_app(app)
    security.init_app(app)
    return app


@cache
def _pdf_pool(size: int, timeout_s: int, restart_after: int, queue_limit: int) -> ConversionPool:
    """One pool of LibreOffice converters per process and settings; workers start on first use."""
    pool = ConversionPool(size, timeout_s=timeout_s, restart_after=restart_after, queue_limit=queue_limit)
    atexit.register(pool.close)
    return pool


def _init_storage(app: Flask) -> None:
    """The database (migrated to the newest schema) and, when switched on, the document store."""
    url = app.config["DATABASE_URL"]
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = f"sqlite:///{Path(app.instance_path) / 'veidlapas.db'}"
    database = Database(url)
    database.upgrade()
    app.extensions["veidlapas.db"] = database
    blobs_dir = app.config["BLOBS_DIR"] or Path(app.instance_path) / "blobs"
    app.extensions["veidlapas.blobs"] = BlobStore(blobs_dir) if app.config["STORE_DOCUMENTS"] else None
