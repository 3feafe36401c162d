"""Delivery acts on stored agreements: the month's fillable act, matching an uploaded act to its agreement,
and accepting it against the client's budget.

An uploaded act names its agreement by number. When the municipality has stored that agreement, the
agreement carried inside the form must be one of its versions: each difference in the parties, the term or
the services (codes, quantities, prices, dates) is a problem at its path, and the act is refused. An act
whose number is not stored (yet) is kept unmatched; it is linked when the agreement is stored, and only
matched acts can be accepted.

Accepting counts the act's delivered services (:class:`DeliveredService`) against the period budget of the
plan in force (``service.cases.budget``): past the configured share it warns, past 100 % it is refused
unless an administrator overrides it with a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.agreement import AgreementSchema
from schemas.delivery import DeliveryActSchema
from schemas.errors import ErrorCollector, Problem, problem
from schemas.fields import Period
from service.auth import Principal
from service.cases import agreements, budget
from service.cases.errors import CaseConflict
from service.store import Sealer
from service.store.case_models import Agreement, AgreementVersion, DeliveredService
from service.store.models import Submission, utcnow
from service.submissions import pack_part

#: What of a service line must be the same in the form as in the stored agreement.
SERVICE_FACETS = ("code", "quantity", "unit_price", "start", "end")


def find(session: Session, municipality: str, number: str) -> Agreement | None:
    """The municipality's stored agreement with this number, if there is one."""
    return session.scalar(
        select(Agreement).where(Agreement.municipality == municipality, Agreement.number == number)
    )


def month_problem(agreement: Agreement, month: Period) -> Problem | None:
    """Why the agreement cannot have an act for ``month`` (outside its term, or after it ended)."""
    last = agreement.ended_on or agreement.end
    if month.end < agreement.start or month.start > last:
        return problem("act.month_outside", number=agreement.number, start=agreement.start, end=last)
    return None


def blank(agreement: Agreement, sealer: Sealer) -> tuple[dict, dict]:
    """The latest version of the agreement as stored (raw, to travel inside the form) and loaded."""
    raw = agreements.body(agreement.versions[-1], sealer)
    return raw, AgreementSchema().load(raw)


def differences(form: dict[str, Any], stored: dict[str, Any], number: str) -> list[tuple[tuple, Problem]]:
    """Where the loaded agreement of a form differs from a loaded stored version, each at its path."""
    found = []

    def differ(path: tuple, mine: Any, theirs: Any) -> None:
        if mine != theirs:
            found.append(
                (
                    ("agreement", *path),
                    problem("act.agreement_differs", number=number, form=mine, stored=theirs),
                )
            )

    for facet in ("registration_number", "name"):
        differ(("provider", facet), form["provider"][facet], stored["provider"][facet])
    if form["client"]["personal_code"] != stored["client"]["personal_code"]:
        found.append((("agreement", "client", "personal_code"), problem("act.client_differs", number=number)))
    differ(("client", "name"), form["client"]["name"], stored["client"]["name"])
    differ(("term", "start"), form["term"].start, stored["term"].start)
    differ(("term", "end"), form["term"].end, stored["term"].end)
    mine, theirs = form["services"], stored["services"]
    if len(mine) != len(theirs):
        found.append(
            (
                ("agreement", "services"),
                problem("act.service_count", number=number, form=len(mine), stored=len(theirs)),
            )
        )
    for index, (line, kept) in enumerate(zip(mine, theirs, strict=False)):
        for facet in SERVICE_FACETS:
            differ(("services", index, facet), line[facet], kept[facet])
    return found


@dataclass(frozen=True)
class Match:
    """The stored agreement an act reports on, and the number of the version its form carries."""

    agreement: Agreement
    version: int


def _versions(agreement: Agreement, sealer: Sealer) -> Iterator[tuple[AgreementVersion, dict]]:
    """The agreement's versions, newest first, each loaded."""
    for version in reversed(agreement.versions):
        yield version, AgreementSchema().load(agreements.body(version, sealer))


def _carried_version(
    agreement: Agreement, sealer: Sealer, carried: dict[str, Any]
) -> tuple[int | None, list[tuple[tuple, Problem]]]:
    """The number of the stored version the form carries, newest first, and no differences; or None
    and the differences from the latest version."""
    latest = None
    for version, stored in _versions(agreement, sealer):
        found = differences(carried, stored, agreement.number)
        if not found:
            return version.number, []
        latest = found if latest is None else latest
    return None, latest or []


def match(session: Session, sealer: Sealer, municipality: str, act: dict[str, Any]) -> Match | None:
    """The stored agreement of a loaded act: None when its number is not stored. Raises
    ``ValidationError`` with every difference from the latest version when the form carries none of
    the agreement's versions, or when the act's month or sessions fall where the agreement does not run."""
    number = act["agreement"]["number"]
    agreement = find(session, municipality, number)
    if agreement is None:
        return None
    errors = ErrorCollector()
    matched, first = _carried_version(agreement, sealer, act["agreement"])
    for path, reason in first:
        errors.add(path, reason)
    if outside := month_problem(agreement, act["month"]):
        errors.add(("month",), outside)
    if agreement.ended_on:
        for index, session_ in enumerate(act["sessions"]):
            if session_["date"] > agreement.ended_on:
                errors.add(("sessions", index, "date"), problem("act.after_end", date=agreement.ended_on))
    errors.raise_if_any()
    return Match(agreement, matched)


def link(submission: Submission, found: Match) -> None:
    submission.agreement_id = found.agreement.id
    submission.agreement_version = found.version
    submission.client_id = found.agreement.client_id


def loaded_act(submission: Submission, sealer: Sealer) -> dict[str, Any]:
    return DeliveryActSchema().load(sealer.open_json(submission.sealed, submission.seal_context()))


@dataclass(frozen=True)
class Acceptance:
    """An accepted act: the period budget it used (None when it was accepted before) and any warnings."""

    use: budget.PeriodUse | None
    warnings: list[Problem]


class BudgetExceeded(CaseConflict):
    """Accepting would take the client past the period budget; an administrator may override."""

    def __init__(self, use: budget.PeriodUse) -> None:
        super().__init__(
            (),
            problem(
                "budget.period_exceeded",
                after=use.after,
                budget=use.budget,
                percent=use.percent_after,
            ),
        )
        self.use = use


def accept(
    session: Session,
    sealer: Sealer,
    user: Principal,
    submission: Submission,
    *,
    warn_percent: int,
    override_reason: str | None = None,
) -> Acceptance:
    """Accept a received, matched act: its services count as delivered, and who accepted it is kept.

    Raises :class:`CaseConflict` for an unmatched act, an act that no longer matches its agreement, or an
    act with no plan in force for its month; :class:`BudgetExceeded` past 100 % of the period budget
    unless ``override_reason`` is given (the caller checks that the user may override).
    """
    if submission.status == "accepted":
        return Acceptance(None, [])
    if submission.status == "rejected":
        raise CaseConflict((), problem("act.rejected"))
    if submission.agreement_id is None:
        raise CaseConflict((), problem("act.unmatched", number=submission.agreement_number))
    act = loaded_act(submission, sealer)
    link(submission, match(session, sealer, submission.municipality, act))
    month = submission.month
    use = budget.period_use(session, submission.client_id, month, act["totals"]["amount"])
    if use is None:
        raise CaseConflict(("month",), problem("budget.no_plan", month=month))
    if use.over:
        if not override_reason:
            raise BudgetExceeded(use)
        submission.override_by = user.id
        submission.override_reason = sealer.seal_json(
            {"reason": override_reason}, submission.seal_context("override_reason")
        )
    submission.status, submission.accepted_at, submission.accepted_by = "accepted", utcnow(), user.id
    submission.part = sealer.seal_json(pack_part(act), submission.seal_context("part"))
    session.add_all(_delivered(submission, act))
    warnings = [problem("budget.near", percent=use.percent_after)] if use.warns(warn_percent) else []
    return Acceptance(use, warnings)


def reject(sealer: Sealer, user: Principal, submission: Submission, reason: str) -> None:
    """Send a received act back: status "rejected", who and when kept, ``reason`` sealed like an override's.

    Raises :class:`CaseConflict` for an accepted act (its services count already) or an empty reason; an
    act rejected before stays as it was.
    """
    if submission.status == "accepted":
        raise CaseConflict((), problem("act.accepted"))
    if not reason.strip():
        raise CaseConflict(("reason",), problem("act.reason_missing"))
    if submission.status == "rejected":
        return
    submission.status, submission.rejected_at, submission.rejected_by = "rejected", utcnow(), user.id
    submission.reject_reason = sealer.seal_json(
        {"reason": reason.strip()}, submission.seal_context("reject_reason")
    )


def reason_of(sealer: Sealer, submission: Submission) -> str:
    """Why the act was rejected (empty when it was not)."""
    if submission.reject_reason is None:
        return ""
    return sealer.open_json(submission.reject_reason, submission.seal_context("reject_reason"))["reason"]


def _delivered(submission: Submission, act: dict[str, Any]) -> list[DeliveredService]:
    return [
        DeliveredService(
            submission_id=submission.id,
            line=line,
            client_id=submission.client_id,
            agreement_id=submission.agreement_id,
            month=submission.month,
            code=service["code"],
            unit=service["unit"],
            units=service["actual"],
            amount=service["amount"],
        )
        for line, service in enumerate(
            (s for s in act["services"] if s["actual"] or s["amount"] != Decimal("0.00")), start=1
        )
    ]
