"""The clients: the list (50 a page, by name the Latvian way, found by name or personal code), a client's
page (details, plan versions and what changed between two, agreements, acts, the budget as a chart and a
table), and a plan version's document.

Names are sealed, so the list is ordered by :class:`service.cases.client_order.NameOrder` (the
municipality's ids in name order, kept in the process and checked against a change marker); only the 50
shown are opened. A search is audited as "searched" with the number found, never the query; a client's
page as a "read". Reviewers may not read cases: 403.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, abort, current_app, request
from marshmallow import ValidationError
from sqlalchemy import select

from schemas.errors import flatten
from schemas.plan import SupportPlanSchema
from service import audit
from service.api.documents import stored_document
from service.auth import authorize, scope
from service.cases import changes, clients, plans
from service.cases.budget import KINDS, client_budget
from service.cases.client_order import NameOrder
from service.documents.inputs import inputs_of
from service.documents.labels import STANDARD_LABELS, load_labels
from service.i18n import translate
from service.store import database, sealer
from service.store.case_models import Agreement, Client, Plan, PlanVersion
from service.store.models import Submission
from service.web import budget_chart
from service.web.base import lang, page, page_problems, user

bp = Blueprint("web_clients", __name__)

PAGE_SIZE = 50
ORDER = "veidlapas.client_order"


def name_order() -> NameOrder:
    """The application's :class:`NameOrder` (one per application, so per database)."""
    return current_app.extensions.setdefault(ORDER, NameOrder())


def page_number() -> int:
    """The list page asked for (``?lapa=``), 1 for anything that is not a page number."""
    raw = request.args.get("lapa", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


@bp.route("/klienti", methods=["GET"], endpoint="clients")
def clients_list():
    """The municipality's clients by name; ``q`` finds a personal code or names by their words' beginnings."""
    found_user = authorize("case:read")
    query = request.args.get("q", "").strip()[:100]
    number = page_number()
    problems = []
    with database().session() as session:
        order = name_order().ids(session, sealer(), found_user.municipality)
        if query:
            try:
                statement = clients.found_ids(scope(), sealer(), query, every_word=True)
            except ValidationError as refused:
                problems = page_problems(flatten(refused.messages))
                statement = None
            if statement is None:
                ids: list[str] = []
            else:
                matching = set(session.scalars(statement))
                ids = [id_ for id_ in order if id_ in matching]
                audit.record(
                    session, found_user, "searched", "client", detail={"found": len(ids), "query": True}
                )
        else:
            ids = order
        pages = max(1, -(-len(ids) // PAGE_SIZE))
        number = min(number, pages)
        shown = ids[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        rows = {
            client.id: client
            for client in session.scalars(scope().select(Client).where(Client.id.in_(shown)))
        }
        listed = [row_of(rows[id_]) for id_ in shown if id_ in rows]
    return page(
        "clients.html",
        422 if problems else 200,
        problems=problems,
        query=query,
        listed=listed,
        total=len(ids),
        number=number,
        pages=pages,
    )


def row_of(client: Client) -> dict[str, Any]:
    person = clients.data(sealer(), client)
    return {
        "id": client.id,
        "name": person["name"],
        "personal_code": person["personal_code"],
        "status": client.status,
        "target_group": client.target_group,
    }


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 6 else None


def compared(plan_rows: list[Plan]) -> dict[str, Any] | None:
    """The difference the page was asked for (``?plans=&no=&lidz=``): the plan, both numbers, the lines
    in the page's language, or the problem when a version is not there."""
    plan_id = request.args.get("plans", "")
    if not plan_id:
        return None
    plan = next((row for row in plan_rows if row.id == plan_id), None)
    before, after = _int_arg("no"), _int_arg("lidz")
    versions = {version.number: version for version in plan.versions} if plan else {}
    if plan is None or before not in versions or after not in versions:
        return {"plan_id": plan_id, "before": before, "after": after, "lines": None}
    old, new = (
        SupportPlanSchema().load(plans.version_data(versions[number], sealer())["plan"])
        for number in (before, after)
    )
    lines = [translate(change.message, lang())[1] for change in changes.changes(old, new)]
    return {"plan_id": plan_id, "before": before, "after": after, "lines": lines}


@bp.route("/klienti/<client_id>", methods=["GET"])
def client(client_id: str):
    """One client: details, plans and their versions, agreements, acts, budget; audited as a read."""
    found_user = authorize("case:read")
    with database().session() as session:
        row = scope().get(session, Client, client_id)
        person = clients.data(sealer(), row)
        plan_rows = list(
            session.scalars(scope().select(Plan).where(Plan.client_id == row.id).order_by(Plan.created_at))
        )
        difference = compared(plan_rows)
        agreements = list(
            session.scalars(
                scope().select(Agreement).where(Agreement.client_id == row.id).order_by(Agreement.start)
            )
        )
        acts = list(
            session.execute(
                scope()
                .select(Submission)
                .where(Submission.client_id == row.id)
                .with_only_columns(
                    Submission.id, Submission.month, Submission.status, Submission.agreement_number
                )
                .order_by(Submission.month.desc(), Submission.received_at.desc())
            )
        )
        budget = client_budget(session, row.id, None, current_app.config["BUDGET_WARN_PERCENT"])
        detail = {"compared": [difference["before"], difference["after"]]} if difference else None
        audit.record(session, found_user, "read", "client", row.id, detail=detail)
        plan_views = [
            {
                "id": plan.id,
                "versions": [version_view(version) for version in plan.versions],
                "draft": plan.draft is not None,
                "draft_problems": plan.draft_problems,
                "draft_updated_at": plan.draft_updated_at,
            }
            for plan in plan_rows
        ]
        values = {
            "client": {
                "id": row.id,
                "status": row.status,
                "closed_on": row.closed_on,
                "target_group": row.target_group,
            },
            "person": person,
            "plans": plan_views,
            "difference": difference,
            "agreements": [
                {
                    "id": a.id,
                    "number": a.number,
                    "state": a.state,
                    "start": a.start,
                    "end": a.end,
                    "ended_on": a.ended_on,
                }
                for a in agreements
            ],
            "acts": [dict(act._mapping) for act in acts],
        }
    return page(
        "client.html",
        **values,
        budget=budget,
        chart=budget_chart.chart(budget),
        kinds=KINDS,
        may_write=user().may("case:write"),
        target_group=labels().get("target_group", {}).get(values["client"]["target_group"], ""),
    )


@cache
def labels() -> dict[str, dict[str, str]]:
    """The Latvian wording of the codes (``templates_lv/labels.toml``)."""
    return load_labels(STANDARD_LABELS)


def version_view(version: PlanVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "state": version.state,
        "plan_number": version.plan_number,
        "period_start": version.period_start,
        "period_end": version.period_end,
        "monthly_budget": version.monthly_budget,
        "period_budget": version.period_budget,
        "approved_at": version.approved_at.date(),
    }


@bp.route("/plani/<plan_id>/versijas/<int:number>/dokuments", methods=["GET"])
def plan_document(plan_id: str, number: int):
    """A plan version's document made again with the inputs it was made with: DOCX, or PDF with
    ``?formats=pdf`` (``?format=pdf`` too); audited as a download."""
    found_user = authorize("case:read")
    output = request.args.get("formats") or request.args.get("format") or "docx"
    if output not in ("docx", "pdf"):
        abort(400)
    with database().session() as session:
        plan = scope().get(session, Plan, plan_id)
        version = session.scalar(
            select(PlanVersion).where(PlanVersion.plan_id == plan.id, PlanVersion.number == number)
        )
        if version is None:
            abort(404)
        values = SupportPlanSchema().load(plans.version_data(version, sealer())["plan"])
        inputs = inputs_of(session, version)
        audit.record(session, found_user, "downloaded", "plan_version", version.id)
    return stored_document(plans.KIND, values, inputs, {"format": output}, f"v{number}")
