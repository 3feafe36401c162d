"""The demo municipality ``make run`` loads: a dozen clients over a year with revisions, agreements and
their acts, one client past the budget, due work — made once, and good enough to order a pack from."""

from __future__ import annotations

import datetime as dt
import io
import tomllib
import zipfile
from collections import Counter

import pytest
from sqlalchemy import func, select

from schemas import personal_code
from schemas.client import ClientRecordSchema
from service.auth import Principal
from service.cases import demo
from service.documents import templates
from service.store import database, sealer
from service.store.case_models import Agreement, Client, DeliveredService, PlanVersion
from service.store.models import AuditEntry, Submission, User
from tests.docx_text import docx_text
from tests.helpers import load_sample
from tests.test_packs import make_pack

DEMO_TODAY = "2020-10-08"
PACK = {"project": "IBM", "period": "2020-09", "date": "2020-10-08", "source": "submissions", "pdf": False}


def load_demo(app) -> int:
    """Load the demo as Bauska's administrator (the ``client`` fixture's user); how many clients it made."""
    with database(app).session() as session:
        admin = session.scalar(select(User).where(User.username == "administrator.bauska"))
        operator = Principal(admin.id, admin.username, admin.role, admin.municipality)
        return demo.load(session, sealer(app), operator, templates(app), app.config["BUDGET_WARN_PERCENT"])


def counts(app) -> tuple[int, ...]:
    with database(app).session() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Client, PlanVersion, Agreement, Submission, DeliveredService, AuditEntry)
        )


def test_made_personal_codes_are_valid_in_both_formats():
    old = demo.made_code(dt.date(1969, 2, 18), 187)
    new = demo.made_code(dt.date(2018, 3, 5), 274185307, new_format=True)
    assert personal_code.validate(old) == old and personal_code.birth_date(old) == dt.date(1969, 2, 18)
    assert personal_code.is_new_format(new) and personal_code.validate(new) == new


def test_every_demo_client_record_is_valid_and_new_format_codes_carry_a_birth_date():
    data = tomllib.loads(demo.CASES.read_text(encoding="utf-8"))
    records = [demo.record(spec) for spec in data["clients"]]
    for record in records:
        ClientRecordSchema().load(record)
    codes = [r["personal_code"] for r in records]
    assert len(set(codes)) == len(codes)
    assert any(personal_code.is_new_format(code) for code in codes)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_the_demo_holds_a_year_of_cases_once(app, client):
    made = load_demo(app)
    assert made >= 12
    before = counts(app)
    assert load_demo(app) == 0 and counts(app) == before

    listed = client.get("/api/v1/clients", query_string={"limit": 100}).json
    assert len(listed) == made
    assert {"Elīza Ķirse", "Ēriks Gailītis", "Ģirts Ēcis", "Anna Šņore", "Valters Žagars"} <= {
        c["name"] for c in listed
    }
    with database(app).session() as session:
        versions = Counter(session.scalars(select(PlanVersion.client_id)))
        assert sum(1 for n in versions.values() if n >= 2) >= 4 and max(versions.values()) >= 3
        agreements = session.scalars(select(Agreement)).all()
        assert any(a.state == "ended" and a.ended_on for a in agreements)
        assert sum(1 for a in agreements if a.latest_version >= 2) >= 2
        accepted = session.scalars(select(Submission).where(Submission.status == "accepted")).all()
        assert len({s.month for s in accepted}) >= 6
        delivered = set(session.scalars(select(DeliveredService.submission_id)))
        assert {s.id for s in accepted} == delivered
        overridden = [s for s in accepted if s.override_by is not None]
        assert len(overridden) == 1 and overridden[0].override_reason
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "overridden"))
        assert entry.object_id == overridden[0].id and "percent" in entry.detail
        refused = session.scalars(
            select(Submission).where(
                Submission.client_id == overridden[0].client_id, Submission.status == "received"
            )
        ).all()
        assert refused, "the over-budget client's next act stays refused"

    received = client.get("/api/v1/submissions", query_string={"status": "received"}).json
    assert received and all(s["month"] == "2020-09" for s in received)
    due = client.get("/api/v1/due-work", query_string={"today": DEMO_TODAY}).json
    assert due["act_month"] == "2020-09"
    assert due["reviews"] and due["ending"] and due["missing_acts"]
    assert any(not r["overdue"] for r in due["reviews"])
    waiting = {s["agreement_number"] for s in received}
    assert waiting <= {a["number"] for a in due["missing_acts"]}
    assert len(due["missing_acts"]) > len(waiting)  # and one act that never came


def test_the_sample_clients_keep_their_plans_and_agreement(app, client):
    load_demo(app)
    listed = client.get("/api/v1/clients", query_string={"q": "Gailītis"}).json
    plan = client.get(f"{listed[0]['url']}/plans").json[0]
    assert [v["state"] for v in plan["versions"]] == ["superseded", "approved"]
    lines = client.get(f"{plan['url']}/changes?from=1&to=2").json["changes"]
    assert [c["message"] for c in lines] == [
        "Mēneša budžets: 600,00 → 650,00 €",
        "SK-PSIH: 2,5 → 4 stundas mēnesī",
    ]
    agreements = client.get(f"{listed[0]['url']}/agreements").json
    assert [a["number"] for a in agreements] == ["L-2020/001"]
    document = client.get(f"{agreements[0]['url']}/versions/1/document")
    own = load_sample("municipality-settings")
    assert own["clauses"]["payment_terms"] in docx_text(document.data)  # the demo's own settings


def test_a_pack_from_the_demo_acts_of_september_holds_every_accepted_act(app, client):
    load_demo(app)
    accepted = client.get("/api/v1/submissions", query_string={"month": "2020-09", "status": "accepted"}).json
    _, data = make_pack(client, PACK)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        acts = [name for name in archive.namelist() if "/Akts-" in name and name.endswith(".docx")]
        request = next(name for name in archive.namelist() if name.startswith("02-"))
        signed_by = docx_text(archive.read(request))
    assert len(acts) == len(accepted) > 5
    assert load_sample("municipality-settings")["head"]["name"] in signed_by

