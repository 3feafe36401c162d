"""Delivery acts in the pages: the acts waiting for acceptance and the recent ones, an upload of a filled
act, what was read from it, and its acceptance (against the client's budget) or rejection with a reason.

An upload goes through the same checked reader as ``POST /api/v1/forms`` (``service.submissions``: limits
and checks before parsing, parsing in a limited child); a refused file is the list page again with the
message at the file field. An act whose values are not valid is shown with its problems, not kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from flask import Blueprint, current_app, redirect, request, url_for
from marshmallow import ValidationError

from schemas.errors import flatten, problem
from service import audit, submissions
from service.api.forms import UPLOAD_STATUS
from service.auth import authorize, scope
from service.cases import acts
from service.cases.errors import CaseConflict
from service.config import upload_limits
from service.documents.labels import STANDARD_LABELS, load_labels
from service.forms.uploads import UploadRejected
from service.store import database, sealer
from service.store.models import Submission
from service.web.base import field_id, page, page_problems, takes_upload, user

bp = Blueprint("web_acts", __name__)

#: The columns of an act's session table, in the form's order.
SESSION_COLUMNS = ("date", "code", "specialist", "start_time", "end_time", "units", "form", "status")
RECENT = 20


def _limit_text() -> str:
    return f"{upload_limits(current_app.config).max_bytes / 1_000_000:.0f}"


def _list_page(session, status: int = 200, errors=()):
    waiting = session.scalars(
        scope()
        .select(Submission)
        .where(Submission.status == "received")
        .order_by(Submission.received_at.desc())
        .limit(100)
    ).all()
    recent = session.scalars(
        scope()
        .select(Submission)
        .where(Submission.status != "received")
        .order_by(Submission.received_at.desc())
        .limit(RECENT)
    ).all()
    return page(
        "acts.html",
        status,
        waiting=waiting,
        recent=recent,
        limit_mb=_limit_text(),
        problems=page_problems(list(errors)),
    )


@bp.route("/akti", methods=["GET"], endpoint="acts")
def acts_list():
    authorize("case:read")
    with database().session() as session:
        return _list_page(session)


def _date(text: Any) -> Any:
    try:
        return dt.date.fromisoformat(text) if isinstance(text, str) else text
    except ValueError:
        return text


def _shown(raw: dict[str, Any]) -> dict[str, Any]:
    """The act's values as the page shows them: dates as dates where they were read, text otherwise."""
    sessions = []
    for row in raw.get("sessions") or []:
        if isinstance(row, dict):
            sessions.append({column: _date(row.get(column, "")) for column in SESSION_COLUMNS})
    agreement = raw.get("agreement") if isinstance(raw.get("agreement"), dict) else {}
    return {
        "number": raw.get("number", ""),
        "month": raw.get("month", ""),
        "date": _date(raw.get("date", "")),
        "agreement_number": agreement.get("number", ""),
        "provider": (agreement.get("provider") or {}).get("name", ""),
        "client": (agreement.get("client") or {}).get("name", ""),
        "sessions": sessions,
    }


def _placed(errors: list[tuple[tuple, Any]], shown: dict) -> tuple[list, list]:
    """Each problem at the cell of the session table it names, else at its row, else in the list of the
    act's other problems (each of those with its own anchor)."""
    placed, others = [], []
    rows = len(shown["sessions"])
    for path, reason in errors:
        path = tuple(path)
        if path[:1] == ("sessions",) and len(path) >= 2 and isinstance(path[1], int) and path[1] < rows:
            cell = path[:3] if len(path) >= 3 and path[2] in SESSION_COLUMNS else path[:2]
            placed.append((cell, reason))
        else:
            placed.append((path or ("act",), reason))
            others.append(path or ("act",))
    return placed, others


def _act_page(session, raw, errors=(), status=200, submission=None, services=None, **more):
    shown = _shown(raw)
    placed, others = _placed(list(errors), shown)
    problems = page_problems(placed)
    other_ids = {field_id(path) for path in others}
    labels = load_labels(STANDARD_LABELS)
    return page(
        "act.html",
        status,
        act=shown,
        submission=submission,
        services=services or [],
        problems=problems,
        other_problems=[item for item in problems if item.field in other_ids],
        columns=SESSION_COLUMNS,
        labels=labels,
        **more,
    )


@bp.route("/akti", methods=["POST"])
@takes_upload
def upload():
    """Take a filled act (PDF or DOCX) through the checked reader; a valid one is kept and shown."""
    current = authorize("render:delivery-act")
    authorize("case:read")
    limits = upload_limits(current_app.config)
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        with database().session() as session:
            return _list_page(session, 400, [(("file",), problem("upload.choose_file"))])
    data = sent.stream.read(limits.max_bytes + 1)
    try:
        form = submissions.read_upload(data, limits)
    except UploadRejected as exc:
        with database().session() as session:
            return _list_page(session, UPLOAD_STATUS.get(exc.code, 422), [(("file",), exc.problem)])
    with database().session() as session:
        try:
            act = submissions.validate(form)
            found = acts.match(session, sealer(), current.municipality, act)
        except ValidationError as exc:
            audit.record(session, current, "validated", "submission", outcome="invalid", sha256=form.sha256)
            return _act_page(session, form.act, flatten(exc.messages), 422, uploaded=True)
        submission, new = submissions.keep(session, current, sealer(), form, act)
        if found and submission.agreement_id is None:
            acts.link(submission, found)
        if new:
            audit.record(session, current, "uploaded", "submission", submission.id, sha256=form.sha256)
        target = submission.id
    return redirect(url_for("web_acts.act", submission_id=target), 303)


def _stored_page(session, submission: Submission, errors=(), status=200, **more):
    raw = sealer().open_json(submission.sealed, submission.seal_context())
    services = []
    with contextlib.suppress(ValidationError):  # an act that no longer loads shows what it holds
        services = acts.loaded_act(submission, sealer())["services"]
    errors = list(errors)
    if submission.status == "received" and submission.agreement_id is None and not errors:
        errors.append(((), problem("act.unmatched", number=submission.agreement_number)))
    return _act_page(
        session,
        raw,
        errors,
        status,
        submission=submission,
        services=services,
        reason=acts.reason_of(sealer(), submission),
        **more,
    )


@bp.route("/akti/<submission_id>", methods=["GET"])
def act(submission_id: str):
    """What was read from the act, its problems, and what may be done with it."""
    current = authorize("case:read")
    with database().session() as session:
        submission = scope().get(session, Submission, submission_id)
        audit.record(session, current, "read", "submission", submission.id)
        warning = request.args.get("lietojums", "")
        warnings = page_problems([((), problem("budget.near", percent=warning))]) if warning else []
        return _stored_page(session, submission, warnings=warnings)


@bp.route("/akti/<submission_id>/pienemt", methods=["POST"])
def accept(submission_id: str):
    """Accept the act: its services count against the client's budget (an administrator may accept past
    the period budget, giving a reason)."""
    current = authorize("act:accept")
    reason = request.form.get("override_reason", "").strip() or None
    if reason is not None:
        authorize("budget:override")
    with database().session() as session:
        submission = scope().get(session, Submission, submission_id)
        was = submission.status
        try:  # a refusal changes nothing but the act's link to its agreement, which it keeps
            accepted = acts.accept(
                session,
                sealer(),
                current,
                submission,
                warn_percent=current_app.config["BUDGET_WARN_PERCENT"],
                override_reason=reason,
            )
        except acts.BudgetExceeded as exc:
            path = ("override_reason",) if user().may("budget:override") else ()
            return _stored_page(session, submission, [(path, exc.reason)], 409, over=True, typed=reason)
        except CaseConflict as exc:
            return _stored_page(session, submission, [(exc.path, exc.reason)], 409)
        except ValidationError as exc:
            return _stored_page(session, submission, flatten(exc.messages), 409)
        if was != "accepted":
            audit.record(session, current, "accepted", "submission", submission.id, sha256=submission.sha256)
            if submission.override_by is not None:
                detail = {"percent": str(accepted.use.percent_after)}
                audit.record(session, current, "overridden", "submission", submission.id, detail=detail)
        query = {}
        if accepted.warnings and accepted.use is not None:
            query["lietojums"] = str(accepted.use.percent_after)
    return redirect(url_for("web_acts.act", submission_id=submission_id, **query), 303)


@bp.route("/akti/<submission_id>/noraidit", methods=["POST"])
def reject(submission_id: str):
    """Reject the act with a reason (kept sealed, audited); it cannot be accepted after."""
    current = authorize("act:accept")
    reason = request.form.get("reason", "")
    with database().session() as session:
        submission = scope().get(session, Submission, submission_id)
        was = submission.status
        try:
            acts.reject(sealer(), current, submission, reason)
        except CaseConflict as exc:
            path = ("reason",) if exc.path else ()
            status = 422 if exc.path else 409
            return _stored_page(session, submission, [(path, exc.reason)], status, typed_reason=reason)
        if was != "rejected":
            audit.record(session, current, "rejected", "submission", submission.id, sha256=submission.sha256)
    return redirect(url_for("web_acts.act", submission_id=submission_id), 303)
