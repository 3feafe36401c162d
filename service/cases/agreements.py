"""Service agreements made from an approved plan version and stored: numbered from the municipality's
series when stored, amended as versions under the same number, or ended early.

The request names the agreement's own parts (parties, decision, lines of the plan to contract); the
plan is the stored version's, put in by the service, so an agreement always rests on what was approved.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import update
from sqlalchemy.orm import Session

from schemas.agreement import AgreementSchema
from schemas.errors import problem
from schemas.fields import Date
from service.auth import Principal
from service.cases import plans
from service.cases.errors import CaseConflict
from service.cases.numbering import next_number
from service.documents import KINDS
from service.documents.inputs import inputs_on
from service.documents.municipal import settings_on
from service.store import Sealer
from service.store.case_models import Agreement, AgreementVersion, ContractedService, PlanVersion
from service.store.models import Submission, new_id

KIND = "service-agreement"
#: The series of a municipality that ``municipalities.toml`` does not list.
DEFAULT_SERIES = "L-{year}/{seq:03}"


def _with_plan(raw: dict[str, Any], version: PlanVersion, sealer: Sealer, number: str) -> dict[str, Any]:
    """The agreement as the schema reads it: ``raw`` with the stored plan put into ``from_plan``."""
    whole = copy.deepcopy(raw)
    whole["number"] = number
    whole.setdefault("from_plan", {})
    if isinstance(whole["from_plan"], dict):
        whole["from_plan"]["plan"] = plans.version_data(version, sealer)["plan"]
    return whole


def _day(raw: dict[str, Any]) -> dt.date:
    """The agreement's date, for its number's year (today when it is not a date: validation says why)."""
    try:
        return Date().deserialize(raw.get("date"))
    except ValidationError:  # the schema reports the broken date with the rest
        return dt.date.today()


def _current(version: PlanVersion) -> None:
    if version.state != "approved":
        raise CaseConflict((), problem("agreement.version_not_current", number=version.number))


def make(
    session: Session, sealer: Sealer, user: Principal, version: PlanVersion, raw: dict[str, Any]
) -> Agreement:
    """A new agreement from the approved ``version``: numbered, validated (``ValidationError`` with every
    problem), stored with its first version and lines; earlier acts with its number are linked to it."""
    _current(version)
    day = _day(raw)
    settings = settings_on(session, user.municipality, day)
    pattern = settings.municipality.agreement_series if settings else DEFAULT_SERIES
    number = next_number(session, user.municipality, pattern, day)
    whole = _with_plan(raw, version, sealer, number)
    values = AgreementSchema().load(whole)
    agreement = Agreement(
        id=new_id(),
        municipality=user.municipality,
        client_id=version.client_id,
        plan_id=version.plan_id,
        number=number,
        provider=values["provider"]["registration_number"],
        start=values["term"].start,
        end=values["term"].end,
        latest_version=0,
        revision=0,
        created_by=user.id,
    )
    session.add(agreement)
    _add_version(session, agreement, version, sealer, user, whole, values)
    session.flush()
    session.execute(
        update(Submission)
        .where(
            Submission.municipality == user.municipality,
            Submission.agreement_number == number,
            Submission.agreement_id.is_(None),
        )
        .values(agreement_id=agreement.id, client_id=agreement.client_id, agreement_version=1)
    )
    return agreement


def amend(
    session: Session,
    sealer: Sealer,
    user: Principal,
    agreement: Agreement,
    version: PlanVersion,
    raw: dict[str, Any],
) -> AgreementVersion:
    """A new version of the agreement under the same number, from ``raw`` and the approved ``version``."""
    _current(version)
    if agreement.state != "active":
        raise CaseConflict((), problem("agreement.ended"))
    whole = _with_plan(raw, version, sealer, agreement.number)
    values = AgreementSchema().load(whole)
    agreement.start, agreement.end = values["term"].start, values["term"].end
    added = _add_version(session, agreement, version, sealer, user, whole, values)
    session.flush()
    return added


def end(agreement: Agreement, sealer: Sealer, on: dt.date, reason: str) -> None:
    """End the agreement early on ``on`` for ``reason`` (kept sealed)."""
    if agreement.state != "active":
        raise CaseConflict((), problem("agreement.ended"))
    if not agreement.start <= on <= agreement.end:
        raise CaseConflict(
            ("date",), problem("agreement.end_outside", start=agreement.start, end=agreement.end)
        )
    agreement.state, agreement.ended_on = "ended", on
    agreement.end_reason = sealer.seal_json({"reason": reason}, agreement.seal_context("end_reason"))
    agreement.revision += 1


def body(version: AgreementVersion, sealer: Sealer) -> dict[str, Any]:
    """The agreement as stored in ``version`` (the plan inside)."""
    return sealer.open_json(version.sealed, version.seal_context())


def _add_version(
    session: Session,
    agreement: Agreement,
    plan_version: PlanVersion,
    sealer: Sealer,
    user: Principal,
    whole: dict,
    values: dict,
) -> AgreementVersion:
    version = AgreementVersion(
        id=new_id(),
        municipality=agreement.municipality,
        plan_version_id=plan_version.id,
        number=agreement.latest_version + 1,
        start=values["term"].start,
        end=values["term"].end,
        total=values["totals"]["total"],
        created_by=user.id,
        services=[
            ContractedService(
                line=line,
                code=service["code"],
                unit=service["unit"],
                quantity=service["quantity"],
                unit_price=service["unit_price"],
                amount=service["amount"],
                start=service["start"],
                end=service["end"],
            )
            for line, service in enumerate(values["services"], start=1)
        ],
        **inputs_on(session, agreement.municipality, KINDS[KIND], values["date"]).record(),
    )
    version.sealed = sealer.seal_json(whole, version.seal_context())
    agreement.versions.append(version)
    agreement.latest_version, agreement.revision = version.number, agreement.revision + 1
    return version
