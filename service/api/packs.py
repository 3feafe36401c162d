"""Reimbursement packs: POST /api/v1/packs orders one as a background job; GET /api/v1/packs/template.xlsx
gives the spreadsheet to fill the lines in.

An order is JSON (``samples/pack-order-*.json``; at most 5 000 agreements and 20 000 lines), or multipart
with the order as JSON in the field ``order`` and the lines (and agreements) as CSV or XLSX files (up to
``VEIDLAPAS_PACK_MAX_AGREEMENTS`` and ``VEIDLAPAS_PACK_MAX_LINES``, as an order from the accepted acts).
Every line of an order within the JSON limits is validated before the job starts: a bad order answers
422 with every problem, its path and — for files — its sheet, row and column. A larger order (above
``VEIDLAPAS_PACK_JOB_CHECK_LINES``) is validated inside its job: the job fails with ``pack.invalid_order``
and ``GET /api/v1/jobs/<id>`` lists the same problems in ``error.errors``. The same order (or the same
``Idempotency-Key``) returns the job made the first time.
"""

from __future__ import annotations

import io
import re

from flask import current_app, request, send_file

from schemas.errors import problem
from schemas.pack import PackOrderSchema
from service import audit, jobs
from service.api.blueprint import Blueprint
from service.api.body import json_text
from service.api.jobs import job_view
from service.api.problems import PROBLEM_JSON, RequestProblem, problem_response
from service.api.schemas import JobSchema, ProblemSchema
from service.auth import authorize
from service.jobs.records import existing_job
from service.jobs.storage import JobFiles
from service.packs import tables
from service.packs.job import new_pack_job
from service.packs.order import OrderInput, OrderLimits, OrderRejected, read_order
from service.store import database, sealer
from service.store.models import Job

blp = Blueprint("packs", __name__, url_prefix="/api/v1", description="Monthly reimbursement packs")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}\Z")


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": ProblemSchema}}}


def _binary(schema_description: str) -> dict:
    return {"type": "string", "format": "binary", "description": schema_description}


@blp.route("/packs", methods=["POST"])
@blp.doc(
    parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 100}}],
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": PackOrderSchema},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "order": {"type": "string", "description": "The order as JSON, without lines"},
                        "lines": _binary("Delivery lines: XLSX (may hold the agreements too) or CSV"),
                        "agreements": _binary("Agreements: CSV (or XLSX)"),
                    },
                    "required": ["order"],
                }
            },
        },
    },
    responses={
        200: {
            "description": "The job made before for the same order",
            "content": {"application/json": {"schema": JobSchema}},
        },
        202: {
            "description": "The job is queued; follow Location",
            "content": {"application/json": {"schema": JobSchema}},
        },
        403: _problem("Another municipality, or a role that may not order packs"),
        422: _problem(
            "The order, a line or a file is not valid (errors name the path, sheet, row and column)"
        ),
        503: _problem("The job queue cannot be reached"),
    },
)
def order_pack():
    """Order a reimbursement pack for a municipality, project and period; it is made in the background."""
    user = authorize("pack:create")
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise RequestProblem(400, problem("idempotency.invalid"))
    try:
        inputs = _order_input()
    except OrderRejected as rejected:
        return _rejected(rejected)
    if isinstance(body := inputs.body, dict):
        body.setdefault("municipality", user.municipality)
        if isinstance(body["municipality"], str) and body["municipality"] != user.municipality:
            raise RequestProblem(403, problem("municipality.not_yours", code=user.municipality))
    with database().session() as session:
        try:
            order = inputs.take(session, sealer())
        except OrderRejected as rejected:
            detail = {"problems": len(rejected.problems)}
            audit.record(session, user, "validated", "pack", outcome="invalid", detail=detail)
            return _rejected(rejected)
        existing = existing_job(session, user.municipality, key, order.sha256)
        if existing is not None:
            if key and existing.input_sha256 != order.sha256:
                raise RequestProblem(422, problem("idempotency.conflict"))
            return job_view(existing), 200
        backend = jobs.backend()
        job = new_pack_job(session, user, backend.name, order, jobs.folder(), key)
    submit(backend, job)
    view = job_view(job)
    return view, 202, {"Location": view["url"]}


def submit(backend, job: Job) -> None:
    """Hand a stored job to its backend; when the broker is down the job fails and says so (503)."""
    try:
        backend.submit(job.id)
    except Exception as error:  # the broker is down: the job cannot start, and says so
        current_app.logger.error("job %s not queued: %s", job.id, type(error).__name__)
        with database().session() as session:
            queued = session.get(Job, job.id)
            queued.stop("failed", "job.queue_unavailable")
        JobFiles(jobs.folder(), job.id).remove()
        raise RequestProblem(503, problem("job.queue_unavailable"), headers={"Retry-After": "30"}) from None


@blp.route("/packs/template.xlsx", methods=["GET"])
@blp.doc(
    responses={200: {"description": "The input template", "content": {XLSX: {"schema": _binary("XLSX")}}}}
)
def input_template():
    """The XLSX to fill delivery lines (and agreements) in, with Latvian headers and the code lists."""
    authorize("reference:read")
    return send_file(
        io.BytesIO(tables.input_template()),
        mimetype=XLSX,
        as_attachment=True,
        download_name="kompensacijas-pieprasijuma-rindas.xlsx",
    )


def _order_input() -> OrderInput:
    """The order (a JSON body, or the multipart field ``order``) and the uploaded tables, read and checked."""
    limits = OrderLimits.of(current_app.config)
    if request.mimetype != "multipart/form-data":
        return read_order(json_text(), {}, limits)
    request.max_content_length = 2 * limits.table_bytes + 64 * 1024
    text = request.form.get("order")
    if text is None:
        raise RequestProblem(400, problem("pack.order_missing"))
    files = {name: upload.stream.read(limits.table_bytes + 1) for name, upload in request.files.items()}
    return read_order(text, files, limits)


def _rejected(rejected: OrderRejected):
    """The order's problems as problem+json: each with its sheet, row and column when from a file."""
    return problem_response(rejected.status, errors=rejected.problems, places=rejected.places)
