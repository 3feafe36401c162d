"""A municipality's own settings: versions saved, listed and rolled back (read in force on a day by
:func:`service.documents.municipal.settings_on`, the one reader).

Every version is a row of :class:`~service.store.models.SettingsVersion`, never changed once written, as
template versions are (:mod:`service.documents.template_store`): ``body`` is the canonical JSON of what it
overrides and its clauses (sorted keys; ``logo_size`` ``[width, height]`` when it has a logo), the logo's
bytes and media type stand in their columns, and ``sha256`` covers the body and the logo. A rollback adds a
new version with an earlier one's content. Numbers are the next of the municipality; of two versions saved
at once for one number the second is :class:`VersionTaken` and nothing of it is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.municipal_settings import OVERRIDABLE, Logo
from service.documents.versioning import Author, keep, next_number
from service.documents.versioning import VersionTaken as VersionTaken  # what callers catch
from service.store.models import SettingsVersion


def save(session: Session, user: Author, loaded: dict[str, Any]) -> SettingsVersion:
    """Keep ``loaded`` (what :class:`~schemas.municipal_settings.SettingsSchema` loaded) as the user's
    municipality's next settings version."""
    body: dict[str, Any] = {key: loaded[key] for key in OVERRIDABLE if key in loaded}
    if loaded.get("clauses"):
        body["clauses"] = dict(loaded["clauses"])
    logo: Logo | None = loaded.get("logo")
    if logo is not None:
        body["logo_size"] = [logo.width, logo.height]
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return _add(
        session,
        user,
        text,
        logo.data if logo else None,
        logo.media_type if logo else None,
        loaded["effective_from"],
    )


def rollback(session: Session, user: Author, number: int, effective_from: dt.date) -> SettingsVersion | None:
    """A new version with version ``number``'s content, in force from ``effective_from``; ``None`` when
    the user's municipality has no such version."""
    earlier = version(session, user.municipality, number)
    if earlier is None:
        return None
    made = _add(session, user, earlier.body, earlier.logo, earlier.logo_type, effective_from)
    made.rolled_back_from = earlier.number
    return made


def versions(session: Session, municipality: str) -> list[SettingsVersion]:
    """The municipality's settings versions, oldest first."""
    return list(session.scalars(_of(municipality).order_by(SettingsVersion.number)))


def version(session: Session, municipality: str, number: int) -> SettingsVersion | None:
    """Settings version ``number`` of the municipality, if there is one."""
    return session.scalar(_of(municipality).where(SettingsVersion.number == number))


def body_of(version: SettingsVersion) -> dict[str, Any]:
    """What ``version`` overrides and its clauses, as it was saved (``logo_size`` left out)."""
    body = json.loads(version.body)
    body.pop("logo_size", None)
    return body


def digest(body: str, logo: bytes | None) -> str:
    """The hash of a version's content: its canonical body, then its logo's bytes."""
    hashed = hashlib.sha256(body.encode("utf-8"))
    hashed.update(b"\0" + (logo or b""))
    return hashed.hexdigest()


def _of(municipality: str):
    return select(SettingsVersion).where(SettingsVersion.municipality == municipality)


def _add(
    session: Session,
    user: Author,
    body: str,
    logo: bytes | None,
    logo_type: str | None,
    effective_from: dt.date,
) -> SettingsVersion:
    made = SettingsVersion(
        municipality=user.municipality,
        number=_next_number(session, user.municipality),
        effective_from=effective_from,
        sha256=digest(body, logo),
        body=body,
        logo=logo,
        logo_type=logo_type,
        created_by=user.id or None,
    )
    return keep(session, made)


def _next_number(session: Session, municipality: str) -> int:
    return next_number(session, SettingsVersion, SettingsVersion.municipality == municipality)
