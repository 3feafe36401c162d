"""Support plans of a client: ``/api/v1/clients/<id>/plans`` and ``/api/v1/plans/<id>`` — the draft (kept
with its problems), approval into numbered versions, each version's document, and what changed.

Saving and approving need ``If-Match`` with the draft's ETag: two people editing one draft never
overwrite each other — the second save answers 412 with where the two differ.
"""

from __future__ import annotations

import io

from flask import current_app, request, send_file, url_for
from marshmallow import RAISE

from schemas.errors import problem
from schemas.plan import SupportPlanSchema
from service import audit
from service.api.blueprint import Blueprint
from service.api.body import json_body, uploaded_file
from service.api.case_schemas import (
    ApproveSchema,
    ChangesArgsSchema,
    ChangesSchema,
    DraftSchema,
    PlanSchema,
    VersionSchema,
)
from service.api.documents import DOCX, stored_document
from service.api.forms import UPLOAD_STATUS
from service.api.problems import RequestProblem, language
from service.api.revisions import check, tagged
from service.api.schemas import RenderArgsSchema, file_upload
from service.auth import authorize, scope
from service.cases import changes, plans, signed
from service.cases.errors import CaseConflict
from service.config import upload_limits
from service.documents import templates
from service.documents.inputs import inputs_of
from service.forms.uploads import UploadRejected
from service.i18n import translate
from service.store import blobs, database, sealer
from service.store.case_models import Client, Plan, PlanVersion, SignedCopy

blp = Blueprint("plans", __name__, url_prefix="/api/v1", description="Support plans and their versions")


def plan_body(plan: Plan) -> dict:
    draft = None
    if plan.draft is not None:
        draft = {
            "revision": plan.draft_revision,
            "base_version": plan.draft_base,
            "problems": plan.draft_problems,
            "updated_at": plan.draft_updated_at,
        }
    return {
        "id": plan.id,
        "url": url_for("plans.show_plan", plan_id=plan.id),
        "client_id": plan.client_id,
        "municipality": plan.municipality,
        "latest_version": plan.latest_version,
        "review_date": plan.review_date,
        "draft": draft,
        "versions": [version_summary(version) for version in plan.versions],
    }


def version_summary(version: PlanVersion) -> dict:
    return {
        "number": version.number,
        "state": version.state,
        "signed": version.signed_at is not None,
        **{
            key: getattr(version, key)
            for key in (
                "plan_number",
                "period_start",
                "period_end",
                "review_date",
                "monthly_budget",
                "period_budget",
                "approved_at",
                "approved_by",
                "edited_by",
                "document_id",
                "signed_at",
            )
        },
    }


def draft_body(plan: Plan, draft: plans.Draft) -> dict:
    lang = language()
    listed = []
    for path, found in draft.problems:
        code, message = translate(found, lang)
        listed.append({"path": "".join(f"/{part}" for part in path), "code": code, "message": message})
    return {
        "revision": plan.draft_revision,
        "base_version": plan.draft_base,
        "updated_at": plan.draft_updated_at,
        "plan": draft.raw,
        "problems": listed,
    }


def open_client(session, client_id: str) -> Client:
    """The client, if the user may see it and the case is open (409 when closed)."""
    client = scope().get(session, Client, client_id)
    if client.status == "closed":
        raise RequestProblem(409, problem("client.closed"))
    return client


def version_of(plan: Plan, number: int) -> PlanVersion:
    for version in plan.versions:
        if version.number == number:
            return version
    raise RequestProblem(404, problem("plan.no_such_version", number=number))


@blp.route("/clients/<client_id>/plans", methods=["GET"])
@blp.response(200, PlanSchema(many=True))
def list_plans(client_id):
    """The client's plans, newest first."""
    authorize("case:read")
    with database().session() as session:
        client = scope().get(session, Client, client_id)
        found = session.scalars(
            scope().select(Plan).where(Plan.client_id == client.id).order_by(Plan.created_at.desc())
        )
        return [plan_body(plan) for plan in found]


@blp.route("/clients/<client_id>/plans", methods=["POST"])
@blp.response(201, PlanSchema)
def start_plan(client_id):
    """A new plan for the client: its draft starts with what the client record says."""
    user = authorize("case:write")
    with database().session() as session:
        client = open_client(session, client_id)
        plan = plans.start(session, sealer(), user, client)
        audit.record(session, user, "created", "plan", plan.id)
        body = plan_body(plan)
    return tagged(body, plan.draft_revision, 201, Location=body["url"])


@blp.route("/plans/<plan_id>", methods=["GET"])
@blp.response(200, PlanSchema)
def show_plan(plan_id):
    """A plan: its versions and whether it has a draft."""
    user = authorize("case:read")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        audit.record(session, user, "read", "plan", plan.id)
        return tagged(plan_body(plan), plan.draft_revision)


@blp.route("/plans/<plan_id>/draft", methods=["GET"])
@blp.response(200, DraftSchema)
def show_draft(plan_id):
    """The draft as typed, with every problem it still has; its ETag is what a save sends back."""
    user = authorize("case:read")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        draft = plans.draft(plan, sealer())
        if draft is None:
            raise RequestProblem(404, problem("plan.no_draft"))
        audit.record(session, user, "read", "plan", plan.id)
        return tagged(draft_body(plan, draft), plan.draft_revision)


@blp.route("/plans/<plan_id>/draft", methods=["PUT"])
@blp.response(200, DraftSchema)
def save_draft(plan_id):
    """Save the draft — complete or not, valid or not — and answer what is wrong with it. Needs If-Match."""
    user = authorize("case:write")
    raw = json_body()
    if not isinstance(raw, dict):
        raise RequestProblem(422, problem("type.object"))
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        open_client(session, plan.client_id)
        stored = plans.draft(plan, sealer())
        if stored is None:
            raise RequestProblem(404, problem("plan.no_draft"))
        check(plan.draft_revision, changes.raw_differences(raw, stored.raw))
        draft = plans.save(plan, sealer(), user, raw)
        audit.record(session, user, "saved", "plan", plan.id, detail={"problems": len(draft.problems)})
        return tagged(draft_body(plan, draft), plan.draft_revision)


@blp.route("/plans/<plan_id>/draft", methods=["POST"])
@blp.response(201, DraftSchema)
def redraft(plan_id):
    """Start a new draft from the latest version (409 if there is a draft already)."""
    user = authorize("case:write")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        open_client(session, plan.client_id)
        try:
            draft = plans.redraft(plan, sealer(), user)
        except CaseConflict as exc:
            raise RequestProblem(409, exc.reason) from None
        audit.record(session, user, "saved", "plan", plan.id, detail={"problems": len(draft.problems)})
        return tagged(draft_body(plan, draft), plan.draft_revision, 201)


@blp.route("/plans/<plan_id>/approve", methods=["POST"])
@blp.response(201, VersionSchema)
def approve(plan_id):
    """Approve the draft: validated in full (422 with every problem), frozen as the next version, rendered
    and registered. Needs If-Match with the draft's ETag; the body (``{"note": …}``) is optional."""
    user = authorize("plan:approve")
    note = ApproveSchema().load(json_body()).get("note", "") if request.get_data(cache=True).strip() else ""
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        client = open_client(session, plan.client_id)
        if plan.draft is None:
            raise RequestProblem(409, problem("plan.no_draft"))
        check(plan.draft_revision)
        try:
            version = plans.approve(session, sealer(), user, plan, client, templates(), blobs(), note)
        except CaseConflict as exc:
            raise RequestProblem(409, exc.reason) from None
        audit.record(session, user, "approved", "plan", plan.id, sha256=version.document_sha256)
        body = version_summary(version) | plans.version_data(version, sealer())
    url = url_for("plans.show_version", plan_id=plan_id, number=version.number)
    return tagged(body, version.number, 201, Location=url)


@blp.route("/plans/<plan_id>/versions/<int:number>", methods=["GET"])
@blp.response(200, VersionSchema)
def show_version(plan_id, number):
    """One version of the plan as approved (audited as a read)."""
    user = authorize("case:read")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        version = version_of(plan, number)
        audit.record(session, user, "read", "plan_version", version.id)
        return version_summary(version) | plans.version_data(version, sealer())


@blp.route("/plans/<plan_id>/versions/<int:number>/document", methods=["GET"])
@blp.arguments(RenderArgsSchema, location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, {"type": "string", "format": "binary"}, content_type=DOCX)
def version_document(query, plan_id, number):
    """The version's document: DOCX, or PDF with ``format=pdf``."""
    user = authorize("case:read")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        version = version_of(plan, number)
        values = SupportPlanSchema().load(plans.version_data(version, sealer())["plan"])
        inputs = inputs_of(session, version)
        audit.record(session, user, "downloaded", "plan_version", version.id)
    return stored_document(plans.KIND, values, inputs, query, f"v{number}")


@blp.route("/plans/<plan_id>/changes", methods=["GET"])
@blp.arguments(ChangesArgsSchema, location="query", unknown=RAISE)
@blp.response(200, ChangesSchema)
def show_changes(args, plan_id):
    """What changed from one version to another: goals, services, quantities, prices, budget, dates — as
    JSON and as lines in the response language."""
    user = authorize("case:read")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        before, after = (version_of(plan, args[key]) for key in ("from_version", "to_version"))
        old, new = (
            SupportPlanSchema().load(plans.version_data(version, sealer())["plan"])
            for version in (before, after)
        )
        audit.record(
            session, user, "read", "plan", plan.id, detail={"changes": [before.number, after.number]}
        )
    lang = language()
    listed = []
    for change in changes.changes(old, new):
        code, message = translate(change.message, lang)
        listed.append(
            {
                "path": change.path,
                "code": code,
                "message": message,
                "before": change.before,
                "after": change.after,
            }
        )
    return {"from_version": args["from_version"], "to_version": args["to_version"], "changes": listed}


@blp.route("/plans/<plan_id>/versions/<int:number>/signed", methods=["POST"])
@blp.doc(requestBody=file_upload("The signed copy: a scan, a signed PDF or an .edoc"))
@blp.response(201, VersionSchema)
def attach_signed(plan_id, number):
    """Attach the signed copy of the approved version (a scan, a signed PDF or an .edoc): the version is
    then signed. The signature itself is not checked yet."""
    user = authorize("case:write")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        version = version_of(plan, number)
        if version.state != "approved":
            raise RequestProblem(409, problem("plan.superseded", number=number))
        data = uploaded_file("signed.missing")
        try:
            kind = signed.file_type(data, upload_limits(current_app.config))
        except UploadRejected as exc:
            raise RequestProblem(UPLOAD_STATUS.get(exc.code, 415), exc.problem) from None
        existing = session.get(SignedCopy, version.id)
        if existing is not None:
            session.delete(existing)
            session.flush()
        session.add(signed.attach(version, sealer(), user.id, data, kind))
        audit.record(session, user, "uploaded", "signed_copy", version.id, sha256=version.signed_sha256)
        body = version_summary(version) | plans.version_data(version, sealer())
    return body, 201


@blp.route("/plans/<plan_id>/versions/<int:number>/signed", methods=["GET"])
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/octet-stream")
def signed_copy(plan_id, number):
    """The signed copy of a version, as it was attached."""
    user = authorize("case:read")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        version = version_of(plan, number)
        copy = session.get(SignedCopy, version.id)
        if copy is None:
            raise RequestProblem(404, problem("signed.none"))
        data = signed.opened(copy, sealer())
        audit.record(session, user, "downloaded", "signed_copy", version.id, sha256=copy.sha256)
        kind = copy.file_type
    extension = {"jpeg": "jpg"}.get(kind, kind)
    name = f"Parakstīts plāns v{number}.{extension}"
    return send_file(
        io.BytesIO(data), mimetype=signed.MEDIA_TYPES[kind], as_attachment=True, download_name=name
    )
