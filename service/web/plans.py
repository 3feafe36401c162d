"""The plan editor: start a plan for a client, edit its draft in one form, save it, approve it, preview it.

The views call what the API calls (``service.cases.plans``), with the same scope, permissions and audit
entries. The draft's revision travels in the hidden ``_revision`` field: when someone else saved in
between, the page shows where the two differ and keeps what was typed (``service.cases.changes``).
Rows are added and removed by submit buttons (``action=add:services``, ``remove:services:2``), so the
form works without JavaScript; ``plans.js`` does the same in the page when it runs.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from functools import cache
from typing import Any

from flask import Blueprint, Response, redirect, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from schemas import catalogue
from schemas.errors import flatten, problem
from schemas.plan import SupportPlanSchema, draft_figures
from service import audit
from service.auth import authorize, scope
from service.cases import changes, plans
from service.cases.errors import CaseConflict
from service.documents import converters, pdf, templates
from service.documents.inputs import inputs_on
from service.documents.labels import STANDARD_LABELS, load_labels
from service.documents.page_image import first_page_png
from service.store import blobs, database, sealer
from service.store.case_models import Client, Plan
from service.web import plan_form
from service.web.base import (
    PageProblem,
    _,
    field_id,
    money,
    page,
    page_problems,
    page_url,
    problems_at,
)

bp = Blueprint("web_plans", __name__)

REVISION = "_revision"
ACTION = "action"


@cache
def _labels() -> dict[str, dict[str, str]]:
    return load_labels(STANDARD_LABELS)


def service_options(day: dt.date | None) -> list[tuple[str, str]]:
    """The catalogue as a pick-list: "APLP — atbalsta personas pakalpojums (stunda, 12,50 €)"."""
    day = day or dt.date.today()
    options = []
    for code, service in catalogue.default().services.items():
        tariff = service.tariff(day)
        price = money(tariff) if tariff is not None else _("no tariff")
        options.append((code, f"{code} — {service.name} ({service.unit.name}, {price})"))
    return options


def _tariff_day(raw: dict[str, Any]) -> dt.date | None:
    for value in ((raw.get("period") or {}).get("start"), raw.get("date")):
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            continue
    return None


def _fill_units(raw: dict[str, Any]) -> None:
    """A service row whose unit was left empty gets the catalogue's unit of its service."""
    for line in raw.get("services") or []:
        if isinstance(line, dict) and line.get("code") and not line.get("unit"):
            found = catalogue.default().service(line["code"])
            if found is not None:
                line["unit"] = found.unit.name


def _open_client(session, plan: Plan) -> Client:
    return scope().get(session, Client, plan.client_id)


def _editor_page(
    plan: Plan,
    client: Client,
    raw: dict[str, Any],
    found: list,
    *,
    status: int = 200,
    notice: str = "",
    refused: bool = False,
    focus: str = "",
    preview: bool = False,
):
    """The editor showing ``raw``: draft problems as a list (``found``), or as the error summary when
    an approval was ``refused``."""
    shown = page_problems(plan_form.problems(raw, found))
    named = [replace(item, message=_named(item)) for item in shown]
    values, counts = plan_form.encode(raw)
    return page(
        "plans/editor.html",
        status,
        plan=plan,
        client=client,
        spec=plan_form.PLAN,
        values=values,
        counts=counts,
        labels=_labels(),
        services=service_options(_tariff_day(raw)),
        figures=draft_figures(raw),
        problems=named if refused else [],
        errors_at=problems_at(shown),
        draft_problems=[] if refused else named,
        notice=notice,
        focus=focus,
        preview=preview,
        row_patterns=[(".".join(map(str, pattern)), rows) for pattern, rows in plan_form.list_paths()],
        revision=plan.draft_revision,
        client_url=page_url("web_clients.client", client_id=client.id),
    )


def _named(item: PageProblem) -> str:
    """The message with the place it is about, for the lists of problems: "3. pakalpojums › Apjoms: …"."""
    place = " › ".join(
        _(label).format(n=number) if number else _(label)
        for label, number in plan_form.label_parts(item.path)
    )
    return f"{place}: {item.message}" if place else item.message


@bp.route("/klienti/<client_id>/plani", methods=["POST"])
def start(client_id: str):
    """A plan for the client (its draft from the client record), or a new draft of its plan from the
    latest version; then the editor."""
    user = authorize("case:write")
    with database().session() as session:
        client = scope().get(session, Client, client_id)
        if client.status == "closed":
            return page("error.html", 409, heading=_("The case is closed"), detail=_closed())
        existing = session.scalars(
            scope().select(Plan).where(Plan.client_id == client.id).order_by(Plan.created_at.desc())
        ).first()
        if existing is None:
            plan = plans.start(session, sealer(), user, client)
            audit.record(session, user, "created", "plan", plan.id)
        else:
            plan = existing
            if plan.draft is None:
                draft = plans.redraft(plan, sealer(), user)
                audit.record(
                    session, user, "saved", "plan", plan.id, detail={"problems": len(draft.problems)}
                )
        plan_id = plan.id
    return redirect(url_for("web_plans.editor", plan_id=plan_id), 303)


def _closed() -> str:
    return page_problems([((), problem("client.closed"))])[0].message


@bp.route("/plani/<plan_id>", methods=["GET", "POST"])
def editor(plan_id: str):
    """The draft in one form; a post saves it (also when a row is added or removed) or approves it."""
    if request.method == "POST":
        return _post(plan_id)
    user = authorize("case:read")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        client = _open_client(session, plan)
        audit.record(session, user, "read", "plan", plan.id)
        draft = plans.draft(plan, sealer())
        notice = ""
        if request.args.get("apstiprinats"):
            notice = _("The plan is approved as version {number}.").format(number=plan.latest_version)
        if draft is None:
            return page("plans/no_draft.html", plan=plan, client=client, notice=notice)
        return _editor_page(
            plan, client, draft.raw, draft.problems, notice=notice, preview=bool(request.args.get("skats"))
        )


def _post(plan_id: str):
    user = authorize("case:write")
    form = request.form
    action = form.get(ACTION, "save")
    if action == "approve":
        authorize("plan:approve")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        client = _open_client(session, plan)
        if client.status == "closed":  # nothing is saved, and what was typed stays on the page
            typed = plan_form.decode(form)
            closed = [((), problem("client.closed"))]
            return _editor_page(plan, client, typed, closed, status=409, refused=True)
        stored = plans.draft(plan, sealer())
        if stored is None and not plan.versions:
            return page("plans/no_draft.html", 409, plan=plan, client=client)
        raw = plan_form.decode(form)
        _fill_units(raw)
        current = form.get(REVISION, "") == str(plan.draft_revision)
        if not current or (stored is None and action != "save"):
            # someone saved or approved in between: nothing is saved, what was typed stays on the page
            audit.record(session, user, "read", "plan", plan.id)
            theirs = stored.raw if stored else plans.version_data(plan.versions[-1], sealer())["plan"]
            return _conflict_page(plan, client, raw, theirs, form, approved=stored is None)
        if stored is None:  # "save mine" after an approval: a new draft from the version, then mine
            plans.redraft(plan, sealer(), user)
        done = plan_form.apply_action(raw, action) if action.startswith(("add:", "remove:")) else None
        draft = plans.save(plan, sealer(), user, raw)
        audit.record(session, user, "saved", "plan", plan.id, detail={"problems": len(draft.problems)})
        if done is not None:
            return _row_page(plan, client, draft, done)
        if action != "approve":
            return _editor_page(plan, client, raw, draft.problems, notice=_("Draft saved"))
        try:
            version = plans.approve(session, sealer(), user, plan, client, templates(), blobs())
        except ValidationError as refused:
            return _editor_page(plan, client, raw, flatten(refused.messages), status=422, refused=True)
        except CaseConflict as conflict:
            return _editor_page(plan, client, raw, [((), conflict.reason)], status=409, refused=True)
        audit.record(session, user, "approved", "plan", plan.id, sha256=version.document_sha256)
        number = version.number
        client_id = client.id
    target = page_url("web_clients.client", client_id=client_id)
    if target:
        return redirect(target, 303)
    return redirect(url_for("web_plans.editor", plan_id=plan_id, apstiprinats=number), 303)


def _row_page(plan: Plan, client: Client, draft: plans.Draft, done: tuple):
    verb, path, index = done
    rows = plan_form.row_description(path)
    number = index + 1
    if verb == "add":
        announce = _("{row} added.").format(row=_(rows.row_label).format(n=number))
        row_path = (*path, index)
        first = rows.item if rows.item is not None else rows.fields[0]
        focus = field_id((*row_path, first.name) if first.name else row_path)
    else:
        announce = _("{row} removed.").format(row=_(rows.row_label).format(n=number))
        focus = "add-" + field_id(path)
    notice = _("Draft saved") + ". " + announce
    return _editor_page(plan, client, draft.raw, draft.problems, notice=notice, focus=focus)


def _conflict_page(
    plan: Plan, client: Client, mine: dict, stored: dict, form: MultiDict, *, approved: bool = False
):
    differences = []
    for item in changes.raw_differences(mine, stored):
        differences.append(
            {
                "place": item["path"].lstrip("/").replace("/", " › "),
                "yours": _plain(item["yours"]),
                "stored": _plain(item["stored"]),
            }
        )
    kept = [
        (name, value)
        for name, value in form.items(multi=True)
        if name not in ("csrf_token", ACTION, REVISION)
    ]
    return page(
        "plans/conflict.html",
        409,
        plan=plan,
        client=client,
        differences=differences,
        kept=kept,
        approved=approved,
        revision=plan.draft_revision,
    )


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@bp.route("/plani/<plan_id>/prieksskatijums.png", methods=["GET"])
def preview(plan_id: str):
    """The draft's first page as a PNG, rendered as its approved document would be."""
    user = authorize("case:read")
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        client = _open_client(session, plan)
        draft = plans.draft(plan, sealer())
        if draft is None:
            return page("plans/no_draft.html", 404, plan=plan, client=client)
        try:
            values = SupportPlanSchema().load(draft.raw)
        except ValidationError:
            return page(  # a page that says why, not an error: the draft is there, it is not finished
                "plans/no_preview.html",
                200,
                plan=plan,
                detail=_("The draft still has problems; a preview is shown once it has none."),
            )
        inputs = inputs_on(session, plan.municipality, plans.KIND, values["date"])
        audit.record(session, user, "read", "plan", plan.id, detail={"preview": True})
    document = templates().render(plans.KIND, values, inputs)
    try:
        picture = first_page_png(converters().convert(document, pdfa=False))
    except pdf.ConversionError:
        return page(
            "plans/no_preview.html",
            503,
            plan=plan,
            detail=_("The preview cannot be made just now; try again in a minute."),
        )
    response = Response(picture, mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response
