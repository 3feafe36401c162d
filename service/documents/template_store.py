"""A municipality's own templates: versions uploaded, listed, found in force on a day, rolled back.

Every version is a row of :class:`~service.store.models.TemplateVersion`, never changed once written. An
upload passes :func:`service.documents.uploaded.check_template` first and keeps the repaired DOCX; a
rollback adds a new version with an earlier one's content, so the history says who put what in force when.
Numbers are the next of the municipality and kind; of two versions saved at once for one number the second
is :class:`VersionTaken` (the unique constraint) and nothing of it is kept. The renderer finds the one in
force through :mod:`service.documents.inputs`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config import UploadLimits
from service.documents import Templates, context
from service.documents.docx import CompiledTemplate
from service.documents.municipal import MunicipalSettings
from service.documents.registry import DocumentKind
from service.documents.uploaded import TemplateCheck, check_template
from service.documents.versioning import Author, keep, next_number
from service.documents.versioning import VersionTaken as VersionTaken  # what callers catch
from service.documents.versioning import in_force as _in_force
from service.store.models import TemplateVersion


def upload(
    session: Session,
    user: Author,
    kind: DocumentKind,
    data: bytes,
    effective_from: dt.date,
    limits: UploadLimits,
    folder: Path,
) -> tuple[TemplateVersion | None, TemplateCheck]:
    """Check ``data`` as ``kind``'s template and keep it as the next version when accepted (``None``
    and the check's problems otherwise); ``folder`` holds the labels its filters read."""
    check = check_template(data, kind, limits, folder)
    if not check.accepted:
        return None, check
    version = _add(session, user, kind.name, check.repaired, effective_from, len(check.warnings))
    return version, check


def rollback(
    session: Session, user: Author, kind: DocumentKind, number: int, effective_from: dt.date
) -> TemplateVersion | None:
    """A new version with version ``number``'s content, in force from ``effective_from``; ``None`` when
    the municipality has no such version."""
    earlier = version(session, user.municipality, kind.name, number)
    if earlier is None:
        return None
    made = _add(session, user, kind.name, earlier.content, effective_from, earlier.warnings)
    made.rolled_back_from = earlier.number
    return made


def versions(session: Session, municipality: str, kind: str) -> list[TemplateVersion]:
    """The municipality's versions of ``kind``, oldest first."""
    statement = _of(municipality, kind).order_by(TemplateVersion.number)
    return list(session.scalars(statement))


def version(session: Session, municipality: str, kind: str, number: int) -> TemplateVersion | None:
    """Version ``number`` of the municipality's ``kind``, if there is one."""
    return session.scalar(_of(municipality, kind).where(TemplateVersion.number == number))


def in_force(session: Session, municipality: str, kind: str, day: dt.date) -> TemplateVersion | None:
    """The version in force on ``day``: the latest ``effective_from`` not after it, the highest number
    among equals; ``None`` when the standard template applies."""
    return session.scalar(_in_force(_of(municipality, kind), TemplateVersion, day))


def sample_document(
    content: bytes, kind: DocumentKind, templates: Templates, settings: MunicipalSettings | None
) -> bytes:
    """The DOCX of ``kind``'s first sample rendered with the template ``content`` (a version's, or a checked
    upload's) and the municipality's ``settings`` (its logo and clauses, so the preview shows what its
    documents will look like), as the service renders its own."""
    compiled = CompiledTemplate.from_bytes(kind.template, content, templates.environment)
    values = kind.schema().load(json.loads(kind.sample_files()[0].read_text(encoding="utf-8")))
    return compiled.render(context(kind, values, settings), logo=settings.logo if settings else None)


def _of(municipality: str, kind: str):
    return select(TemplateVersion).where(
        TemplateVersion.municipality == municipality, TemplateVersion.kind == kind
    )


def _add(
    session: Session, user: Author, kind: str, content: bytes, effective_from: dt.date, warnings: int
) -> TemplateVersion:
    made = TemplateVersion(
        municipality=user.municipality,
        kind=kind,
        number=_next_number(session, user.municipality, kind),
        effective_from=effective_from,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        warnings=warnings,
        created_by=user.id or None,
    )
    return keep(session, made)


def _next_number(session: Session, municipality: str, kind: str) -> int:
    where = (TemplateVersion.municipality == municipality, TemplateVersion.kind == kind)
    return next_number(session, TemplateVersion, *where)
