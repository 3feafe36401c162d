"""``/api/v1/municipality-templates/<kind>``: a municipality's own templates of a kind — upload a new
version, list them, download one, preview the kind's sample with it, roll back to an earlier one.

Administrators only (``template:manage``), each in their own municipality: another municipality's
versions answer 404. Uploads, rollbacks, downloads and previews are audited with the version's number
and hash. The list, the upload and the trial (``<kind>/preview``: checked and filled with the sample,
nothing kept) are made per kind from the registry (as the render routes are), so only kinds that may have
their own templates have them. Documents are made with the version in force on their date
(:mod:`service.documents.inputs`).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable

from flask import current_app, request, send_file, url_for
from marshmallow import RAISE
from sqlalchemy.orm import Session

from schemas import human_input
from schemas.errors import problem
from service import audit
from service.api.blueprint import Blueprint
from service.api.body import json_body, uploaded_file
from service.api.documents import DOCX, PDF, to_pdf
from service.api.forms import UPLOAD_STATUS
from service.api.problems import RequestProblem, language, problem_response
from service.api.schemas import (
    BINARY,
    PreviewArgsSchema,
    TemplateRollbackSchema,
    TemplateUploadSchema,
    TemplateVersionSchema,
    file_upload,
    problem_doc,
)
from service.auth import NotVisible, Principal, authorize
from service.config import upload_limits
from service.documents import KINDS, DocumentKind, template_store, templates
from service.documents.municipal import settings_on
from service.documents.page_image import first_page_png
from service.documents.uploaded import Found, check_template
from service.i18n import translate
from service.store import database
from service.store.models import TemplateVersion

PNG = "image/png"
#: HTTP status of a template refused for one reason that is not about its content; else 422.
REFUSAL_STATUS = {**UPLOAD_STATUS, "template.not_docx": 415}


def blueprint(kinds: Iterable[DocumentKind]) -> Blueprint:
    """The routes of the municipalities' own templates of ``kinds`` (those that may have them)."""
    blp = Blueprint(
        "municipality_templates",
        __name__,
        url_prefix="/api/v1",
        description="A municipality's own templates: versions uploaded, listed, previewed, rolled back",
    )
    for kind in kinds:
        if kind.own_templates:
            _add_kind_routes(blp, kind)
    _add_version_routes(blp)
    return blp


def _add_kind_routes(blp: Blueprint, kind: DocumentKind) -> None:
    endpoint, path = kind.name.replace("-", "_"), f"/municipality-templates/{kind.name}"
    upload_doc = blp.doc(
        requestBody=file_upload(f"{kind.title}: the DOCX template; a form field effective_from may follow"),
        responses={
            201: {
                "description": "Kept as the next version, with the repairs made",
                "content": {"application/json": {"schema": TemplateUploadSchema}},
            },
            400: problem_doc("No file, or an empty one"),
            413: problem_doc("The file is too large"),
            409: problem_doc("Another version was saved at the same moment: nothing was kept"),
            415: problem_doc("Not a DOCX"),
            422: problem_doc("Problems in the template, each with its place: nothing was kept"),
        },
    )
    blp.route(path, methods=["POST"], endpoint=f"upload_{endpoint}")(upload_doc(_upload_view(kind)))
    listing = blp.response(200, TemplateVersionSchema(many=True))(_list_view(kind))
    blp.route(path, methods=["GET"], endpoint=f"list_{endpoint}")(listing)
    trial_doc = blp.doc(
        requestBody=file_upload(f"{kind.title}: the DOCX template to try; nothing is kept"),
        responses={
            200: {"description": "The sample", "content": {m: {"schema": BINARY} for m in (PDF, PNG)}},
            400: problem_doc("No file, or an empty one"),
            413: problem_doc("The file is too large"),
            415: problem_doc("Not a DOCX"),
            422: problem_doc("Problems in the template, each with its place"),
        },
    )
    trial = blp.arguments(PreviewArgsSchema, location="query", unknown=RAISE)(_trial_view(kind))
    blp.route(f"{path}/preview", methods=["POST"], endpoint=f"try_{endpoint}")(trial_doc(trial))


def _upload_view(kind: DocumentKind):
    def upload():
        user = authorize("template:manage")
        data = uploaded_file("upload.missing")
        effective_from = _form_date("effective_from")
        limits, folder = upload_limits(current_app.config), current_app.config["TEMPLATES_DIR"]
        with database().session() as session:
            try:
                made, check = template_store.upload(session, user, kind, data, effective_from, limits, folder)
            except template_store.VersionTaken:
                raise _taken() from None
            if made is None:
                refused = {"outcome": "invalid", "detail": {"problems": len(check.problems)}}
                audit.record(session, user, "uploaded", "template", kind.name, **refused)
                return _refusal(check.problems)
            audit.record(session, user, "uploaded", "template", _object_id(made), sha256=made.sha256)
            current = _in_force_today(session, user.municipality, kind.name)
            body = {"version": _version_body(made, current), "warnings": _warnings(check.warnings)}
        return TemplateUploadSchema().dump(body), 201, {"Location": body["version"]["url"]}

    upload.__doc__ = f"{kind.title}: keep an uploaded template as the municipality's next version."
    return upload


def _trial_view(kind: DocumentKind):
    def try_template(query):
        user = authorize("template:manage")
        data = uploaded_file("upload.missing")
        limits, folder = upload_limits(current_app.config), current_app.config["TEMPLATES_DIR"]
        check = check_template(data, kind, limits, folder)
        with database().session() as session:
            outcome = "valid" if check.accepted else "invalid"
            audit.record(session, user, "validated", "template", kind.name, outcome=outcome)
            if not check.accepted:
                return _refusal(check.problems)
            settings = settings_on(session, user.municipality, dt.date.today())
        document = template_store.sample_document(check.repaired, kind, templates(), settings)
        response = _preview(document, query.get("format", "pdf"), f"{kind.name} (izmēģinājums)")
        response.headers["X-Template-Warnings"] = str(len(check.warnings))
        return response

    try_template.__doc__ = (
        f"{kind.title}: check an uploaded template and fill the kind's sample with it, as PDF or as a PNG of "
        "page 1, before keeping it; nothing is kept. X-Template-Warnings counts the repairs an upload makes."
    )
    return try_template


def _preview(document: bytes, output: str, name: str):
    """A sample DOCX as the preview asked for: PDF, or a PNG of its first page."""
    pdf = to_pdf(document, archival=False)
    content, mimetype = (first_page_png(pdf), PNG) if output == "png" else (pdf, PDF)
    return send_file(io.BytesIO(content), mimetype=mimetype, download_name=f"{name}.{output}")


def _list_view(kind: DocumentKind):
    def list_versions():
        user = authorize("template:manage")
        with database().session() as session:
            found = template_store.versions(session, user.municipality, kind.name)
            current = _in_force_today(session, user.municipality, kind.name)
            return [_version_body(version, current) for version in found]

    list_versions.__doc__ = f"{kind.title}: the municipality's versions, oldest first, and which is in force."
    return list_versions


def _add_version_routes(blp: Blueprint) -> None:
    @blp.route("/municipality-templates/<kind>/<int:number>", methods=["GET"])
    @blp.doc(responses={200: {"description": "The DOCX", "content": {DOCX: {"schema": BINARY}}}})
    @blp.alt_response(404, "NOT_FOUND")
    def download_version(kind, number):
        """The DOCX of one version of the municipality's own template."""
        user = authorize("template:manage")
        with database().session() as session:
            found = _visible(session, user, kind, number)
            audit.record(session, user, "downloaded", "template", _object_id(found), sha256=found.sha256)
            content = found.content
        name = f"{kind} v{number}.docx"
        return send_file(io.BytesIO(content), mimetype=DOCX, as_attachment=True, download_name=name)

    @blp.route("/municipality-templates/<kind>/<int:number>/preview", methods=["GET"])
    @blp.arguments(PreviewArgsSchema, location="query", unknown=RAISE)
    @blp.doc(
        responses={200: {"description": "The sample", "content": {m: {"schema": BINARY} for m in (PDF, PNG)}}}
    )
    @blp.alt_response(404, "NOT_FOUND")
    def preview_version(query, kind, number):
        """The kind's sample rendered with this version, as PDF or as a PNG of page 1."""
        user = authorize("template:manage")
        with database().session() as session:
            found = _visible(session, user, kind, number)
            # The settings its documents will have: today's, or those of the day it comes into force.
            day = max(found.effective_from, dt.date.today())
            settings = settings_on(session, user.municipality, day)
            document = template_store.sample_document(found.content, _own_kind(kind), templates(), settings)
            output = query.get("format", "pdf")
            audit.record(session, user, "rendered", "template", _object_id(found), outcome=output)
        return _preview(document, output, f"{kind} v{number}")

    @blp.route("/municipality-templates/<kind>/<int:number>/rollback", methods=["POST"])
    @blp.doc(
        requestBody={
            "required": False,
            "content": {"application/json": {"schema": TemplateRollbackSchema}},
        }
    )
    @blp.response(201, TemplateVersionSchema)
    @blp.alt_response(404, "NOT_FOUND")
    @blp.alt_response(409, "CONFLICT")
    def rollback_version(kind, number):
        """A new version with this version's content, in force from today or from ``effective_from``."""
        user = authorize("template:manage")
        values = TemplateRollbackSchema().load(json_body()) if request.content_length else {}
        day = values.get("effective_from") or dt.date.today()
        with database().session() as session:
            try:
                made = template_store.rollback(session, user, _own_kind(kind), number, day)
            except template_store.VersionTaken:
                raise _taken() from None
            if made is None:
                raise NotVisible()
            rolled = {"sha256": made.sha256, "detail": {"from": number}}
            audit.record(session, user, "rolled_back", "template", _object_id(made), **rolled)
            body = _version_body(made, _in_force_today(session, user.municipality, kind))
        return body, 201, {"Location": body["url"]}


def _own_kind(name: str) -> DocumentKind:
    """The kind named, if it may have own templates; 404 otherwise."""
    if name not in KINDS or not KINDS[name].own_templates:
        raise NotVisible()
    return KINDS[name]


def _visible(session: Session, user: Principal, kind: str, number: int) -> TemplateVersion:
    """Version ``number`` of the user's municipality's ``kind``, or 404."""
    found = template_store.version(session, user.municipality, _own_kind(kind).name, number)
    if found is None:
        raise NotVisible()
    return found


def _in_force_today(session: Session, municipality: str, kind: str) -> TemplateVersion | None:
    return template_store.in_force(session, municipality, kind, dt.date.today())


def _taken() -> RequestProblem:
    return RequestProblem(409, problem("template.version_taken"))


def _form_date(name: str) -> dt.date:
    """A date typed in the form field ``name`` (``15.09.2020.`` or ISO); today when it is not sent."""
    text = request.form.get(name, "").strip()
    if not text:
        return dt.date.today()
    try:
        return human_input.read_date(text)
    except human_input.InvalidInput as error:
        raise RequestProblem(422, problem(error.code), path=(name,)) from None


def _refusal(problems: list[Found]):
    status = REFUSAL_STATUS.get(problems[0].problem.code, 422) if len(problems) == 1 else 422
    places = [found.place.as_dict() if found.place else None for found in problems]
    return problem_response(status, errors=[((), found.problem) for found in problems], places=places)


def _warnings(warnings: list[Found]) -> list[dict]:
    lang = language()
    listed = []
    for found in warnings:
        code, message = translate(found.problem, lang)
        listed.append({"code": code, "message": message, **(found.place.as_dict() if found.place else {})})
    return listed


def _version_body(version: TemplateVersion, current: TemplateVersion | None) -> dict:
    """What the API says about a version; ``current`` is the one in force today."""
    return {
        "kind": version.kind,
        "number": version.number,
        "effective_from": version.effective_from,
        "in_force": current is not None and current.id == version.id,
        "sha256": version.sha256,
        "size": version.size,
        "warnings": version.warnings,
        "rolled_back_from": version.rolled_back_from,
        "created_at": version.created_at,
        "created_by": version.created_by,
        "url": url_for("municipality_templates.download_version", kind=version.kind, number=version.number),
    }


def _object_id(version: TemplateVersion) -> str:
    return f"{version.kind}/{version.number}"
