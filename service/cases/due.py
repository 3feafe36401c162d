"""What needs attention in a municipality: plans to review, agreements ending, acts not received.

- plans whose review date is within ``days`` from ``today``, or already past (open cases only);
- active agreements that end within ``today``'s month;
- active agreements that covered the last finished month and have no accepted act for it.

Everything is read from columns kept in the clear; nothing is opened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, and_, exists

from service.store.case_models import Agreement, Client, Plan
from service.store.models import Submission


def month_end(day: dt.date) -> dt.date:
    """>>> month_end(dt.date(2020, 2, 10))
    datetime.date(2020, 2, 29)
    """
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def last_finished_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """>>> last_finished_month(dt.date(2020, 3, 5))
    (datetime.date(2020, 2, 1), datetime.date(2020, 2, 29))
    """
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def reviews(scoped: Select, today: dt.date, days: int) -> Select:
    """Plans (of open cases) whose review date is no later than ``days`` from ``today``, soonest first."""
    return (
        scoped.join(Client, Client.id == Plan.client_id)
        .where(Client.status == "open", Plan.review_date.is_not(None))
        .where(Plan.review_date <= today + dt.timedelta(days=days))
        .order_by(Plan.review_date, Plan.id)
    )


def ending(scoped: Select, today: dt.date) -> Select:
    """Active agreements ending from ``today`` to the end of its month."""
    return scoped.where(
        Agreement.state == "active", Agreement.end >= today, Agreement.end <= month_end(today)
    ).order_by(Agreement.end, Agreement.number)


def missing_acts(scoped: Select, today: dt.date) -> Select:
    """Active agreements that covered the last finished month and have no accepted act for it."""
    start, end = last_finished_month(today)
    accepted = exists().where(
        and_(
            Submission.municipality == Agreement.municipality,
            Submission.agreement_number == Agreement.number,
            Submission.status == "accepted",
            Submission.month == f"{start:%Y-%m}",
        )
    )
    return (
        scoped.where(Agreement.state == "active", Agreement.start <= end, Agreement.end >= start)
        .where(~accepted)
        .order_by(Agreement.number)
    )


def month_of(today: dt.date) -> str:
    return f"{last_finished_month(today)[0]:%Y-%m}"


def listed(session, plans: Select, agreements: Select, today: dt.date, days: int) -> dict[str, Any]:
    """The three lists, each item with its ids and the dates that put it there. Only those columns are
    read: a municipality's lists run to thousands of rows, and whole records took longer than the rest."""
    listed_plans = reviews(plans, today, days).with_only_columns(Plan.id, Plan.client_id, Plan.review_date)
    columns = (Agreement.id, Agreement.client_id, Agreement.number)
    return {
        "today": today,
        "review_days": days,
        "act_month": month_of(today),
        "reviews": [
            {"plan_id": id_, "client_id": client_id, "review_date": review, "overdue": review < today}
            for id_, client_id, review in session.execute(listed_plans)
        ],
        "ending": [
            {"agreement_id": a.id, "client_id": a.client_id, "number": a.number, "end": a.end}
            for a in session.execute(ending(agreements, today).with_only_columns(*columns, Agreement.end))
        ],
        "missing_acts": [
            {"agreement_id": a.id, "client_id": a.client_id, "number": a.number, "provider": a.provider}
            for a in session.execute(
                missing_acts(agreements, today).with_only_columns(*columns, Agreement.provider)
            )
        ],
    }
