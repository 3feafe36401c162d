"""A client's budget in use: what the plan in force allows, and what accepted acts have delivered.

Everything is read from columns kept in the clear (plan versions' budgets and periods, delivered
service lines); nothing is opened. Months are ``YYYY-MM`` strings, as acts and submissions name them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.case_models import DeliveredService, PlanVersion

ZERO = Decimal("0.00")


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


def plan_in_force(session: Session, client_id: str, month: str) -> PlanVersion | None:
    """The client's plan version that rules ``month``: the latest approved (or since superseded) version
    whose period holds the month's first day or ends in it."""
    start = month_start(month)
    return session.scalar(
        select(PlanVersion)
        .where(
            PlanVersion.client_id == client_id,
            PlanVersion.period_start <= start.replace(day=28),
            PlanVersion.period_end >= start,
        )
        .order_by(PlanVersion.approved_at.desc(), PlanVersion.number.desc())
        .limit(1)
    )


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
