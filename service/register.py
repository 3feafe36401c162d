"""The document register: every rendered document is recorded — kind, municipality, user, time,
SHA-256 and size — and its bytes are kept only when storing is switched on (``STORE_DOCUMENTS``)."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth import Principal
from service.store.blobs import BlobStore
from service.store.models import RegisteredDocument


def register(
    session: Session, user: Principal, kind: str, file_name: str, data: bytes, blobs: BlobStore | None
) -> RegisteredDocument:
    """Record a rendered document (and store its bytes when ``blobs`` is given)."""
    sha256 = blobs.put(data) if blobs else hashlib.sha256(data).hexdigest()
    entry = RegisteredDocument(
        kind=kind,
        file_name=file_name[:120],
        municipality=user.municipality,
        user_id=user.id,
        sha256=sha256,
        size=len(data),
        stored=blobs is not None,
    )
    session.add(entry)
    session.flush()
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
