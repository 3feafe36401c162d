"""Agreements in the pages: made from an approved plan version, shown with their versions and lines, their
documents downloaded, and the month's fillable delivery act.

The form asks for what ``samples/agreement-request.json`` holds (the plan's lines to contract with their
place and schedule, the provider, the decision, the dates); its fields are named by their paths in that
request, so a problem the schema reports at a path is shown at the field of the same id. Dates are read by
``schemas.human_input``; the agreement itself is made by ``service.cases.agreements.make`` as in the API.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import Blueprint, redirect, request, send_file, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound

from schemas import human_input
from schemas.agreement import SIGNING
from schemas.agreement import AgreementSchema as AgreementDataSchema
from schemas.errors import flatten, problem
from schemas.fields import Period
from service import audit, submissions
from service.api.agreements import KIND
from service.api.documents import DOCX, PDF, stored_document
from service.auth import authorize, scope
from service.cases import acts, agreements, plans
from service.cases.errors import CaseConflict
from service.documents.inputs import inputs_of
from service.files import safe_file_name
from service.forms.docx_form import make_docx_form
from service.forms.pdf_form import make_pdf_form
from service.store import database, sealer
from service.store.case_models import Agreement, Client, Plan, PlanVersion
from service.store.models import Submission
from service.web.base import page, page_problems

bp = Blueprint("web_agreements", __name__)

#: The form's fields: (path in the request, kind). Dates are typed DD.MM.YYYY.
FIELDS = (
    ("date", "date"),
    ("place", "text"),
    ("decision.number", "text"),
    ("decision.date", "date"),
    ("signing", "choice"),
    ("aplp_level", "text"),
    ("provider.name", "text"),
    ("provider.registration_number", "text"),
    ("provider.register_number", "text"),
    ("provider.address", "text"),
    ("provider.representative.name", "text"),
    ("provider.representative.position", "text"),
    ("provider.representative.basis", "text"),
    ("provider.bank", "text"),
    ("provider.iban", "text"),
    ("provider.phone", "text"),
    ("provider.email", "text"),
    ("municipality.representative.name", "text"),
    ("municipality.representative.position", "text"),
    ("municipality.representative.basis", "text"),
)


def _iso_date(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if isinstance(text, str) else text
    except ValueError:
        return None


def _plan_version(session, plan_id: str, number: int) -> tuple[Plan, PlanVersion]:
    plan = scope().get(session, Plan, plan_id)
    for version in plan.versions:
        if version.number == number:
            return plan, version
    raise NotFound()


def _plan_lines(version: PlanVersion) -> list[dict[str, Any]]:
    """The plan version's service lines, as the form offers them to contract."""
    raw = plans.version_data(version, sealer())["plan"]
    return [
        {
            "index": index,
            "code": line["code"],
            "unit": line["unit"],
            "quantity": line["quantity"],
            "provider": line.get("provider", ""),
            "start": _iso_date(line["start"]),
            "end": _iso_date(line["end"]),
        }
        for index, line in enumerate(raw["services"])
    ]


def _put(target: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def read_form(form, lines: list[dict]) -> tuple[dict[str, Any], list[tuple[tuple, Any]], list[int]]:
    """The agreement request a person typed: raw as the API takes it, the problems of what could not be
    read (at their fields), and the plan lines chosen."""
    raw: dict[str, Any] = {}
    errors = []
    for name, kind in FIELDS:
        text = form.get(name, "").strip()
        if not text:
            continue
        if kind == "date":
            try:
                text = human_input.read_date(text).isoformat()
            except human_input.InvalidInput as failed:
                errors.append((tuple(name.split(".")), problem(failed.code)))
                continue
        _put(raw, name, text)
    chosen = [line["index"] for line in lines if form.get(f"lines-{line['index']}")]
    raw["from_plan"] = {
        "lines": [
            {
                "index": index,
                "place": form.get(f"lines-{index}-place", "").strip(),
                "schedule": form.get(f"lines-{index}-schedule", "").strip(),
            }
            for index in chosen
        ]
    }
    for index in chosen:  # empty texts are the schema's "required", said at the line's own field
        for part in ("place", "schedule"):
            if not form.get(f"lines-{index}-{part}", "").strip():
                errors.append((("lines", index, part), problem("required")))
    if not chosen:
        errors.append((("lines",), problem("agreement.choose_lines")))
    return raw, errors, chosen


def _placed(path: tuple, chosen: list[int]) -> tuple:
    """Where a problem of the agreement is shown: its field, the chosen line, or the lines' group."""
    known = {tuple(name.split(".")) for name, _ in FIELDS}
    if path in known:
        return path
    if (
        path[:2] == ("from_plan", "lines")
        and len(path) >= 4
        and path[2] < len(chosen)
        and path[3] in ("place", "schedule")
    ):
        return ("lines", chosen[path[2]], path[3])
    if path[:1] == ("services",) and len(path) >= 2 and isinstance(path[1], int) and path[1] < len(chosen):
        return ("lines", chosen[path[1]])
    if path[:1] in (("from_plan",), ("services",), ("term",)):
        return ("lines",)
    return ()


def _form_page(plan, version, lines, values, errors=(), status=200, chosen=()):
    shown = page_problems(list(errors))
    return page(
        "agreement_new.html",
        status,
        plan=plan,
        version=version,
        lines=lines,
        values=values,
        chosen=set(chosen),
        signing=SIGNING,
        problems=shown,
    )


@bp.route("/plani/<plan_id>/versijas/<int:number>/ligums", methods=["GET"])
def new(plan_id: str, number: int):
    """The form for an agreement from the approved plan version."""
    user = authorize("case:write")
    with database().session() as session:
        plan, version = _plan_version(session, plan_id, number)
        lines = _plan_lines(version)
        audit.record(session, user, "read", "plan_version", version.id)
        values = {"date": "", "signing": "e-signature"}
        errors = []
        if version.state != "approved":
            errors.append(((), problem("agreement.version_not_current", number=version.number)))
        return _form_page(plan, version, lines, values, errors, chosen=[line["index"] for line in lines])


@bp.route("/plani/<plan_id>/versijas/<int:number>/ligums", methods=["POST"])
def make(plan_id: str, number: int):
    """Store the agreement (numbered from the series) and show it; every problem at its field."""
    user = authorize("case:write")
    with database().session() as session:
        plan, version = _plan_version(session, plan_id, number)
        client = scope().get(session, Client, plan.client_id)
        lines = _plan_lines(version)
        raw, errors, chosen = read_form(request.form, lines)
        values = {name: request.form.get(name, "") for name, _ in FIELDS} | {
            key: request.form.get(key, "") for key in request.form if key.startswith("lines-")
        }
        if client.status == "closed":
            errors.insert(0, ((), problem("client.closed")))
        if errors:
            return _form_page(plan, version, lines, values, errors, 422, chosen)
        try:
            agreement = agreements.make(session, sealer(), user, version, raw)
        except ValidationError as exc:
            session.rollback()  # the number taken is given back
            placed = [(_placed(tuple(path), chosen), reason) for path, reason in flatten(exc.messages)]
            return _form_page(plan, version, lines, values, placed, 422, chosen)
        except CaseConflict as exc:
            session.rollback()
            placed = [(_placed(exc.path, chosen), exc.reason)]
            return _form_page(plan, version, lines, values, placed, 409, chosen)
        audit.record(session, user, "created", "agreement", agreement.id)
        agreement_id = agreement.id
    return redirect(url_for("web_agreements.agreement", agreement_id=agreement_id), 303)


def _agreement_page(
    session, agreement: Agreement, status: int = 200, errors=(), month: str = "", output="pdf"
):
    latest = agreement.versions[-1]
    data = AgreementDataSchema().load(agreements.body(latest, sealer()))
    received = session.scalars(
        scope()
        .select(Submission)
        .where(Submission.agreement_id == agreement.id)
        .order_by(Submission.month.desc(), Submission.received_at.desc())
    ).all()
    return page(
        "agreement.html",
        status,
        agreement=agreement,
        latest=latest,
        data=data,
        plan_id=agreement.plan_id,
        client_id=agreement.client_id,
        received=received,
        month=month,
        output=output,
        problems=page_problems(list(errors)),
    )


@bp.route("/ligumi/<agreement_id>", methods=["GET"])
def agreement(agreement_id: str):
    """One agreement: number, versions, lines, term and state; its documents and the month's act form."""
    user = authorize("case:read")
    with database().session() as session:
        found = scope().get(session, Agreement, agreement_id)
        audit.record(session, user, "read", "agreement", found.id)
        return _agreement_page(session, found)


@bp.route("/ligumi/<agreement_id>/versijas/<int:number>/dokuments", methods=["GET"])
def document(agreement_id: str, number: int):
    """A version's document: DOCX, or PDF with ``?formats=pdf`` (as the API's)."""
    user = authorize("case:read")
    output = "pdf" if request.args.get("formats") == "pdf" else "docx"
    with database().session() as session:
        found = scope().get(session, Agreement, agreement_id)
        versions = [version for version in found.versions if version.number == number]
        if not versions:
            raise NotFound()
        version = versions[0]
        values = AgreementDataSchema().load(agreements.body(version, sealer()))
        inputs = inputs_of(session, version)
        audit.record(session, user, "downloaded", "agreement_version", version.id)
    return stored_document(KIND, values, inputs, {"format": output}, f"v{number}")


def _month(text: str) -> Period:
    """The month typed (MM.YYYY. or YYYY-MM) as a period; ``InvalidInput`` otherwise."""
    first = human_input.read_month(text)
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return Period(first, following - dt.timedelta(days=1))


@bp.route("/ligumi/<agreement_id>/akts", methods=["GET"])
def act_form(agreement_id: str):
    """The month's fillable delivery act of the agreement (``?menesis=09.2020.&formats=pdf|docx``)."""
    user = authorize("render:delivery-act")
    text = request.args.get("menesis", "").strip() or request.args.get("izvele", "").strip()
    output = "docx" if request.args.get("formats") == "docx" else "pdf"
    with database().session() as session:
        found = scope().get(session, Agreement, agreement_id)
        try:
            month = _month(text) if text else None
        except human_input.InvalidInput as failed:
            return _agreement_page(session, found, 422, [(("month",), problem(failed.code))], text, output)
        if month is None:
            return _agreement_page(session, found, 422, [(("month",), problem("required"))], text, output)
        if outside := acts.month_problem(found, month):
            return _agreement_page(session, found, 422, [(("month",), outside)], text, output)
        raw, loaded = acts.blank(found, sealer())
        act = submissions.blank_act(raw, loaded, month)
        audit.record(session, user, "rendered", "form", found.id, outcome=output)
        name = f"Akts {safe_file_name(found.number)} {month.start:%Y-%m}.{output}"
    document = make_pdf_form(act) if output == "pdf" else make_docx_form(act)
    mimetype = PDF if output == "pdf" else DOCX
    return send_file(io.BytesIO(document), mimetype=mimetype, as_attachment=True, download_name=name)


def months_of(agreement: Agreement) -> list[dt.date]:
    """The first days of the months the agreement runs in (for the month's choice)."""
    last = agreement.ended_on or agreement.end
    months, day = [], agreement.start.replace(day=1)
    while day <= last and len(months) < 120:
        months.append(day)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


bp.add_app_template_global(months_of, "agreement_months")
