"""Counts and totals across municipalities for reviewers (ministry, planning region): clients by target
group and status, and each client's current plan budget under a pseudonymous reference — never a name,
a personal code or anything else sealed. Everything here is read from columns kept in the clear.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.store.case_models import PlanVersion


def reference(client_id: str) -> str:
    """A client's pseudonymous reference: stable, but not the id the municipality's users see.

    >>> reference("0" * 32)
    'K-5e0841a1a3'
    """
    return "K-" + hashlib.sha256(f"reference:{client_id}".encode()).hexdigest()[:10]


def totals(session: Session, visible: Select) -> dict[str, Any]:
    """The counts and budgets of the clients ``visible`` selects (a scoped ``select(Client)``)."""
    clients = visible.subquery()
    counts = session.execute(
        select(clients.c.municipality, clients.c.target_group, clients.c.status, func.count())
        .group_by(clients.c.municipality, clients.c.target_group, clients.c.status)
        .order_by(clients.c.municipality, clients.c.target_group, clients.c.status)
    ).all()
    budgets = session.execute(
        select(clients.c.id, clients.c.municipality, clients.c.target_group, PlanVersion)
        .join(PlanVersion, PlanVersion.client_id == clients.c.id)
        .where(PlanVersion.state == "approved")
        .order_by(clients.c.municipality, PlanVersion.period_start, clients.c.id)
    ).all()
    return {
        "counts": [
            {"municipality": m, "target_group": group, "status": status, "clients": count}
            for m, group, status, count in counts
        ],
        "plans": [
            {
                "client": reference(client_id),
                "municipality": municipality,
                "target_group": group,
                "period_start": version.period_start,
                "period_end": version.period_end,
                "monthly_budget": version.monthly_budget,
                "period_budget": version.period_budget,
            }
            for client_id, municipality, group, version in budgets
        ],
    }
