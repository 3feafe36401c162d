"""Documents: ``Templates.render(kind, values, inputs)`` turns loaded case data into a Latvian DOCX
(``render_to`` writes it to a file as it renders), and the converter pool (:mod:`service.documents.pdf`)
turns a DOCX into a PDF.

Standard templates are found in the templates folder, checked and compiled on first use (or all at once by
``load_all`` at start-up) and cached for the life of the process. A municipality's own template version
(``inputs.template``, see :mod:`service.documents.inputs`) is compiled once per content hash and kept in a
bounded cache, in whichever process renders it — the service, a local worker or a Celery worker. Every
template sees the municipality's settings as ``municipality``. A municipality's template that fails on
real data raises :class:`TemplateFailed`, naming the version and the place; a standard one failing is a bug.
:func:`init_app` gives an application its templates and its converter pool; views reach them through
:func:`templates` and :func:`converters`.
"""

from __future__ import annotations

import atexit
import io
import traceback
import zipfile
from collections import OrderedDict
from functools import cache
from pathlib import Path
from threading import Lock
from typing import IO, TYPE_CHECKING, Any

from flask import Flask, current_app

from schemas.errors import Problem, problem
from service.documents.docx import CompiledTemplate, make_environment, paragraph_text, prepare
from service.documents.formatting import FILTERS
from service.documents.labels import label_filter, load_labels
from service.documents.pdf import ConversionPool
from service.documents.registry import KINDS, DocumentKind
from service.files import atomic_file

if TYPE_CHECKING:
    from service.documents.inputs import DocumentInputs, TemplateRef
    from service.documents.municipal import MunicipalSettings

__all__ = [
    "KINDS",
    "DocumentKind",
    "TemplateFailed",
    "Templates",
    "context",
    "converters",
    "init_app",
    "templates",
]

_TEMPLATES = "veidlapas.templates"
_CONVERTERS = "veidlapas.converters"
#: How many municipalities' template versions a process keeps compiled.
UPLOADED_CACHE = 64


class TemplateFailed(Exception):
    """A municipality's template version could not fill a document; ``problem`` says which and where."""

    def __init__(self, kind: DocumentKind, number: int, part: str, near: str, reason: str) -> None:
        super().__init__(kind.name, number, part)
        self.kind, self.number = kind, number
        self.problem: Problem = problem(
            "template.render_failed", version=number, part=part, near=near[:120], reason=reason[:200]
        )


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
        self._uploaded: OrderedDict[str, CompiledTemplate] = OrderedDict()
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

    def uploaded(self, kind: DocumentKind, template: TemplateRef) -> CompiledTemplate:
        """A municipality's template version, compiled on first use and kept by its content hash."""
        with self._lock:
            compiled = self._uploaded.get(template.sha256)
            if compiled is not None:
                self._uploaded.move_to_end(template.sha256)
                return compiled
        compiled = CompiledTemplate.from_bytes(kind.template, template.content, self.environment)
        with self._lock:
            self._uploaded[template.sha256] = compiled
            while len(self._uploaded) > UPLOADED_CACHE:
                self._uploaded.popitem(last=False)
        return compiled

    def render(
        self, kind: DocumentKind, values: dict[str, Any], inputs: DocumentInputs | None = None
    ) -> bytes:
        """The DOCX of ``kind`` filled with ``values`` (already loaded by the kind's schema), with the
        municipality's settings and template version of ``inputs`` (the standard ones when not given)."""
        buffer = io.BytesIO()
        self._write(kind, values, inputs, buffer)
        return buffer.getvalue()

    def render_to(
        self, kind: DocumentKind, values: dict[str, Any], inputs: DocumentInputs | None, target: Path
    ) -> None:
        """The same DOCX as :meth:`render`, written to ``target`` as it renders (atomically: on failure
        there is no file), so a document whose length follows a pack's never is in memory whole."""
        with atomic_file(target) as out:
            self._write(kind, values, inputs, out)

    def _write(
        self, kind: DocumentKind, values: dict[str, Any], inputs: DocumentInputs | None, out: IO[bytes]
    ) -> None:
        settings = inputs.settings if inputs else None
        template = inputs.template if inputs else None
        logo = settings.logo if settings else None
        if template is None:
            self.get(kind).write(context(kind, values, settings), out, logo=logo)
            return
        try:
            self.uploaded(kind, template).write(context(kind, values, settings), out, logo=logo)
        except MemoryError:
            raise
        except Exception as error:
            raise _failure(kind, template, error) from None


def context(kind: DocumentKind, values: dict[str, Any], settings: MunicipalSettings | None) -> dict[str, Any]:
    """What a template of ``kind`` sees: its data under the kind's name and the settings as ``municipality``
    (the renderer adds ``municipality.logo``, see ``CompiledTemplate.write``). Without settings (outside
    any configured municipality) it has no clauses, so ``{% if municipality.clauses.x %}`` still holds."""
    return {kind.context: values, "municipality": settings.context() if settings else {"clauses": {}}}


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
        app.config["PDF_RSS_LIMIT_MB"],
        app.config["PDF_ALLOCATOR"],
    )


@cache
def _pool(
    size: int, timeout_s: int, restart_after: int, queue_limit: int, rss_mb: int, allocator: str
) -> ConversionPool:
    """One pool of LibreOffice converters per process and settings (tests make many applications)."""
    pool = ConversionPool(
        size,
        timeout_s=timeout_s,
        restart_after=restart_after,
        queue_limit=queue_limit,
        rss_limit_mb=rss_mb,
        allocator=allocator,
    )
    atexit.register(pool.close)
    return pool


def templates(app: Flask | None = None) -> Templates:
    """The compiled templates of ``app`` (the current application when not given)."""
    return (app or current_app).extensions[_TEMPLATES]


def converters(app: Flask | None = None) -> ConversionPool:
    """The PDF converter pool of ``app`` (the current application when not given)."""
    return (app or current_app).extensions[_CONVERTERS]


def _failure(kind: DocumentKind, template: TemplateRef, error: Exception) -> TemplateFailed:
    """Where in ``template`` rendering stopped: the part and the paragraph of the innermost template frame
    (Jinja's tracebacks point at the template's lines, which ``docx.prepare`` made one per paragraph)."""
    part, near = "", ""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        file, _, name = frame.filename.partition(":")
        if file == kind.template and name:
            part, near = name, _paragraph(template.content, name, frame.lineno or 0)
            break
    return TemplateFailed(kind, template.number, part or "word/document.xml", near, type(error).__name__)


def _paragraph(content: bytes, part: str, line: int) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            lines = prepare(package.read(part).decode("utf-8")).splitlines()
    except (KeyError, OSError, UnicodeDecodeError, zipfile.BadZipFile):
        return ""
    return paragraph_text(lines[line - 1]) if 0 < line <= len(lines) else ""
