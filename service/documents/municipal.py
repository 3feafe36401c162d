"""The one reader of a municipality's settings: ``municipalities.toml`` with the stored settings version in
force on a day laid over it. Every document, pack and agreement number reads the municipality through
:func:`settings_on`.

:class:`MunicipalSettings` is what a document is made with: the merged :class:`Municipality`, the clauses,
the logo and the version's number and id (``None``: the file alone). It travels into a pack job's input as
plain JSON (:meth:`MunicipalSettings.as_input`), so a worker anywhere renders with exactly the settings the
order was taken with, and the order's hash changes when they do.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas import municipalities
from schemas.municipal_settings import OVERRIDABLE, Logo
from schemas.municipalities import Municipality
from service.documents.versioning import in_force
from service.store.models import SettingsVersion

#: The municipality whose settings fill the samples of uploaded templates and the authors' reference.
SAMPLE_MUNICIPALITY = "bauska"
#: Overridable fields that ``Municipality`` keeps as its own attributes rather than in ``details``.
_OWN = ("place", "place_locative", "agreement_series")


@dataclass(frozen=True)
class MunicipalSettings:
    """A municipality as a document on a given day sees it: the file's entry of ``code`` with
    ``overrides`` laid over it, the clauses and the logo of settings version ``version``."""

    code: str
    overrides: dict[str, Any] = field(default_factory=dict)
    clauses: dict[str, str] = field(default_factory=dict)
    logo: Logo | None = None
    version: int | None = None
    version_id: str | None = None

    @cached_property
    def municipality(self) -> Municipality:
        """The merged municipality: what the request's submitter and the agreement series come from."""
        known = municipalities.default()[self.code]
        own = {key: self.overrides[key] for key in _OWN if key in self.overrides}
        details = {**known.details, **{k: v for k, v in self.overrides.items() if k not in _OWN}}
        return dataclasses.replace(known, details=details, **own)

    def context(self) -> dict[str, Any]:
        """What templates see as ``municipality`` (the logo is added by the renderer, which places it)."""
        details = self.municipality.details
        return {
            "code": self.code,
            **{key: details.get(key) for key in ("name", "name_genitive", "registration_number", "address")},
            **{key: details.get(key) for key in ("bank", "iban", "head", "accountant")},
            "place": self.municipality.place,
            "place_locative": self.municipality.place_locative,
            "clauses": dict(self.clauses),
            "settings_version": self.version or 0,
        }

    def as_input(self) -> dict[str, Any]:
        """The settings as JSON a job's input carries (and its hash covers)."""
        logo = self.logo
        return {
            "code": self.code,
            "version": self.version,
            "version_id": self.version_id,
            "overrides": self.overrides,
            "clauses": self.clauses,
            "logo": None
            if logo is None
            else {
                "data": base64.b64encode(logo.data).decode("ascii"),
                "media_type": logo.media_type,
                "width": logo.width,
                "height": logo.height,
            },
        }

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> MunicipalSettings:
        """The settings :meth:`as_input` wrote."""
        logo = data.get("logo")
        return cls(
            data["code"],
            dict(data["overrides"]),
            dict(data["clauses"]),
            Logo(base64.b64decode(logo["data"]), logo["media_type"], logo["width"], logo["height"])
            if logo
            else None,
            data.get("version"),
            data.get("version_id"),
        )


def standard(code: str) -> MunicipalSettings | None:
    """The settings of ``municipalities.toml`` alone; ``None`` for a code the file does not list."""
    return MunicipalSettings(code) if code in municipalities.default() else None


def settings_on(session: Session, code: str, day: dt.date) -> MunicipalSettings | None:
    """The settings in force for ``code`` on ``day``: the file with the latest settings version effective
    by then laid over it (the highest number among equals); ``None`` for a code the file does not list."""
    statement = select(SettingsVersion).where(SettingsVersion.municipality == code)
    return of_version(code, session.scalar(in_force(statement, SettingsVersion, day)))


def settings_of(session: Session, code: str, version_id: str | None) -> MunicipalSettings | None:
    """The settings a document was made with: its version's, or the file's alone for ``None``."""
    return of_version(code, session.get(SettingsVersion, version_id) if version_id else None)


def of_version(code: str, version: SettingsVersion | None) -> MunicipalSettings | None:
    """The file's settings of ``code`` with ``version`` (of the same municipality) laid over them."""
    if code not in municipalities.default():
        return None
    if version is None:
        return MunicipalSettings(code)
    body = json.loads(version.body)
    logo = None
    if version.logo is not None:
        width, height = body.get("logo_size", (0, 0))
        logo = Logo(version.logo, version.logo_type or "image/png", width, height)
    overrides = {key: body[key] for key in OVERRIDABLE if key in body}
    return MunicipalSettings(code, overrides, body.get("clauses", {}), logo, version.number, version.id)
