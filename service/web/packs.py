"""Reimbursement packs in the pages: a project and period checked first (the lines the accepted acts give,
their problems and totals), then made as the background job ``POST /api/v1/packs`` makes, its progress
followed, and its ZIP downloaded. Finance officers and administrators (``pack:create``).

The order is the period's accepted acts (``source: submissions``), or the finance officer's own
spreadsheets — the filled input template (XLSX) or CSVs, as Latvian Excel writes them — uploaded with it;
either is read and taken by ``service.packs.order`` exactly as the API takes it, and the month is typed
MM.YYYY. (or from–to months). A problem that repeats on many rows is shown once, with its rows.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, request, send_file, url_for
from werkzeug.exceptions import NotFound

from schemas import human_input, municipalities, projects
from schemas.errors import problem
from service import audit, jobs
from service.api.packs import submit
from service.api.problems import RequestProblem
from service.auth import authorize, scope
from service.i18n import translate
from service.jobs.records import ACTIVE, existing_job
from service.packs.job import new_pack_job
from service.packs.order import OrderInput, OrderLimits, OrderRejected, read_order
from service.store import database, sealer
from service.store.models import AuditEntry, Job
from service.web.base import _, lang, page, page_problems, takes_upload, user

bp = Blueprint("web_packs", __name__)
PAST = 20
#: Where an order's problem is shown: the header's fields by their form ids; the rest in the summary.
PLACES = {"project": ("project",), "period": ("period_from",), "source": ("period_from",)}


def _projects() -> list[tuple[str, str]]:
    known = municipalities.default().get(user().municipality)
    codes = known.project_agreements if known else {}
    return [
        (code, f"{code} · {project.name}") for code, project in projects.default().items() if code in codes
    ]


def _read(form) -> tuple[dict[str, Any], list]:
    """The order's header as the API takes it, and the problems of what could not be read."""
    values = {key: form.get(key, "").strip() for key in ("project", "period_from", "period_to")}
    errors = []
    body: dict[str, Any] = {
        "municipality": user().municipality,
        "source": "submissions",
        "pdf": form.get("pdf") == "1",
    }
    if values["project"]:
        body["project"] = values["project"]
    else:
        errors.append((("project",), problem("required")))
    months = []
    for key in ("period_from", "period_to"):
        if values[key]:
            try:
                months.append(human_input.read_month(values[key]))
            except human_input.InvalidInput as failed:
                errors.append(((key,), problem(failed.code)))
        elif key == "period_from":
            errors.append(((key,), problem("required")))
    if len(months) == 2 or (months and not values["period_to"]):
        first, last = months[0], months[-1]
        end = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        if first == last:
            body["period"] = first.strftime("%Y-%m")
        else:
            body["period"] = {"start": first.isoformat(), "end": end.isoformat()}
    return body, errors


def _anchor(path: tuple) -> tuple:
    """The form field a problem of the order is shown at: the header's own, else none (the summary)."""
    return PLACES.get(path[0], ()) if path else ()


def _order(body: dict[str, Any]) -> OrderInput:
    """The order with the uploaded tables, if any (then its lines are theirs, not the accepted acts');
    :class:`OrderRejected` when they cannot be read."""
    limits = OrderLimits.of(current_app.config)
    sent = [upload for upload in request.files.getlist("tables") if upload.filename]
    if not sent:
        return OrderInput(body)
    del body["source"]
    files = {
        f"{index}. {upload.filename}": upload.stream.read(limits.table_bytes + 1)
        for index, upload in enumerate(sent, start=1)
    }
    return read_order(json.dumps(body), files, limits)


def _details(session, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The totals each pack's order recorded (its "created" audit entry), by job id."""
    return {
        entry.object_id: json.loads(entry.detail or "{}")
        for entry in session.scalars(
            scope()
            .select(AuditEntry)
            .where(
                AuditEntry.action == "created",
                AuditEntry.object_type == "pack",
                AuditEntry.object_id.in_(job_ids),
            )
        )
    }


def _past(session) -> list[dict[str, Any]]:
    found = session.scalars(
        scope().select(Job).where(Job.kind == "pack").order_by(Job.created_at.desc()).limit(PAST)
    ).all()
    details = _details(session, [job.id for job in found])
    return [{"job": job, "detail": details.get(job.id, {})} for job in found]


def _packs_page(session, values, status=200, errors=(), order=None, places=None, anchor=None):
    return page(
        "packs.html",
        status,
        values=values,
        choices=_projects(),
        order=order,
        past=_past(session),
        problems=page_problems(list(errors), places, anchor),
        table_mb=OrderLimits.of(current_app.config).table_bytes // 1_000_000,
    )


def _refused(session, values, rejected: OrderRejected):
    """The order's problems on the page: each at its header field or in the summary, with its rows."""
    return _packs_page(session, values, 422, rejected.problems, places=rejected.places, anchor=_anchor)


@bp.route("/paki", methods=["GET"])
def packs():
    """The order's form; with ``?parbaudit`` the lines the period's accepted acts give, and their totals."""
    authorize("pack:create")
    values = {key: request.args.get(key, "") for key in ("project", "period_from", "period_to", "pdf")}
    with database().session() as session:
        if "parbaudit" not in request.args:
            return _packs_page(session, values)
        body, errors = _read(request.args)
        if errors:
            return _packs_page(session, values, 422, errors)
        try:
            order = OrderInput(body).take(session, sealer())
        except OrderRejected as rejected:
            return _refused(session, values, rejected)
        return _packs_page(session, values, order=order.request)


@bp.route("/paki", methods=["POST"])
@takes_upload
def start():
    """Check the order ("Pārbaudīt") or start the pack as a background job ("Sagatavot paku"; the same
    order finds the job it made before)."""
    current = authorize("pack:create")
    values = {key: request.form.get(key, "") for key in ("project", "period_from", "period_to", "pdf")}
    body, errors = _read(request.form)
    with database().session() as session:
        if errors:
            return _packs_page(session, values, 422, errors)
        try:
            order = _order(body).take(session, sealer())
        except OrderRejected as rejected:
            if "parbaudit" not in request.form:
                audit.record(session, current, "validated", "pack", outcome="invalid")
            return _refused(session, values, rejected)
        if "parbaudit" in request.form:
            return _packs_page(session, values, order=order.request)
        existing = existing_job(session, current.municipality, None, order.sha256)
        if existing is not None:
            return redirect(url_for("web_packs.pack", job_id=existing.id), 303)
        backend = jobs.backend()
        job = new_pack_job(session, current, backend.name, order, jobs.folder())
    try:
        submit(backend, job)
    except RequestProblem:
        with database().session() as session:
            return _packs_page(session, values, 503, [((), problem("job.queue_unavailable"))])
    return redirect(url_for("web_packs.pack", job_id=job.id), 303)


def _job(session, job_id: str) -> Job:
    job = scope().get(session, Job, job_id)
    if job.kind != "pack":
        raise NotFound()
    return job


def state_text(job: Job) -> str:
    """The job's state and progress in words, for the page and its live region."""
    if job.state == "queued":
        return _("Waiting to start.")
    if job.state == "running":
        return _("Making the documents: {done} of {total}.").format(done=job.done, total=job.total)
    if job.state == "succeeded":
        return _("Ready: {done} of {total} documents.").format(done=job.done, total=job.total)
    if job.state == "cancelled":
        return _("Cancelled.")
    return _("Failed.")


@bp.route("/paki/<job_id>", methods=["GET"])
def pack(job_id: str):
    """A pack's state, its progress bar and, when finished, its download."""
    authorize("pack:create")
    with database().session() as session:
        job = _job(session, job_id)
        error = translate(job.error(), lang())[1] if job.error() is not None else ""
        detail = _details(session, [job.id]).get(job.id, {})
        return page(
            "pack.html",
            job=job,
            active=job.state in ACTIVE,
            text=state_text(job),
            error=error,
            detail=detail,
            ready=job.state == "succeeded" and job.deleted_at is None,
        )


@bp.route("/paki/<job_id>/stavoklis", methods=["GET"])
def pack_state(job_id: str):
    """The job's progress as a little JSON for the page's script."""
    authorize("pack:create")
    with database().session() as session:
        job = _job(session, job_id)
        answer = jsonify(
            state=job.state,
            done=job.done,
            total=job.total,
            text=state_text(job),
            finished=job.state not in ACTIVE,
        )
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.route("/paki/<job_id>/zip", methods=["GET"])
def download(job_id: str):
    """The finished pack, as the API's job result."""
    current = authorize("pack:create")
    with database().session() as session:
        job = _job(session, job_id)
        path = jobs.files(job).result
        if job.state != "succeeded" or job.deleted_at is not None or not path.exists():
            raise NotFound()
        audit.record(session, current, "downloaded", job.kind, job.id, sha256=job.result_sha256)
        name, media_type = job.result_name, jobs.media_type(job)
    return send_file(path, mimetype=media_type, as_attachment=True, download_name=name, max_age=0)
