"""The document register: every rendered document is recorded — kind, municipality, user, time, the
template and settings versions it was made with, SHA-256 and size — and its bytes are kept only when
storing is switched on (``STORE_DOCUMENTS``). A pack's documents are recorded with their job."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth import Principal
from service.documents.inputs import DocumentInputs
from service.store.blobs import BlobStore
from service.store.models import Job, RegisteredDocument


def register(
    session: Session,
    user: Principal,
    kind: str,
    file_name: str,
    data: bytes,
    blobs: BlobStore | None,
    inputs: DocumentInputs | None = None,
) -> RegisteredDocument:
    """Record a rendered document made with ``inputs`` (and store its bytes when ``blobs`` is given)."""
    sha256 = blobs.put(data) if blobs else hashlib.sha256(data).hexdigest()
    entry = _entry(session, user.municipality, user.id, kind, file_name, sha256, len(data), inputs)
    entry.stored = blobs is not None
    session.flush()
    return entry


def register_made(
    session: Session, job: Job, kind: str, file_name: str, sha256: str, size: int, inputs: DocumentInputs
) -> RegisteredDocument:
    """Record a document a job made, for the job's user and municipality."""
    entry = _entry(session, job.municipality, job.user_id, kind, file_name, sha256, size, inputs)
    entry.job_id = job.id
    return entry


def _entry(
    session: Session,
    municipality: str,
    user_id: int | None,
    kind: str,
    file_name: str,
    sha256: str,
    size: int,
    inputs: DocumentInputs | None,
) -> RegisteredDocument:
    entry = RegisteredDocument(
        kind=kind,
        file_name=file_name[:120],
        municipality=municipality,
        user_id=user_id,
        sha256=sha256,
        size=size,
        **(inputs or DocumentInputs()).record(),
    )
    session.add(entry)
    return entry


def forget(session: Session, entry: RegisteredDocument, blobs: BlobStore | None) -> None:
    """Delete a register entry, and its bytes when no other entry has the same ones."""
    session.delete(entry)
    session.flush()
    others = session.scalar(
        select(func.count()).select_from(RegisteredDocument).where(RegisteredDocument.sha256 == entry.sha256)
    )
    if blobs and entry.stored and not others:
        blobs.delete(entry.sha256)
