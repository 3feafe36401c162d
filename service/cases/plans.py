"""Support plans over their versions: one draft kept whatever it holds, approved into numbered versions.

Saving stores the draft as typed (sealed), valid or not, and says what is wrong with it in the same
codes and paths as validation; nothing a person typed is lost. Approving validates in full, freezes the
draft as the next version (its budget and services also in the clear, for budgets and due work),
renders and registers its document, and marks the version before it superseded. A new draft starts
from the latest version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from schemas.errors import ErrorCollector, Problem, flatten, problem
from schemas.plan import SupportPlanSchema
from service.auth import Principal
from service.cases import clients
from service.cases.errors import CaseConflict
from service.documents import KINDS, Templates
from service.documents.inputs import inputs_on
from service.register import register
from service.store import BlobStore, Sealer
from service.store.case_models import Client, Plan, PlannedService, PlanVersion
from service.store.models import new_id, utcnow

KIND = KINDS["support-plan"]
#: The client's fields a new plan takes from the client record.
CLIENT_FIELDS = (
    "name",
    "personal_code",
    "birth_date",
    "declared_address",
    "actual_address",
    "phone",
    "email",
    "target_group",
)


@dataclass(frozen=True)
class Draft:
    """A plan's draft opened: what was typed, and what is wrong with it (empty when it would approve)."""

    raw: dict[str, Any]
    problems: list[tuple[tuple, Problem]]


def problems_of(raw: Any) -> list[tuple[tuple, Problem]]:
    """Every problem the plan schema finds in ``raw``, as (path, problem)."""
    try:
        SupportPlanSchema().load(raw)
    except ValidationError as exc:
        return flatten(exc.messages)
    return []


def start(session: Session, sealer: Sealer, user: Principal, client: Client) -> Plan:
    """A new plan for ``client`` whose draft holds what the client record says about the client."""
    person = clients.data(sealer, client)
    raw: dict[str, Any] = {"client": {key: person[key] for key in CLIENT_FIELDS if key in person}}
    if person.get("representatives"):
        raw["representative"] = person["representatives"][0]
    plan = Plan(
        id=new_id(),
        municipality=client.municipality,
        client_id=client.id,
        created_by=user.id,
        draft_revision=0,
        latest_version=0,
    )
    session.add(plan)
    save(plan, sealer, user, raw)
    session.flush()
    return plan


def save(plan: Plan, sealer: Sealer, user: Principal, raw: Any) -> Draft:
    """Keep ``raw`` as the plan's draft (whatever it holds) and say what is wrong with it."""
    if plan.draft is None:
        plan.draft_base = plan.latest_version
    found = problems_of(raw)
    plan.draft = sealer.seal_json(raw, plan.seal_context("draft"))
    plan.draft_revision += 1
    plan.draft_problems = len(found)
    plan.draft_updated_at, plan.draft_updated_by = utcnow(), user.id
    return Draft(raw, found)


def draft(plan: Plan, sealer: Sealer) -> Draft | None:
    """The plan's draft with its problems, or None when it has none."""
    if plan.draft is None:
        return None
    raw = sealer.open_json(plan.draft, plan.seal_context("draft"))
    return Draft(raw, problems_of(raw))


def redraft(plan: Plan, sealer: Sealer, user: Principal) -> Draft:
    """A new draft from the latest version; :class:`CaseConflict` if there is a draft already."""
    if plan.draft is not None:
        raise CaseConflict((), problem("plan.draft_exists"))
    if not plan.versions:
        raise CaseConflict((), problem("plan.no_version"))
    return save(plan, sealer, user, version_data(plan.versions[-1], sealer)["plan"])


def version_data(version: PlanVersion, sealer: Sealer) -> dict[str, Any]:
    """A version's sealed body: ``{"plan": the plan as approved, "note": why it changed}``."""
    return sealer.open_json(version.sealed, version.seal_context())


def approve(
    session: Session,
    sealer: Sealer,
    user: Principal,
    plan: Plan,
    client: Client,
    templates: Templates,
    blobs: BlobStore | None,
    note: str = "",
) -> PlanVersion:
    """Freeze the draft as the next version: validated in full (``ValidationError``), the plan's client
    the case's client, rendered and registered; the version before it becomes superseded."""
    opened = draft(plan, sealer)
    if opened is None:
        raise CaseConflict((), problem("plan.no_draft"))
    values = SupportPlanSchema().load(opened.raw)
    if clients.code_tag(sealer, values["client"]["personal_code"]) != client.code_tag:
        errors = ErrorCollector()
        errors.add(("client", "personal_code"), problem("plan.other_client"))
        errors.raise_if_any()
    for earlier in plan.versions:
        if earlier.state == "approved":
            earlier.state = "superseded"
    inputs = inputs_on(session, plan.municipality, KIND, values["date"])
    version = PlanVersion(
        id=new_id(),
        municipality=plan.municipality,
        client_id=plan.client_id,
        number=plan.latest_version + 1,
        plan_number=values["number"],
        period_start=values["period"].start,
        period_end=values["period"].end,
        review_date=values.get("review_date"),
        monthly_budget=values["budget"]["monthly"],
        period_budget=values["budget"]["period"],
        approved_by=user.id,
        edited_by=plan.draft_updated_by,
        services=[_planned(line, service) for line, service in enumerate(values["services"], start=1)],
        **inputs.record(),
    )
    version.sealed = sealer.seal_json({"plan": opened.raw, "note": note}, version.seal_context())
    document = templates.render(KIND, values, inputs)
    entry = register(session, user, KIND.name, f"{KIND.file_name(values)}.docx", document, blobs, inputs)
    version.document_id, version.document_sha256 = entry.id, entry.sha256
    plan.versions.append(version)
    plan.latest_version, plan.review_date = version.number, version.review_date
    plan.draft, plan.draft_problems = None, 0
    plan.draft_revision += 1
    session.flush()
    return version


def _planned(line: int, service: dict[str, Any]) -> PlannedService:
    return PlannedService(
        line=line,
        code=service["code"],
        unit=service["unit"],
        quantity=service["quantity"],
        unit_price=service["unit_price"],
        amount=service["amount"],
        start=service["start"],
        end=service["end"],
    )
