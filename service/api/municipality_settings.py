"""``/api/v1/municipality-settings``: a municipality's own settings over ``municipalities.toml`` — save a
new version, list them with the settings in force today, show one, download its logo, roll back to one.

Administrators only (``template:manage``: whoever keeps the municipality's templates keeps what they
print), each in their own municipality: another municipality's versions answer 404. Saves and rollbacks
are audited with the version's number and hash, reads of a version and of its logo too (as the templates
API audits downloads). Documents read the settings in force on their date through
:func:`service.documents.municipal.settings_on`.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import request, send_file, url_for
from sqlalchemy.orm import Session

from schemas.errors import problem
from schemas.municipal_settings import LOGO_TYPES, SettingsSchema
from service import audit
from service.api.blueprint import Blueprint
from service.api.body import json_body
from service.api.problems import RequestProblem
from service.api.schemas import BINARY, SettingsOverviewSchema, SettingsVersionSchema, TemplateRollbackSchema
from service.auth import NotVisible, Principal, authorize
from service.documents import municipal, settings_store
from service.documents.municipal import MunicipalSettings
from service.store import database
from service.store.models import SettingsVersion

PERMISSION = "template:manage"
PATH = "/municipality-settings"

blp = Blueprint(
    "municipality_settings",
    __name__,
    url_prefix="/api/v1",
    description="A municipality's own settings: versions saved, listed, in force by date, rolled back",
)


@blp.route(PATH, methods=["GET"])
@blp.response(200, SettingsOverviewSchema)
@blp.alt_response(409, "CONFLICT")
def list_settings():
    """The municipality's settings versions, oldest first, and the settings in force today."""
    user = authorize(PERMISSION)
    with database().session() as session:
        current = _in_force_today(session, user)
        found = settings_store.versions(session, user.municipality)
        return {
            "municipality": user.municipality,
            "in_force": current.version,
            "settings": _merged(current),
            "versions": [_version_body(version, current) for version in found],
        }


@blp.route(PATH, methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": SettingsSchema}}})
@blp.response(201, SettingsVersionSchema)
@blp.alt_response(409, "CONFLICT")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
def save_settings():
    """Keep the settings sent as the municipality's next version, in force from ``effective_from``."""
    user = authorize(PERMISSION)
    values = SettingsSchema().load(json_body())
    with database().session() as session:
        _in_force_today(session, user)  # a municipality the file does not list has no settings to override
        try:
            made = settings_store.save(session, user, values)
        except settings_store.VersionTaken:
            raise _taken() from None
        audit.record(session, user, "saved", "settings", str(made.number), sha256=made.sha256)
        body = _version_body(made, _in_force_today(session, user))
    return body, 201, {"Location": body["url"]}


@blp.route(f"{PATH}/<int:number>", methods=["GET"])
@blp.response(200, SettingsVersionSchema)
@blp.alt_response(404, "NOT_FOUND")
def show_version(number):
    """One settings version: what it overrides."""
    user = authorize(PERMISSION)
    with database().session() as session:
        found = _visible(session, user, number)
        audit.record(session, user, "read", "settings", str(number), sha256=found.sha256)
        return _version_body(found, _in_force_today(session, user))


@blp.route(f"{PATH}/<int:number>/logo", methods=["GET"])
@blp.doc(
    responses={
        200: {"description": "The logo", "content": {m: {"schema": BINARY} for m in LOGO_TYPES.values()}}
    }
)
@blp.alt_response(404, "NOT_FOUND")
def download_logo(number):
    """The logo of one settings version (404 when it has none)."""
    user = authorize(PERMISSION)
    with database().session() as session:
        found = _visible(session, user, number)
        if found.logo is None:
            raise NotVisible()
        audit.record(session, user, "downloaded", "settings", f"{number}/logo", sha256=found.sha256)
        data, media_type = found.logo, found.logo_type or "image/png"
    name = f"logo v{number}.{media_type.split('/')[1]}"
    return send_file(io.BytesIO(data), mimetype=media_type, download_name=name)


@blp.route(f"{PATH}/<int:number>/rollback", methods=["POST"])
@blp.doc(requestBody={"required": False, "content": {"application/json": {"schema": TemplateRollbackSchema}}})
@blp.response(201, SettingsVersionSchema)
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT")
def rollback_version(number):
    """A new version with this version's content, in force from today or from ``effective_from``."""
    user = authorize(PERMISSION)
    values = TemplateRollbackSchema().load(json_body()) if request.content_length else {}
    day = values.get("effective_from") or dt.date.today()
    with database().session() as session:
        try:
            made = settings_store.rollback(session, user, number, day)
        except settings_store.VersionTaken:
            raise _taken() from None
        if made is None:
            raise NotVisible()
        rolled = {"sha256": made.sha256, "detail": {"from": number}}
        audit.record(session, user, "rolled_back", "settings", str(made.number), **rolled)
        body = _version_body(made, _in_force_today(session, user))
    return body, 201, {"Location": body["url"]}


def _visible(session: Session, user: Principal, number: int) -> SettingsVersion:
    """Version ``number`` of the user's municipality, or 404."""
    found = settings_store.version(session, user.municipality, number)
    if found is None:
        raise NotVisible()
    return found


def _in_force_today(session: Session, user: Principal) -> MunicipalSettings:
    """The settings in force today; 409 for a municipality ``municipalities.toml`` does not list."""
    current = municipal.settings_on(session, user.municipality, dt.date.today())
    if current is None:
        raise RequestProblem(409, problem("municipality.unknown", code=user.municipality))
    return current


def _taken() -> RequestProblem:
    return RequestProblem(409, problem("settings.version_taken"))


def _merged(current: MunicipalSettings) -> dict:
    """What documents dated today print of the municipality."""
    return {
        **current.context(),
        "agreement_series": current.municipality.agreement_series,
        "has_logo": current.logo is not None,
    }


def _version_body(version: SettingsVersion, current: MunicipalSettings) -> dict:
    """What the API says about a version; ``current`` is what is in force today."""
    url = url_for("municipality_settings.show_version", number=version.number)
    return {
        "number": version.number,
        "effective_from": version.effective_from,
        "in_force": current.version_id == version.id,
        "sha256": version.sha256,
        "overrides": settings_store.body_of(version),
        "logo": url_for("municipality_settings.download_logo", number=version.number)
        if version.logo
        else None,
        "rolled_back_from": version.rolled_back_from,
        "created_at": version.created_at,
        "created_by": version.created_by,
        "url": url,
    }
