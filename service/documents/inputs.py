"""What a document is made from besides its data: the municipality's template version and settings in force
on the document's own date. Resolved once from the database (:func:`inputs_on`), recorded with the document
(:meth:`DocumentInputs.record`), and found again from the record to make the same document again
(:func:`inputs_of`); a pack job's input carries them as JSON (``as_input``/``from_input``).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from service.documents import template_store
from service.documents.municipal import MunicipalSettings, settings_of, settings_on
from service.documents.registry import DocumentKind
from service.store.models import MadeWith, TemplateVersion


@dataclass(frozen=True)
class TemplateRef:
    """A municipality's template version as the renderer needs it: compiled once per content hash."""

    id: str
    number: int
    sha256: str
    content: bytes

    @classmethod
    def of(cls, version: TemplateVersion) -> TemplateRef:
        return cls(version.id, version.number, version.sha256, version.content)

    def as_input(self) -> dict[str, Any]:
        """JSON for a job's input, content included, so a worker needs no database to render with it."""
        content = base64.b64encode(self.content).decode("ascii")
        return {"id": self.id, "number": self.number, "sha256": self.sha256, "content": content}

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> TemplateRef:
        return cls(data["id"], data["number"], data["sha256"], base64.b64decode(data["content"]))


@dataclass(frozen=True)
class DocumentInputs:
    """The settings (``None`` outside any configured municipality) and the template version (``None``: the
    standard template) a document is made with."""

    settings: MunicipalSettings | None = None
    template: TemplateRef | None = None

    def record(self) -> dict[str, Any]:
        """The columns of :class:`~service.store.models.MadeWith` that say which versions were used."""
        template, settings = self.template, self.settings
        return {
            "template_version_id": template.id if template else None,
            "template_version": template.number if template else None,
            "settings_version_id": settings.version_id if settings else None,
            "settings_version": settings.version if settings else None,
        }


def inputs_on(session: Session, code: str | None, kind: DocumentKind, day: dt.date) -> DocumentInputs:
    """The settings and the template version in force for municipality ``code`` on ``day``."""
    settings = settings_on(session, code, day) if code else None
    if settings is None:
        return DocumentInputs()
    return DocumentInputs(settings, template_on(session, settings.code, kind, day))


def template_on(session: Session, code: str, kind: DocumentKind, day: dt.date) -> TemplateRef | None:
    """The municipality's own template of ``kind`` in force on ``day`` (``None``: the standard one)."""
    version = template_store.in_force(session, code, kind.name, day) if kind.own_templates else None
    return TemplateRef.of(version) if version else None


def inputs_of(session: Session, record: MadeWith) -> DocumentInputs:
    """The inputs a record (a plan or agreement version, a register entry) says its document was made
    with, to make the same document again."""
    settings = settings_of(session, record.municipality, record.settings_version_id)
    template_id = record.template_version_id
    version = session.get(TemplateVersion, template_id) if template_id else None
    return DocumentInputs(settings, TemplateRef.of(version) if version else None)
