"""Demo case records for ``make run``: the sample plans' clients, each with an approved plan, one of them
revised and contracted, so that the lists, the changes between versions and due work have something to
show.

Made through the same functions as the API, once: nothing happens when the municipality has clients.
"""

from __future__ import annotations

import copy
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth import Principal
from service.cases import agreements, clients, plans
from service.config import ROOT
from service.documents import Templates
from service.store import Sealer
from service.store.case_models import Client

SAMPLES = ROOT / "samples"
PLANS = ("support-plan-adult-support-person", "support-plan-child-parent", "support-plan-adult-trustee")
RECORD_FIELDS = (*plans.CLIENT_FIELDS,)


def _sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def load(session: Session, sealer: Sealer, user: Principal, templates: Templates) -> int:
    """The demo cases in ``user``'s municipality; how many clients were made (0 when it had some)."""
    if session.scalar(
        select(func.count()).select_from(Client).where(Client.municipality == user.municipality)
    ):
        return 0
    for name in PLANS:
        plan_data = _sample(name)
        record = {key: plan_data["client"][key] for key in RECORD_FIELDS if key in plan_data["client"]}
        if plan_data.get("representative"):
            record["representatives"] = [plan_data["representative"]]
        client = clients.add(session, sealer, user, record)
        plan = plans.start(session, sealer, user, client)
        plans.save(plan, sealer, user, plan_data)
        plans.approve(session, sealer, user, plan, client, templates, None, note="Pirmā plāna versija")
        if name == PLANS[0]:
            revised = copy.deepcopy(plan_data)
            revised["services"][2]["quantity"] = "4"
            revised["budget"]["monthly"] = "650.00"
            plans.redraft(plan, sealer, user)
            plans.save(plan, sealer, user, revised)
            version = plans.approve(
                session, sealer, user, plan, client, templates, None, note="Vairāk psihologa konsultāciju"
            )
            agreements.make(session, sealer, user, version, _sample("agreement-request"))
    return len(PLANS)
