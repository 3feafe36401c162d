"""Documents: ``Templates.render(kind, values)`` turns loaded case data into a Latvian DOCX, and the
converter pool (:mod:`service.documents.pdf`) turns a DOCX into a PDF.

Templates are found in the templates folder, checked and compiled on first use (or all at once by
``load_all`` at start-up) and cached for the life of the process. :func:`init_app` gives an application
its templates and its converter pool; views reach them through :func:`templates` and :func:`converters`.
"""

from __future__ import annotations

import atexit
from functools import cache
from pathlib import Path
from threading import Lock
from typing import Any

from flask import Flask, current_app

from service.documents.docx import CompiledTemplate, make_environment
from service.documents.formatting import FILTERS
from service.documents.labels import label_filter, load_labels
from service.documents.pdf import ConversionPool
from service.documents.registry import KINDS, DocumentKind

__all__ = ["KINDS", "DocumentKind", "Templates", "converters", "init_app", "templates"]

_TEMPLATES = "veidlapas.templates"
_CONVERTERS = "veidlapas.converters"


class Templates:
    """The compiled templates of one templates folder.

    ``Templates.of(folder)`` shares one instance per folder in a process for as long as no file in it
    changes, so every application (and, later, every worker) compiles each template once.
    """

    _shared: dict[tuple, Templates] = {}
    _shared_lock = Lock()

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        labels = load_labels(folder / "labels.toml")
        self.environment = make_environment({**FILTERS, "label": label_filter(labels)})
        self._compiled: dict[str, CompiledTemplate] = {}
        self._lock = Lock()

    @classmethod
    def of(cls, folder: Path) -> Templates:
        """The shared templates of ``folder``, loaded anew when any of its files changed."""
        files = sorted(folder.iterdir()) if folder.is_dir() else []
        key = (str(folder.resolve()), *((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files))
        with cls._shared_lock:
            if key not in cls._shared:
                cls._shared[key] = cls(folder)
            return cls._shared[key]

    def get(self, kind: DocumentKind) -> CompiledTemplate:
        """The compiled template of ``kind``, compiled on first use."""
        compiled = self._compiled.get(kind.name)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(kind.name) or CompiledTemplate.load(
                    self.folder / kind.template, self.environment
                )
                self._compiled[kind.name] = compiled
        return compiled

    def load_all(self) -> None:
        """Compile every registered template now, so a broken one stops start-up."""
        for kind in KINDS.values():
            self.get(kind)

    def render(self, kind: DocumentKind, values: dict[str, Any]) -> bytes:
        """The DOCX of ``kind`` filled with ``values`` (already loaded by the kind's schema)."""
        return self.get(kind).render({kind.context: values})


def init_app(app: Flask) -> None:
    """Compile every template of the configured folder (a broken one stops start-up) and attach the
    application's PDF converter pool (its converters start on first use)."""
    compiled = Templates.of(app.config["TEMPLATES_DIR"])
    compiled.load_all()
    app.extensions[_TEMPLATES] = compiled
    app.extensions[_CONVERTERS] = _pool(
        app.config["PDF_CONVERTERS"],
        app.config["PDF_TIMEOUT_S"],
        app.config["PDF_RESTART_AFTER"],
        app.config["PDF_QUEUE"],
    )


@cache
def _pool(size: int, timeout_s: int, restart_after: int, queue_limit: int) -> ConversionPool:
    """One pool of LibreOffice converters per process and settings (tests make many applications)."""
    pool = ConversionPool(size, timeout_s=timeout_s, restart_after=restart_after, queue_limit=queue_limit)
    atexit.register(pool.close)
    return pool


def templates(app: Flask | None = None) -> Templates:
    """The compiled templates of ``app`` (the current application when not given)."""
    return (app or current_app).extensions[_TEMPLATES]


def converters(app: Flask | None = None) -> ConversionPool:
    """The PDF converter pool of ``app`` (the current application when not given)."""
    return (app or current_app).extensions[_CONVERTERS]
