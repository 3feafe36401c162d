"""Stored service agreements: made from an approved plan version, numbered from the municipality's series,
amended as versions under the same number, ended early; each version's document.

``POST /api/v1/plans/<id>/versions/<n>/agreements`` takes the agreement's own parts (as
``samples/agreement-request.json``); the plan is the stored version's.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import current_app, send_file, url_for
from marshmallow import RAISE

from schemas.agreement import AgreementSchema as AgreementDataSchema
from schemas.errors import problem
from service import audit, submissions
from service.api.blueprint import Blueprint
from service.api.body import json_body
from service.api.case_schemas import (
    ActArgsSchema,
    AgreementRequestSchema,
    CloseSchema,
    DueArgsSchema,
    DueWorkSchema,
    StoredAgreementSchema,
)
from service.api.documents import DOCX, PDF, stored_document
from service.api.plans import open_client, version_of
from service.api.problems import RequestProblem
from service.api.revisions import check, tagged
from service.api.schemas import RenderArgsSchema
from service.auth import authorize, scope
from service.cases import acts, agreements, due
from service.cases.errors import CaseConflict
from service.documents import KINDS
from service.documents.inputs import inputs_of
from service.files import safe_file_name
from service.forms.docx_form import make_docx_form
from service.forms.pdf_form import make_pdf_form
from service.store import database, sealer
from service.store.case_models import Agreement, Client, Plan, PlanVersion

blp = Blueprint("agreements", __name__, url_prefix="/api/v1", description="Stored service agreements")
KIND = KINDS[agreements.KIND]
#: The agreement's own parts, as ``samples/agreement-request.json``: read as sent, validated with the plan.
REQUEST = {"required": True, "content": {"application/json": {"schema": AgreementRequestSchema}}}


def agreement_body(agreement: Agreement, session) -> dict:
    numbers = {
        version.plan_version_id: session.get(PlanVersion, version.plan_version_id).number
        for version in agreement.versions
    }
    return {
        "id": agreement.id,
        "url": url_for("agreements.show_agreement", agreement_id=agreement.id),
        **{
            key: getattr(agreement, key)
            for key in ("number", "municipality", "client_id", "plan_id", "provider", "state", "start", "end")
        },
        "ended_on": agreement.ended_on,
        "revision": agreement.revision,
        "versions": [
            {
                "number": version.number,
                "start": version.start,
                "end": version.end,
                "total": version.total,
                "plan_version": numbers[version.plan_version_id],
                "created_at": version.created_at,
                "created_by": version.created_by,
            }
            for version in agreement.versions
        ],
        "agreement": agreements.body(agreement.versions[-1], sealer()),
    }


def _refused(exc: CaseConflict) -> RequestProblem:
    return RequestProblem(409, exc.reason, path=exc.path)


def _object(raw) -> dict:
    if not isinstance(raw, dict):
        raise RequestProblem(422, problem("type.object"))
    return raw


@blp.route("/plans/<plan_id>/versions/<int:number>/agreements", methods=["POST"])
@blp.doc(requestBody=REQUEST)
@blp.response(201, StoredAgreementSchema)
def make_agreement(plan_id, number):
    """An agreement from the approved plan version, numbered when stored (422 with every problem)."""
    user = authorize("case:write")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        open_client(session, plan.client_id)
        version = version_of(plan, number)
        raw = _object(json_body())
        try:
            agreement = agreements.make(session, sealer(), user, version, raw)
        except CaseConflict as exc:
            raise _refused(exc) from None
        audit.record(session, user, "created", "agreement", agreement.id)
        body = agreement_body(agreement, session)
    return tagged(body, body["revision"], 201, Location=body["url"])


@blp.route("/clients/<client_id>/agreements", methods=["GET"])
@blp.response(200, StoredAgreementSchema(many=True))
def list_agreements(client_id):
    """The client's agreements, newest first."""
    authorize("case:read")
    with database().session() as session:
        client = scope().get(session, Client, client_id)
        found = session.scalars(
            scope()
            .select(Agreement)
            .where(Agreement.client_id == client.id)
            .order_by(Agreement.created_at.desc())
        )
        return [agreement_body(agreement, session) for agreement in found]


@blp.route("/agreements/<agreement_id>", methods=["GET"])
@blp.response(200, StoredAgreementSchema)
def show_agreement(agreement_id):
    """One agreement with its versions and the latest as stored (audited as a read)."""
    user = authorize("case:read")
    with database().session() as session:
        agreement = scope().get(session, Agreement, agreement_id)
        audit.record(session, user, "read", "agreement", agreement.id)
        return tagged(agreement_body(agreement, session), agreement.revision)


@blp.route("/agreements/<agreement_id>/amend", methods=["POST"])
@blp.doc(requestBody=REQUEST)
@blp.response(200, StoredAgreementSchema)
def amend_agreement(agreement_id):
    """A new version under the same number, from the plan's approved version; needs If-Match."""
    user = authorize("case:write")
    with database().session() as session:
        agreement = scope().get(session, Agreement, agreement_id)
        open_client(session, agreement.client_id)
        check(agreement.revision)
        plan = session.get(Plan, agreement.plan_id)
        raw = _object(json_body())
        try:
            agreements.amend(session, sealer(), user, agreement, version_of(plan, plan.latest_version), raw)
        except CaseConflict as exc:
            raise _refused(exc) from None
        audit.record(session, user, "changed", "agreement", agreement.id)
        return tagged(agreement_body(agreement, session), agreement.revision)


@blp.route("/agreements/<agreement_id>/end", methods=["POST"])
@blp.arguments(CloseSchema)
@blp.response(200, StoredAgreementSchema)
def end_agreement(values, agreement_id):
    """End the agreement early on a date within its term, with the reason; needs If-Match."""
    user = authorize("case:write")
    with database().session() as session:
        agreement = scope().get(session, Agreement, agreement_id)
        check(agreement.revision)
        try:
            agreements.end(agreement, sealer(), values["date"], values["reason"])
        except CaseConflict as exc:
            raise _refused(exc) from None
        audit.record(session, user, "closed", "agreement", agreement.id)
        return tagged(agreement_body(agreement, session), agreement.revision)


@blp.route("/agreements/<agreement_id>/versions/<int:number>/document", methods=["GET"])
@blp.arguments(RenderArgsSchema, location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, {"type": "string", "format": "binary"}, content_type=DOCX)
def agreement_document(query, agreement_id, number):
    """The version's document: DOCX, or PDF with ``format=pdf``."""
    user = authorize("case:read")
    with database().session() as session:
        agreement = scope().get(session, Agreement, agreement_id)
        found = [version for version in agreement.versions if version.number == number]
        if not found:
            raise RequestProblem(404, problem("agreement.no_such_version", number=number))
        version = found[0]
        values = AgreementDataSchema().load(agreements.body(version, sealer()))
        inputs = inputs_of(session, version)
        audit.record(session, user, "downloaded", "agreement_version", version.id)
    return stored_document(KIND, values, inputs, query, f"v{number}")


@blp.route("/agreements/<agreement_id>/act", methods=["GET"])
@blp.arguments(ActArgsSchema, location="query", unknown=RAISE)
@blp.doc(
    responses={
        200: {
            "description": "The fillable form",
            "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in (PDF, DOCX)},
        }
    }
)
def act_form(query, agreement_id):
    """The month's fillable delivery act of the stored agreement (its latest version), prefilled; the
    provider fills it and it comes back through ``POST /api/v1/forms``."""
    user = authorize("render:delivery-act")
    month, output = query["month"], query["format"]
    with database().session() as session:
        agreement = scope().get(session, Agreement, agreement_id)
        if outside := acts.month_problem(agreement, month):
            raise RequestProblem(422, outside, path=("month",))
        raw, loaded = acts.blank(agreement, sealer())
        act = submissions.blank_act(raw, loaded, month, query.get("number", ""))
        audit.record(session, user, "rendered", "form", agreement.id, outcome=output)
        name = f"Akts {safe_file_name(agreement.number)} {month.start:%Y-%m}.{output}"
    document = make_pdf_form(act) if output == "pdf" else make_docx_form(act)
    mimetype = PDF if output == "pdf" else DOCX
    return send_file(io.BytesIO(document), mimetype=mimetype, as_attachment=True, download_name=name)


@blp.route("/due-work", methods=["GET"])
@blp.arguments(DueArgsSchema, location="query", unknown=RAISE)
@blp.response(200, DueWorkSchema)
def due_work(args):
    """What needs attention: plans whose review is near or past, agreements ending this month, and
    agreements without an accepted act for the last finished month."""
    authorize("case:read")
    today = args.get("today") or dt.date.today()
    days = args.get("days", current_app.config["DUE_REVIEW_DAYS"])
    with database().session() as session:
        return due.listed(session, scope().select(Plan), scope().select(Agreement), today, days)
