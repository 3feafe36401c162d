"""The municipality's own settings, for its administrators: what is in force today, the history of versions,
a form to save the next version, a rollback to an earlier one and each version's logo.

The same service functions as ``/api/v1/municipality-settings`` (:mod:`service.documents.settings_store`,
:func:`service.documents.municipal.settings_on`), checked by the same
:class:`~schemas.municipal_settings.SettingsSchema`, audited the same way. The form starts from what the
version in force today overrides; an empty field means "as in ``municipalities.toml``" (its value is the
field's hint). A logo is carried over from the version in force unless a new one is chosen or removal is
ticked. The page's routes for templates are in :mod:`service.web.templates_admin` (the same blueprint).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any

from flask import Blueprint, redirect, request, send_file, url_for
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from schemas import human_input
from schemas.errors import flatten, problem
from schemas.municipal_settings import CLAUSES, LOGO_MAX_BYTES, OVERRIDABLE, SettingsSchema
from service import audit
from service.auth import NotVisible, Principal, authorize, scope
from service.documents import municipal, settings_store
from service.documents.labels import STANDARD_LABELS, load_labels
from service.documents.municipal import MunicipalSettings
from service.store import database
from service.store.models import SettingsVersion, User
from service.web.base import _, page, page_problems, user

bp = Blueprint("web_settings", __name__)

PERMISSION = "template:manage"
#: The head's fields on the form (``head.name`` …), as ``OfficialSchema`` has them.
HEAD = ("name", "position", "basis", "phone", "email")
#: The plain text fields of the form, in the order shown (the head and the clauses follow).
TEXT_FIELDS = tuple(key for key in OVERRIDABLE if key != "head")


def authors(session: Session, versions: list) -> dict[int, str]:
    """The usernames of those who made ``versions`` (users of the same municipality)."""
    ids = {version.created_by for version in versions if version.created_by}
    if not ids:
        return {}
    return {
        found.id: found.username for found in session.scalars(scope().select(User).where(User.id.in_(ids)))
    }


def read_day(text: str, path: tuple, errors: list) -> dt.date | None:
    """The day typed (``15.09.2020.`` or ISO) — today when nothing was typed — or ``None`` with the
    problem added to ``errors`` at ``path``."""
    if not text.strip():
        return dt.date.today()
    try:
        return human_input.read_date(text)
    except human_input.InvalidInput as error:
        errors.append((path, problem(error.code)))
        return None


def notice_of(code: str) -> str:
    """The notice a redirect after a change asks for, in the page's language."""
    if code == "saved":
        return _("The new settings version is saved.")
    if code == "rolled_back":
        return _("The earlier version is in force again as a new version.")
    if code == "accepted":
        return _("The template is kept as the next version.")
    return ""


def _in_force_today(session: Session, who: Principal) -> MunicipalSettings:
    current = municipal.settings_on(session, who.municipality, dt.date.today())
    if current is None:  # a municipality municipalities.toml does not list has nothing to override
        raise NotVisible()
    return current


def _form_values(version: SettingsVersion | None) -> dict[str, str]:
    """The form's fields filled with what ``version`` overrides (empty: the file's value stands)."""
    body = settings_store.body_of(version) if version is not None else {}
    values = {key: str(body.get(key) or "") for key in TEXT_FIELDS}
    values |= {f"head.{key}": str((body.get("head") or {}).get(key) or "") for key in HEAD}
    values |= {f"clauses.{key}": str((body.get("clauses") or {}).get(key) or "") for key in CLAUSES}
    values["effective_from"] = ""
    return values


def _standard_values(code: str) -> dict[str, str]:
    """What ``municipalities.toml`` says of each field, shown as the field's hint."""
    standard = municipal.standard(code)
    if standard is None:
        return {}
    merged = {**standard.context(), "agreement_series": standard.municipality.agreement_series}
    values = {key: str(merged.get(key) or "") for key in TEXT_FIELDS}
    values |= {f"head.{key}": str((merged.get("head") or {}).get(key) or "") for key in HEAD}
    return values


def _settings_page(session: Session, status: int = 200, values=None, errors=(), notice: str = ""):
    who = user()
    current = _in_force_today(session, who)
    found = settings_store.versions(session, who.municipality)
    in_force = next((version for version in found if version.id == current.version_id), None)
    merged = {**current.context(), "agreement_series": current.municipality.agreement_series}
    return page(
        "settings/settings.html",
        status,
        problems=page_problems(list(errors)),
        current=merged,
        current_version=current.version,
        has_logo=current.logo is not None,
        versions=list(reversed(found)),
        in_force_id=current.version_id,
        in_force_has_logo=bool(in_force and in_force.logo),
        authors=authors(session, found),
        values=values if values is not None else _form_values(in_force),
        standard=_standard_values(who.municipality),
        text_fields=TEXT_FIELDS,
        head_fields=HEAD,
        clauses=CLAUSES,
        clause_labels=load_labels(STANDARD_LABELS).get("clause", {}),
        notice=notice,
        logo_max_kib=LOGO_MAX_BYTES // 1024,
    )


@bp.route("/administresana/iestatijumi", methods=["GET"])
def settings():
    authorize(PERMISSION)
    with database().session() as session:
        return _settings_page(session, notice=notice_of(request.args.get("pazinojums", "")))


def read_settings_form(form, files, carried_logo: bytes | None) -> tuple[dict[str, str], dict, list]:
    """What the form typed (``values``, kept for the page), what the schema loaded of it and the problems
    at their paths; ``carried_logo`` is the logo kept when no new one is chosen."""
    names = (
        [*TEXT_FIELDS, "effective_from"]
        + [f"head.{key}" for key in HEAD]
        + [f"clauses.{key}" for key in CLAUSES]
    )
    values = {name: form.get(name, "") for name in names}
    errors: list = []
    raw: dict[str, Any] = {key: values[key].strip() for key in TEXT_FIELDS if values[key].strip()}
    head = {key: values[f"head.{key}"].strip() for key in HEAD if values[f"head.{key}"].strip()}
    if head:
        raw["head"] = head
    clauses = {key: values[f"clauses.{key}"] for key in CLAUSES if values[f"clauses.{key}"].strip()}
    if clauses:
        raw["clauses"] = clauses
    day = read_day(values["effective_from"], ("effective_from",), errors)
    raw["effective_from"] = (day or dt.date.today()).isoformat()
    chosen = files.get("logo")
    logo = chosen.stream.read(LOGO_MAX_BYTES + 1) if chosen is not None and chosen.filename else None
    if logo is None and not form.get("logo_remove"):
        logo = carried_logo
    if logo:
        raw["logo"] = base64.b64encode(logo).decode("ascii")
    loaded: dict = {}
    try:
        loaded = SettingsSchema().load(raw)
    except ValidationError as exc:
        errors += flatten(exc.messages)
    return values, loaded, errors


@bp.route("/administresana/iestatijumi", methods=["POST"])
def save_settings():
    who = authorize(PERMISSION)
    with database().session() as session:
        current = _in_force_today(session, who)
        carried = current.logo.data if current.logo is not None else None
        values, loaded, errors = read_settings_form(request.form, request.files, carried)
        if errors:
            return _settings_page(session, 422, values, errors)
        try:
            made = settings_store.save(session, who, loaded)
        except settings_store.VersionTaken:
            return _settings_page(session, 409, values, [((), problem("settings.version_taken"))])
        audit.record(session, who, "saved", "settings", str(made.number), sha256=made.sha256)
    return redirect(url_for("web_settings.settings", pazinojums="saved"), 303)


@bp.route("/administresana/iestatijumi/<int:number>/atjaunot", methods=["POST"])
def rollback_settings(number: int):
    """A new version with version ``number``'s content, in force from today."""
    who = authorize(PERMISSION)
    with database().session() as session:
        try:
            made = settings_store.rollback(session, who, number, dt.date.today())
        except settings_store.VersionTaken:
            return _settings_page(session, 409, None, [((), problem("settings.version_taken"))])
        if made is None:
            raise NotVisible()
        rolled = {"sha256": made.sha256, "detail": {"from": number}}
        audit.record(session, who, "rolled_back", "settings", str(made.number), **rolled)
    return redirect(url_for("web_settings.settings", pazinojums="rolled_back"), 303)


@bp.route("/administresana/iestatijumi/<int:number>/logotips", methods=["GET"])
def settings_logo(number: int):
    """The logo of one settings version (404 when it has none); ``?lejupielade=1`` as a download."""
    who = authorize(PERMISSION)
    with database().session() as session:
        found = settings_store.version(session, who.municipality, number)
        if found is None or found.logo is None:
            raise NotVisible()
        audit.record(session, who, "downloaded", "settings", f"{number}/logo", sha256=found.sha256)
        data, media_type = found.logo, found.logo_type or "image/png"
    name = f"logo v{number}.{media_type.split('/')[1]}"
    attached = bool(request.args.get("lejupielade"))
    return send_file(io.BytesIO(data), mimetype=media_type, as_attachment=attached, download_name=name)
