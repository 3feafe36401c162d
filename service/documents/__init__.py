"""Documents: ``render(kind, values)`` turns loaded case data into a Latvian DOCX.

Templates are found in the templates folder, checked and compiled on first use (or all at once by
``load_templates`` at start-up) and cached for the life of the process.
"""

from __future__ import annotations

from pathlib import Path
from threading import Lock
from typing import Any

from service.documents.docx import CompiledTemplate, make_environment
from service.documents.formatting import FILTERS
from service.documents.labels import label_filter, load_labels
from service.documents.registry import KINDS, DocumentKind

__all__ = ["KINDS", "DocumentKind", "Templates"]


class Templates:
    """The compiled templates of one templates folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        labels = load_labels(folder / "labels.toml")
        self.environment = make_environment({**FILTERS, "label": label_filter(labels)})
        self._compiled: dict[str, CompiledTemplate] = {}
        self._lock = Lock()

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
