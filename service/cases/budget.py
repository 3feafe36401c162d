"""A client's budget in use: what the plan in force allows, and what accepted acts have delivered.

:func:`client_budget` lays the plan's period out month by month and service by service: planned (the
plan version in force for the month), contracted (the latest version of each agreement, an agreement
ended early only through the month it ended), delivered (the lines of accepted acts), each month
against its monthly budget and the delivered total so far against the period budget.

Everything is read from columns kept in the clear (plan versions' budgets and periods, planned,
contracted and delivered service lines); nothing is opened. Months are ``YYYY-MM`` strings, as acts and
submissions name them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload

from schemas import catalogue
from schemas.lines import month_keys
from service.cases.due import month_end
from service.store.case_models import (
    Agreement,
    AgreementVersion,
    ContractedService,
    DeliveredService,
    PlanVersion,
    ServiceLine,
)

ZERO = Decimal("0.00")
KINDS = ("planned", "contracted", "delivered")


def month_key(day: dt.date) -> str:
    """>>> month_key(dt.date(2020, 9, 30))
    '2020-09'
    """
    return f"{day:%Y-%m}"


def month_start(month: str) -> dt.date:
    """>>> month_start("2020-09")
    datetime.date(2020, 9, 1)
    """
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def versions_of(session: Session, client_id: str, *, lines: bool = False) -> list[PlanVersion]:
    """Every approved (or since superseded) version of the client's plans; with ``lines``, their
    planned services loaded in the same go."""
    statement = select(PlanVersion).where(PlanVersion.client_id == client_id)
    if lines:
        statement = statement.options(selectinload(PlanVersion.services))
    return list(session.scalars(statement))


def in_force(versions: list[PlanVersion], month: str) -> PlanVersion | None:
    """Of ``versions``, the one that rules ``month``: the latest approved whose period holds the month's
    first day or ends in it."""
    start = month_start(month)
    return latest([v for v in versions if v.period_start <= start.replace(day=28) and v.period_end >= start])


def latest(versions: list[PlanVersion]) -> PlanVersion | None:
    """The version approved last (of two approved at once, the higher number)."""
    return max(versions, key=lambda version: (version.approved_at, version.number), default=None)


def plan_in_force(session: Session, client_id: str, month: str) -> PlanVersion | None:
    """The client's plan version that rules ``month`` (see :func:`in_force`)."""
    return in_force(versions_of(session, client_id), month)


def delivered_in_period(session: Session, client_id: str, start: dt.date, end: dt.date) -> Decimal:
    """The euros of the client's accepted acts in the months from ``start`` to ``end``."""
    total = session.scalar(
        select(func.sum(DeliveredService.amount)).where(
            DeliveredService.client_id == client_id,
            DeliveredService.month >= month_key(start),
            DeliveredService.month <= month_key(end),
        )
    )
    return Decimal(total or 0).quantize(ZERO)


@dataclass(frozen=True)
class PeriodUse:
    """How much of the plan's period budget accepted acts use, before and after one more act."""

    version: PlanVersion
    delivered: Decimal
    adding: Decimal

    @property
    def budget(self) -> Decimal:
        return self.version.period_budget

    @property
    def after(self) -> Decimal:
        return self.delivered + self.adding

    @property
    def percent_after(self) -> Decimal:
        """The share of the period budget used once the act counts, in per cent (one decimal)."""
        if not self.budget:
            return Decimal("100.0") if self.after else Decimal("0.0")
        return (self.after * 100 / self.budget).quantize(Decimal("0.1"))

    @property
    def over(self) -> bool:
        return self.after > self.budget

    def warns(self, percent: int) -> bool:
        return self.percent_after >= percent


def period_use(session: Session, client_id: str, month: str, adding: Decimal) -> PeriodUse | None:
    """The period budget in use for an act of ``month`` worth ``adding`` euros; None without a plan."""
    version = plan_in_force(session, client_id, month)
    if version is None:
        return None
    delivered = delivered_in_period(session, client_id, version.period_start, version.period_end)
    return PeriodUse(version, delivered, adding)


def shown_version(versions: list[PlanVersion], today: dt.date) -> PlanVersion | None:
    """The version whose period a budget shows: the one in force in ``today``'s month, else the one
    approved last."""
    return in_force(versions, month_key(today)) or latest(versions)


def contracted_lines(session: Session, client_id: str) -> list[tuple[ServiceLine, dt.date | None]]:
    """The lines of the latest version of each of the client's agreements, with the day the agreement
    ended early (None while it runs its term)."""
    latest = and_(
        AgreementVersion.agreement_id == Agreement.id, AgreementVersion.number == Agreement.latest_version
    )
    return list(
        session.execute(
            select(ContractedService, Agreement.ended_on)
            .join(AgreementVersion, AgreementVersion.id == ContractedService.version_id)
            .join(Agreement, latest)
            .where(Agreement.client_id == client_id)
        )
    )


def delivered_lines(session: Session, client_id: str, first: str, last: str) -> list[DeliveredService]:
    """The lines of the client's accepted acts from month ``first`` to ``last``."""
    return list(
        session.scalars(
            select(DeliveredService).where(
                DeliveredService.client_id == client_id,
                DeliveredService.month >= first,
                DeliveredService.month <= last,
            )
        )
    )


def runs_in(line: ServiceLine, month: str, ended_on: dt.date | None = None) -> bool:
    """Whether ``line`` counts in ``month``: its dates touch the month (a month's quantity, as the plan
    counts it), and the agreement, if it ended early, had not ended before the month began."""
    first = month_start(month)
    return line.start <= month_end(first) and line.end >= first and (ended_on is None or ended_on >= first)


@dataclass
class Tally:
    """Units and euros of one service: planned, contracted or delivered."""

    units: Decimal = ZERO
    amount: Decimal = ZERO

    def add(self, units: Decimal, amount: Decimal) -> None:
        self.units += units
        self.amount += amount


@dataclass
class ServiceUse:
    """One service's planned, contracted and delivered tallies (in a month, or over the period)."""

    code: str
    tallies: dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in KINDS})

    def add(self, other: ServiceUse) -> None:
        for kind, tally in other.tallies.items():
            self.tallies[kind].add(tally.units, tally.amount)

    def figures(self) -> dict[str, Any]:
        """The figures, the service named and measured as the catalogue has it."""
        known = catalogue.default().service(self.code)
        named = {
            "code": self.code,
            "name": known.name if known else "",
            "unit": known.unit.name if known else "",
        }
        for kind, tally in self.tallies.items():
            named[f"{kind}_units"], named[f"{kind}_amount"] = tally.units, tally.amount
        return named


def month_use(
    month: str,
    ruling: PlanVersion | None,
    contracted: list[tuple[ServiceLine, dt.date | None]],
    delivered: list[DeliveredService],
) -> dict[str, ServiceUse]:
    """Per service code, what ``month`` planned (under the ``ruling`` version), contracted and delivered."""
    uses: dict[str, ServiceUse] = {}

    def count(kind: str, code: str, units: Decimal, amount: Decimal) -> None:
        uses.setdefault(code, ServiceUse(code)).tallies[kind].add(units, amount)

    for line in ruling.services if ruling else ():
        if runs_in(line, month):
            count("planned", line.code, line.quantity, line.amount)
    for line, ended_on in contracted:
        if runs_in(line, month, ended_on):
            count("contracted", line.code, line.quantity, line.amount)
    for row in delivered:
        count("delivered", row.code, row.units, row.amount)
    return dict(sorted(uses.items()))


def client_budget(
    session: Session, client_id: str, today: dt.date | None = None, warn_percent: int = 90
) -> dict[str, Any]:
    """The client's budget over the period of the plan version in force ``today`` (else the one approved
    last): per month and service planned, contracted and delivered units and euros; per month the
    monthly budget and what is left of it; delivered so far against the period budget (``warning`` from
    ``warn_percent`` of it, ``over`` past it). ``plan`` is None, the lists empty, without a plan."""
    versions = versions_of(session, client_id, lines=True)
    shown = shown_version(versions, today or dt.date.today())
    budget: dict[str, Any] = {"client_id": client_id, "warn_percent": warn_percent, "plan": None}
    if shown is None:
        return {**budget, "months": [], "services": [], "totals": None}
    months = month_keys(shown.period_start, shown.period_end)
    contracted = contracted_lines(session, client_id)
    delivered: dict[str, list[DeliveredService]] = {month: [] for month in months}
    for row in delivered_lines(session, client_id, months[0], months[-1]):
        delivered[row.month].append(row)
    period: dict[str, ServiceUse] = {}
    laid_out, so_far = [], ZERO
    for month in months:
        ruling = in_force(versions, month)
        uses = month_use(month, ruling, contracted, delivered[month])
        for code, use in uses.items():
            period.setdefault(code, ServiceUse(code)).add(use)
        so_far += sum((use.tallies["delivered"].amount for use in uses.values()), ZERO)
        laid_out.append(
            {
                "month": month,
                "plan_id": ruling.plan_id if ruling else None,
                "plan_version": ruling.number if ruling else None,
                **_against(uses, ruling.monthly_budget if ruling else ZERO),
                **_cumulative(PeriodUse(shown, so_far, ZERO), warn_percent),
            }
        )
    services = [_with_remaining(use.figures()) for _, use in sorted(period.items())]
    return {
        **budget,
        "plan": {
            "plan_id": shown.plan_id,
            "version": shown.number,
            "plan_number": shown.plan_number,
            "period_start": shown.period_start,
            "period_end": shown.period_end,
            "monthly_budget": shown.monthly_budget,
            "period_budget": shown.period_budget,
        },
        "months": laid_out,
        "services": services,
        "totals": {
            **{kind: sum((s[f"{kind}_amount"] for s in services), ZERO) for kind in KINDS},
            **_cumulative(PeriodUse(shown, so_far, ZERO), warn_percent),
        },
    }


def _against(uses: dict[str, ServiceUse], monthly_budget: Decimal) -> dict[str, Any]:
    """A month's services and totals against its monthly budget."""
    services = [use.figures() for use in uses.values()]
    totals = {kind: sum((s[f"{kind}_amount"] for s in services), ZERO) for kind in KINDS}
    return {
        "monthly_budget": monthly_budget,
        "services": services,
        **totals,
        "remaining": monthly_budget - totals["delivered"],
        "month_over": totals["delivered"] > monthly_budget,
    }


def _cumulative(use: PeriodUse, warn_percent: int) -> dict[str, Any]:
    """Delivered so far against the period budget."""
    return {
        "delivered_cumulative": use.after,
        "period_remaining": use.budget - use.after,
        "percent_used": use.percent_after,
        "warning": use.warns(warn_percent),
        "over": use.over,
    }


def _with_remaining(figures: dict[str, Any]) -> dict[str, Any]:
    """A service's period figures with what the plan still allows of it."""
    return {
        **figures,
        "remaining_units": figures["planned_units"] - figures["delivered_units"],
        "remaining_amount": figures["planned_amount"] - figures["delivered_amount"],
    }
