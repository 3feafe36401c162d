"""Individuālais atbalsta plāns (IAP): the individual support plan, its rules and derived figures.

``SupportPlanSchema().load(data)`` checks every field group of DOMAIN.md §1 and the cross-field rules
that apply to a plan, and returns plain dicts with the derived figures filled in: each service line's
name, unit price (the tariff in force when none is given), unit forms and amount; the client's birth
date; the signing date (the plan's date unless given); and ``totals``: the planned total of the
busiest calendar month (see :func:`peak_month`) and the budget left in it. Templates only format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, post_load, validates_schema

from schemas import personal_code
from schemas.base import Strict
from schemas.errors import ErrorCollector, problem
from schemas.fields import Boolean, Choice, Date, Email, List, Money, Nested, Period, PeriodField, Phone, Text
from schemas.lines import ServiceLineSchema, check_service_group
from schemas.parties import (
    ClientSchema,
    LegalCapacitySchema,
    Name,
    OfficialSchema,
    Paragraph,
    RepresentativeSchema,
    SocialServiceSchema,
    birth_date,
    check_age,
    check_representation,
)


class ProjectSchema(Strict):
    name = Text(required=True, max_length=200)
    number = Text(required=True, max_length=40)


class DisabilitySchema(Strict):
    group = Choice(("I", "II", "III", "child"), required=True)
    opinion_number = Text(required=True, max_length=40, metadata={"description": "VDEĀVK atzinums"})
    opinion_date = Date(required=True)
    valid_until = Date(metadata={"description": "Empty when granted without a term."})
    special_care = Boolean(load_default=False)


class SupportPersonSchema(Strict):
    name = Name(required=True)
    organisation = Text(max_length=160)
    phone = Phone()
    email = Email()


class FunctioningAreaSchema(Strict):
    area = Text(required=True, max_length=120)
    assessment = Paragraph(required=True)
    support_needed = Paragraph(required=True)


class NeedsAssessmentSchema(Strict):
    date = Date(required=True)
    assessor = Text(required=True, max_length=160)
    strengths = Paragraph(required=True)
    what_matters = Paragraph(required=True)
    functioning_areas = List(Nested(FunctioningAreaSchema), required=True, min_length=1, max_length=20)


class BudgetSchema(Strict):
    support_level = Text(required=True, max_length=40)
    monthly = Money(required=True, positive=True)
    period = Money(required=True, positive=True)


class ShortTermGoalSchema(Strict):
    id = Text(required=True, max_length=10)
    goal = Paragraph(required=True, max_length=1000)
    indicator = Paragraph(required=True, max_length=1000)
    deadline = Date(required=True)


class GoalSchema(Strict):
    id = Text(required=True, max_length=10)
    long_term = Paragraph(required=True, max_length=1000)
    short_term = List(Nested(ShortTermGoalSchema), required=True, min_length=1, max_length=20)


class PlanServiceLineSchema(ServiceLineSchema):
    """One row of the services table: a catalogue service for a short-term goal, from a provider."""

    goal = Text(required=True, max_length=10, metadata={"description": "A short-term goal id."})
    provider = Text(required=True, max_length=160)


class SupportNetworkSchema(Strict):
    name = Name(required=True)
    relation = Text(required=True, max_length=80)
    support = Paragraph(required=True, max_length=1000)


class RiskSchema(Strict):
    risk = Paragraph(required=True, max_length=1000)
    measures = Paragraph(required=True, max_length=1000)


class SignaturesSchema(Strict):
    date = Date(metadata={"description": "Signing date; the plan's date when not given."})
    social_worker = Nested(OfficialSchema, required=True)


class TotalsSchema(Strict):
    monthly = Money(dump_only=True)
    budget_left = Money(dump_only=True)


class SupportPlanSchema(Strict):
    """The whole support plan."""

    number = Text(required=True, max_length=40)
    date = Date(required=True)
    place = Text(required=True, max_length=80)
    programme = Choice(("ibm", "di"), required=True)
    project = Nested(ProjectSchema, required=True)
    social_service = Nested(SocialServiceSchema, required=True)
    client = Nested(ClientSchema, required=True)
    disability = Nested(DisabilitySchema, required=True)
    legal_capacity = Nested(LegalCapacitySchema, required=True)
    representative = Nested(RepresentativeSchema)
    support_person = Nested(SupportPersonSchema)
    needs_assessment = Nested(NeedsAssessmentSchema, required=True)
    budget = Nested(BudgetSchema, required=True)
    goals = List(Nested(GoalSchema), required=True, min_length=1, max_length=20)
    services = List(Nested(PlanServiceLineSchema), required=True, min_length=1, max_length=60)
    support_network = List(Nested(SupportNetworkSchema), load_default=list, max_length=30)
    risks = List(Nested(RiskSchema), load_default=list, max_length=30)
    commitments = List(Paragraph(max_length=1000), load_default=list, max_length=30)
    period = PeriodField(required=True)
    review_date = Date(required=True)
    signatures = Nested(SignaturesSchema, required=True)
    totals = Nested(TotalsSchema, dump_only=True)

    @validates_schema(skip_on_field_errors=False)
    def _check_rules(self, data: dict[str, Any], **kwargs) -> None:
        errors = ErrorCollector()
        period = data.get("period")
        client = data.get("client")
        born = birth_date(client, ("client",), errors) if client else None
        representative = data.get("representative")
        if representative:
            birth_date(representative, ("representative",), errors)
        if born and period and client.get("target_group"):
            check_age(client["target_group"], born, period.start, ("client", "target_group"), errors)
        if born and period:
            check_representation(data, born, period.start, errors)
        if period:
            _check_dates(data, period, errors)
        group = (client or {}).get("target_group")
        for index, line in enumerate(data.get("services") or []):
            check_service_group(line.get("code"), group, ("services", index, "code"), errors)
        budget = (data.get("budget") or {}).get("monthly")
        if period and budget is not None and _all_lines_loaded(data):
            month, total = peak_month(data["services"], period)
            if total > budget:
                errors.add(
                    ("services",), problem("budget.monthly_exceeded", month=month, total=total, budget=budget)
                )
        errors.raise_if_any()

    @post_load
    def _derive(self, data: dict[str, Any], **kwargs) -> dict[str, Any]:
        data["client"]["birth_date"] = data["client"].get("birth_date") or personal_code.birth_date(
            data["client"]["personal_code"]
        )
        data["signatures"].setdefault("date", data["date"])
        _, monthly = peak_month(data["services"], data["period"])
        data["totals"] = {"monthly": monthly, "budget_left": data["budget"]["monthly"] - monthly}
        return data


def peak_month(lines: list[dict[str, Any]], period: Period) -> tuple[str, Decimal]:
    """The calendar month of the period with the largest planned total, and that total.

    A line counts in every month its dates touch, so two consecutive lines of one service (a price
    change mid-year) are not added up as if they ran at the same time.

    >>> def line(start, end, amount):
    ...     return {"start": dt.date(*start), "end": dt.date(*end), "amount": Decimal(amount)}
    >>> lines = [line((2020, 1, 1), (2020, 6, 30), "100.00"), line((2020, 7, 1), (2020, 12, 31), "120.00"),
    ...          line((2020, 1, 1), (2020, 12, 31), "50.00")]
    >>> peak_month(lines, Period(dt.date(2020, 1, 1), dt.date(2020, 12, 31)))
    ('2020-07', Decimal('170.00'))
    """
    best_month, best = "", Decimal("0.00")
    year, month = period.start.year, period.start.month
    while dt.date(year, month, 1) <= period.end:
        days = Period.month(year, month)
        active = (line["amount"] for line in lines if line["start"] <= days.end and line["end"] >= days.start)
        total = sum(active, Decimal("0.00"))
        if total > best or not best_month:
            best_month, best = f"{year}-{month:02d}", total
        year, month = year + month // 12, month % 12 + 1
    return best_month, best


def _check_dates(data: dict[str, Any], period: Period, errors: ErrorCollector) -> None:
    bounds = {"start": period.start, "end": period.end}
    review = data.get("review_date")
    if review and not period.contains(review):
        errors.add(("review_date",), problem("review_date.outside_period", **bounds))
    goal_ids: set[str] = set()
    for g, goal in enumerate(data.get("goals") or []):
        for s, short in enumerate(goal.get("short_term") or []):
            if "id" in short:
                if short["id"] in goal_ids:
                    errors.add(
                        ("goals", g, "short_term", s, "id"), problem("goal.duplicate_id", goal=short["id"])
                    )
                goal_ids.add(short["id"])
            deadline = short.get("deadline")
            if deadline and not period.contains(deadline):
                errors.add(
                    ("goals", g, "short_term", s, "deadline"),
                    problem("goal.deadline_outside_period", **bounds),
                )
    goals_loaded = isinstance(data.get("goals"), list) and all(
        isinstance(goal.get("short_term"), list) and all("id" in short for short in goal["short_term"])
        for goal in data["goals"]
    )
    for index, line in enumerate(data.get("services") or []):
        if goals_loaded and line.get("goal") and line["goal"] not in goal_ids:
            errors.add(("services", index, "goal"), problem("service.unknown_goal", goal=line["goal"]))
        for end in ("start", "end"):
            if line.get(end) and not period.contains(line[end]):
                errors.add(("services", index, end), problem("service.outside_period", **bounds))


def _all_lines_loaded(data: dict[str, Any]) -> bool:
    lines = data.get("services")
    return bool(lines) and all("amount" in line for line in lines)


@dataclass(frozen=True)
class DraftFigures:
    """A draft's derived figures as far as they can be worked out: the amount of each service line that
    loads (None for one that does not), the planned total of the busiest month and the budget left."""

    amounts: list[Decimal | None]
    monthly: Decimal | None
    budget_left: Decimal | None


def draft_figures(raw: Any) -> DraftFigures:
    """The plan's derived figures of a raw draft, also one with problems (the lines that load count), as
    :meth:`SupportPlanSchema._derive` works them out for a valid plan.

    >>> draft_figures({}).monthly is None
    True
    """
    lines = raw.get("services") if isinstance(raw, dict) else None
    loaded: list[dict[str, Any] | None] = []
    for line in lines if isinstance(lines, list) else []:
        try:
            loaded.append(PlanServiceLineSchema().load(line))
        except (ValidationError, TypeError, KeyError):
            loaded.append(None)
    amounts = [line["amount"] if line else None for line in loaded]
    period = raw.get("period") if isinstance(raw, dict) else None
    try:
        span = Period(dt.date.fromisoformat(period["start"]), dt.date.fromisoformat(period["end"]))
    except (TypeError, KeyError, ValueError):
        return DraftFigures(amounts, None, None)
    counted = [line for line in loaded if line]
    monthly = peak_month(counted, span)[1] if counted and span.start <= span.end else None
    try:
        budget = Decimal(str(raw["budget"]["monthly"]))
    except (TypeError, KeyError, InvalidOperation):
        budget = None
    left = budget - monthly if budget is not None and budget.is_finite() and monthly is not None else None
    return DraftFigures(amounts, monthly, left)
