"""The application factory: ``create_app()`` builds everything; nothing happens at import time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from schemas import catalogue, municipalities, projects
from service import api, auth, documents, i18n, jobs, security, store, web
from service.config import from_environment
from service.logs import configure_logging
from service.packs.job import PackJob

#: The kinds of background job the application runs.
JOB_KINDS = (PackJob,)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The application, configured from the environment and then from ``config``.

    The catalogue, the projects, the message catalogs and every template are loaded and checked here, so a
    broken data file, a missing catalog or a broken template stops start-up with a clear message
    instead of failing a request later.
    """
    app = Flask("service", instance_relative_config=True)
    app.config.update(from_environment())
    app.config.update(config or {})
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    configure_logging(app)
    catalogue.default()
    projects.default()
    municipalities.default()
    i18n.check_catalogs()
    documents.init_app(app)
    store.init_app(app)
    jobs.init_app(app, JOB_KINDS)
    auth.init_app(app)
    api.init_app(app)
    web.init_app(app)
    security.init_app(app)
    return app
