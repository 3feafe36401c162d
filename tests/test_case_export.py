"""Everything stored about one person as one ZIP (GDPR art. 15), and retention deleting closed cases — on
real records, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from service.cli import main
from service.store import database
from service.store.case_models import Client, Plan, PlanVersion, SignedCopy
from service.store.models import AuditEntry
from tests.case_helpers import CLOSING, approved_plan, make_client
from tests.helpers import SAMPLES

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def test_an_administrator_exports_everything_about_one_person(app, client, user_headers):
    plan_url = approved_plan(client, {})
    scan = (SAMPLES / "delivery-act-filled.pdf").read_bytes()
    client.post(f"{plan_url}/versions/1/signed", data={"file": (io.BytesIO(scan), "scan.pdf")})
    client_url = make_client(client, {})
    answer = client.get(f"{client_url}/export")
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    package = zipfile.ZipFile(io.BytesIO(answer.data))
    names = package.namelist()
    assert names[0] == "client.json" and "plans/1/version-1.json" in names
    assert package.read("plans/1/version-1-signed.pdf") == scan
    record = json.loads(package.read("client.json"))
    assert record["data"]["name"] == "Ēriks Gailītis" and record["data"]["personal_code"] == "150385-12346"
    plan = json.loads(package.read("plans/1/version-1.json"))
    assert plan["plan"]["services"][2]["code"] == "SK-PSIH" and plan["state"] == "approved"
    trail = json.loads(package.read("audit.json"))
    assert {"read", "approved", "uploaded"} <= {entry["action"] for entry in trail}
    again = zipfile.ZipFile(io.BytesIO(client.get(f"{client_url}/export").data))
    assert "exported" in {entry["action"] for entry in json.loads(again.read("audit.json"))}
    for name in names[:-1]:  # the same records, the same bytes; the trail now has the first export
        assert again.read(name) == package.read(name), name

    worker = {"Authorization": user_headers("social_worker", "bauska")["Authorization"]}
    assert client.get(f"{client_url}/export", headers=worker).status_code == 403
    other = {"Authorization": user_headers("administrator", "liepaja")["Authorization"]}
    assert client.get(f"{client_url}/export", headers=other).status_code == 404


def test_retention_deletes_closed_cases_older_than_the_period_and_nothing_else(app, client, monkeypatch):
    import service

    plan_url = approved_plan(client, {})
    client_url = make_client(client, {})
    scan = io.BytesIO((SAMPLES / "delivery-act-filled.pdf").read_bytes())
    client.post(f"{plan_url}/versions/1/signed", data={"file": (scan, "scan.pdf")})
    closed = client.post(f"{client_url}/close", json=CLOSING, headers={"If-Match": '"1"'})
    assert closed.status_code == 200
    kept = client.post(
        "/api/v1/clients",
        json={
            **json.loads((SAMPLES / "client-adult.json").read_text()),
            "personal_code": "051176-11175",
            "name": "Zigrīda Ēce",
        },
    )
    assert kept.status_code == 201
    monkeypatch.setattr(service, "create_app", lambda: app)

    dry = CliRunner().invoke(main, ["retention", "--years", "3", "--dry-run"])
    assert dry.exit_code == 0 and "1 closed case(s)" in dry.output
    with database(app).session() as session:
        assert session.scalar(select(func.count()).select_from(Client)) == 2
    done = CliRunner().invoke(main, ["retention", "--years", "3"])
    assert done.exit_code == 0 and "Deleted 1 closed case(s)" in done.output, done.output
    assert "Gailītis" not in done.output
    with database(app).session() as session:
        assert session.scalar(select(func.count()).select_from(Client)) == 1
        for model in (Plan, PlanVersion, SignedCopy):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
        deleted = session.scalars(select(AuditEntry).where(AuditEntry.action == "deleted")).all()
        assert [entry.object_type for entry in deleted] == ["client"]

    # A case closed more recently than the period stays.
    with database(app).session() as session:
        session.execute(update(Client).values(status="closed", closed_on=func.current_date()))
    assert "Deleted 0" in CliRunner().invoke(main, ["retention", "--years", "3"]).output
    assert client.get(kept.json["url"]).status_code == 200
