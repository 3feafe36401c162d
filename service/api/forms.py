"""Fillable delivery acts: make one prefilled, take a filled one back, keep it as a submission.

``POST /api/v1/forms/delivery-act`` answers a fillable PDF (AcroForm) or, with ``format=docx``, a DOCX
with content controls; ``POST /api/v1/forms`` takes the filled file (multipart, field ``file``);
``GET /api/v1/submissions`` lists what was received, by month, provider and status.
"""

from __future__ import annotations

import io

from flask import current_app, request, send_file
from marshmallow import RAISE, ValidationError

from schemas.errors import flatten, problem
from service import audit, submissions
from service.api.blueprint import Blueprint
from service.api.body import json_body, uploaded_file
from service.api.case_schemas import AcceptSchema, RejectSchema
from service.api.documents import DOCX, PDF
from service.api.listing import listed
from service.api.problems import PROBLEM_JSON, RequestProblem, language, problem_response
from service.api.schemas import (
    AcceptanceSchema,
    AcceptedSchema,
    FormRequestSchema,
    ProblemSchema,
    SubmissionArgsSchema,
    SubmissionSchema,
)
from service.auth import authorize, scope
from service.cases import acts
from service.cases.errors import CaseConflict
from service.config import upload_limits
from service.files import safe_file_name
from service.forms.docx_form import make_docx_form
from service.forms.pdf_form import make_pdf_form
from service.forms.uploads import UploadRejected
from service.i18n import translate
from service.store import database, sealer
from service.store.models import Submission

blp = Blueprint("forms", __name__, url_prefix="/api/v1", description="Fillable delivery acts and submissions")

#: HTTP status of an unreadable upload, by reason; every other reason is 422.
UPLOAD_STATUS = {"upload.too_large": 413, "upload.unknown_type": 415, "upload.empty": 400}


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": ProblemSchema}}}


@blp.route("/forms/delivery-act", methods=["POST"])
@blp.doc(
    parameters=[{"in": "query", "name": "format", "schema": {"type": "string", "enum": ["pdf", "docx"]}}],
    requestBody={"required": True, "content": {"application/json": {"schema": FormRequestSchema}}},
    responses={
        200: {
            "description": "The fillable form",
            "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in (PDF, DOCX)},
        },
        400: _problem("Malformed JSON or an unknown format"),
        422: _problem("The agreement or month is not valid"),
    },
)
def make_form():
    """A fillable delivery act for an agreement and a month, prefilled with what the agreement says."""
    user = authorize("render:delivery-act")
    output = request.args.get("format", "pdf")
    if output not in ("pdf", "docx"):
        raise RequestProblem(400, problem("format.unknown", formats="pdf, docx"))
    raw = json_body()
    values = FormRequestSchema().load(raw)
    act = submissions.blank_act(
        raw["agreement"], values["agreement"], values["month"], values.get("number", "")
    )
    document = make_pdf_form(act) if output == "pdf" else make_docx_form(act)
    name = f"Akts {safe_file_name(values['agreement']['number'])} {values['month'].start:%Y-%m}.{output}"
    with database().session() as session:
        audit.record(session, user, "rendered", "form", values["agreement"]["number"], outcome=output)
    mimetype = PDF if output == "pdf" else DOCX
    return send_file(io.BytesIO(document), mimetype=mimetype, as_attachment=True, download_name=name)


@blp.route("/forms", methods=["POST"])
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    },
    responses={
        200: {
            "description": "The same file was received before",
            "content": {"application/json": {"schema": SubmissionSchema}},
        },
        201: {
            "description": "A new submission",
            "content": {"application/json": {"schema": SubmissionSchema}},
        },
        400: _problem("No file, or an empty one"),
        413: _problem("The file is too large"),
        415: _problem("Not a PDF or DOCX"),
        422: _problem("The file cannot be read as a form, or its data are not valid (errors name the field)"),
    },
)
def upload_form():
    """Take a filled delivery act (PDF or DOCX), check it like any input, keep it as a submission."""
    user = authorize("render:delivery-act")
    data = uploaded_file("upload.missing")
    try:
        form = submissions.read_upload(data, upload_limits(current_app.config))
    except UploadRejected as exc:
        raise RequestProblem(UPLOAD_STATUS.get(exc.code, 422), exc.problem) from None
    with database().session() as session:
        try:
            act = submissions.validate(form)
            found = acts.match(session, sealer(), user.municipality, act)
        except ValidationError as exc:
            errors = flatten(exc.messages)
            places = [submissions.field_of(form, p) for p, _ in errors]
            return problem_response(422, errors=errors, places=places)
        submission, new = submissions.keep(session, user, sealer(), form, act)
        if found and submission.agreement_id is None:
            acts.link(submission, found)
        if new:
            audit.record(session, user, "uploaded", "submission", submission.id, sha256=form.sha256)
        body = SubmissionSchema().dump(submission)
    return body, 201 if new else 200


@blp.route("/submissions", methods=["GET"])
@blp.arguments(SubmissionArgsSchema, location="query", unknown=RAISE)
@blp.response(200, SubmissionSchema(many=True))
def list_submissions(args):
    """Received delivery acts the user may see, newest first; by month, provider and status."""
    authorize("register:read")
    return listed(Submission, args, time_column="received_at", equal=("month", "provider", "status"))


@blp.route("/submissions/<submission_id>", methods=["GET"])
@blp.response(200, SubmissionSchema)
def show_submission(submission_id):
    """One submission, with the act it holds."""
    authorize("register:read")
    with database().session() as session:
        return scope().get(session, Submission, submission_id)


@blp.route("/submissions/<submission_id>/accept", methods=["POST"])
@blp.doc(
    requestBody={"required": False, "content": {"application/json": {"schema": AcceptSchema}}},
    responses={
        200: {"description": "Accepted", "content": {"application/json": {"schema": AcceptedSchema}}},
        409: _problem(
            "Not matched to a stored agreement, no longer matching it, no plan for the month, or past the"
            " period budget (an administrator may override with a reason)"
        ),
    },
)
def accept_submission(submission_id):
    """Accept a received act ("pieņemts"): its services count as delivered against the client's budget
    and it goes into the month's reimbursement."""
    user = authorize("act:accept")
    values = AcceptSchema().load(json_body()) if request.content_length else {}
    reason = values.get("override_reason")
    if reason is not None:
        authorize("budget:override")
    with database().session() as session:
        submission = scope().get(session, Submission, submission_id)
        was = submission.status
        try:
            accepted = acts.accept(
                session,
                sealer(),
                user,
                submission,
                warn_percent=current_app.config["BUDGET_WARN_PERCENT"],
                override_reason=reason,
            )
        except CaseConflict as exc:
            raise RequestProblem(409, exc.reason, path=exc.path) from None
        except ValidationError as exc:
            raise RequestProblem.located(409, flatten(exc.messages)) from None
        if was != "accepted":
            audit.record(session, user, "accepted", "submission", submission.id, sha256=submission.sha256)
            if submission.override_by is not None:
                detail = {"percent": str(accepted.use.percent_after)}
                audit.record(session, user, "overridden", "submission", submission.id, detail=detail)
        warnings = [
            dict(zip(("code", "message"), translate(w, language()), strict=True)) for w in accepted.warnings
        ]
        return SubmissionSchema().dump(submission) | AcceptanceSchema().dump(
            {"warnings": warnings, "use": accepted.use}
        )


@blp.route("/submissions/<submission_id>/reject", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": RejectSchema}}},
    responses={
        200: {"description": "Rejected", "content": {"application/json": {"schema": SubmissionSchema}}},
        409: _problem("Accepted already, or no reason"),
    },
)
def reject_submission(submission_id):
    """Reject a received act ("noraidīts") with the reason (kept sealed); it cannot be accepted after."""
    user = authorize("act:accept")
    values = RejectSchema().load(json_body())
    with database().session() as session:
        submission = scope().get(session, Submission, submission_id)
        was = submission.status
        try:
            acts.reject(sealer(), user, submission, values["reason"])
        except CaseConflict as exc:
            raise RequestProblem(409, exc.reason, path=exc.path) from None
        if was != "rejected":
            audit.record(session, user, "rejected", "submission", submission.id, sha256=submission.sha256)
        return SubmissionSchema().dump(submission)
