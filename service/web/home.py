"""The start page: the user's municipality and what is waiting for them — due work (reviews near or past,
agreements ending, acts missing), acts received and waiting for acceptance, running and recent packs.

Each part is shown only to a role that may see it (reviewers see no cases). The due-work lists come from
:mod:`service.cases.due` as the API's ``/due-work``; each list shows its first :data:`SHOWN` items with
their clients' names (opened, and the opening audited as a read of the due work) and says how many more.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import func

from service import audit
from service.auth import scope
from service.cases import clients, due
from service.documents.municipal import settings_on
from service.store import database, sealer
from service.store.case_models import Agreement, Client, Plan
from service.store.models import Job, Submission
from service.web.base import page, user

bp = Blueprint("web_home", __name__)

SHOWN = 10
RUNNING = ("queued", "running")


def municipality_name(session, code: str, today: dt.date) -> str:
    """The municipality's name from the settings in force (its code when the file does not list it)."""
    settings = settings_on(session, code, today)
    return settings.municipality.details.get("name", code) if settings is not None else code


def names_of(session, ids: set[str]) -> dict[str, str]:
    """The names of the clients ``ids`` (in scope), opened."""
    if not ids:
        return {}
    found = session.scalars(scope().select(Client).where(Client.id.in_(ids)))
    return {client.id: clients.data(sealer(), client)["name"] for client in found}


def due_work(session, today: dt.date) -> dict[str, Any]:
    days = current_app.config["DUE_REVIEW_DAYS"]
    listed = due.listed(session, scope().select(Plan), scope().select(Agreement), today, days)
    lists = ("reviews", "ending", "missing_acts")
    counts = {key: len(listed[key]) for key in lists}
    shown = {key: listed[key][:SHOWN] for key in lists}
    names = names_of(session, {item["client_id"] for key in lists for item in shown[key]})
    for key in lists:
        for item in shown[key]:
            item["name"] = names.get(item["client_id"], "")
    if names:
        audit.record(session, user(), "read", "due_work", detail={"clients": len(names)})
    return {**listed, **shown, "counts": counts}


def waiting_acts(session) -> dict[str, Any]:
    received = scope().select(Submission).where(Submission.status == "received")
    count = session.scalar(received.with_only_columns(func.count(Submission.id)))
    rows = session.execute(
        received.with_only_columns(
            Submission.id, Submission.month, Submission.agreement_number, Submission.received_at
        )
        .order_by(Submission.received_at.desc(), Submission.id)
        .limit(SHOWN)
    )
    return {"count": count, "rows": [dict(row._mapping) for row in rows]}


def packs(session) -> dict[str, Any]:
    jobs = scope().select(Job).where(Job.kind == "pack")
    running = list(session.scalars(jobs.where(Job.state.in_(RUNNING)).order_by(Job.created_at.desc())))
    recent = list(
        session.scalars(
            jobs.where(Job.state.not_in(RUNNING)).order_by(Job.created_at.desc(), Job.id).limit(5)
        )
    )
    view = [
        {
            "id": job.id,
            "title": job.title,
            "state": job.state,
            "done": job.done,
            "total": job.total,
            "created_at": job.created_at,
        }
        for job in running + recent
    ]
    return {
        "running": [j for j in view if j["state"] in RUNNING],
        "recent": [j for j in view if j["state"] not in RUNNING],
    }


@bp.route("/", methods=["GET"])
def home():
    today = dt.date.today()
    found = user()
    values: dict[str, Any] = {"due": None, "acts": None, "packs": None}
    with database().session() as session:
        values["municipality_name"] = municipality_name(session, found.municipality, today)
        if found.may("case:read"):
            values["due"] = due_work(session, today)
            values["acts"] = waiting_acts(session)
        if found.may("job:read") and found.may("pack:create"):
            values["packs"] = packs(session)
    return page("home.html", **values)
