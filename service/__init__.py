"""Veidlapas: Latvian case documents for community-based social services.

:func:`create_app` (in :mod:`service.app`) builds the application. Importing this package, or any low
module in it (``service.packs.merge``, ``service.store``), imports nothing else: the Celery worker, the
upload parser's fork server and the pack workers load only what they use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The application (see :func:`service.app.create_app`), imported only when it is asked for."""
    from service.app import create_app as build

    return build(config)
