"""A case through the API: a client, a plan's draft kept with its problems, approval into versions, what
changed between them, and two people saving one draft — on SQLite and on a real PostgreSQL.

What is stored is checked too: the database holds no personal code and no name of the sample in the clear.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from service.store import database
from tests.case_helpers import approve, approved_plan, make_plan
from tests.docx_text import docx_text
from tests.helpers import ADULT_SUPPORT_PERSON, SAMPLES, load_sample

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

CLIENT = json.loads((SAMPLES / "client-adult.json").read_text(encoding="utf-8"))
CLOSING = json.loads((SAMPLES / "client-closing.json").read_text(encoding="utf-8"))


@pytest.fixture
def worker(app, user_headers):
    """A social worker of Bauska."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = user_headers("social_worker", "bauska")["Authorization"]
    return client


def add_client(worker) -> dict:
    answer = worker.post("/api/v1/clients", json=CLIENT)
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_client_is_recorded_found_and_read_only_in_its_municipality(worker, app, user_headers):
    made = add_client(worker)
    assert made["data"]["name"] == "Ēriks Gailītis" and made["status"] == "open"
    shown = worker.get(made["url"])
    assert shown.status_code == 200 and shown.headers["ETag"] == '"1"'
    for query in ("150385-12346", "15038512346", "Gailit", "gailītis", "ERI"):
        found = worker.get("/api/v1/clients", query_string={"q": query}).json
        assert [c["id"] for c in found] == [made["id"]], query
    assert worker.get("/api/v1/clients", query_string={"q": "Ozol"}).json == []
    short = worker.get("/api/v1/clients", query_string={"q": "Ga"})
    assert short.status_code == 422 and short.json["errors"][0]["code"] == "client.query_short"

    again = worker.post("/api/v1/clients", json=CLIENT)
    assert again.status_code == 409 and again.json["errors"][0]["path"] == "/personal_code"

    other = app.test_client()
    other.environ_base["HTTP_AUTHORIZATION"] = user_headers("social_worker", "liepaja")["Authorization"]
    assert other.get(made["url"]).status_code == 404
    assert other.get("/api/v1/clients", query_string={"q": "150385-12346"}).json == []
    assert other.post("/api/v1/clients", json=CLIENT).status_code == 201  # a code is unique per municipality

    reviewer = app.test_client()
    reviewer.environ_base["HTTP_AUTHORIZATION"] = user_headers("reviewer", "bauska")["Authorization"]
    assert reviewer.get(made["url"]).status_code == 403

    with database(app).session() as session:
        actions = session.execute(text("SELECT action, detail FROM audit WHERE object_type = 'client'")).all()
    assert ("read", "{}") in actions
    assert all("Gailit" not in detail and "150385" not in detail for _, detail in actions)


def test_changes_need_the_revision_they_were_made_on(worker):
    made = add_client(worker)
    changed = dict(CLIENT, phone="+371 20000009")
    assert worker.put(made["url"], json=changed).status_code == 428
    stale = worker.put(made["url"], json=changed, headers={"If-Match": '"7"'})
    assert stale.status_code == 412 and stale.json["current_revision"] == 1
    saved = worker.put(made["url"], json=changed, headers={"If-Match": '"1"'})
    assert saved.status_code == 200 and saved.json["data"]["phone"] == "+371 20000009"
    assert saved.headers["ETag"] == '"2"'

    closed = worker.post(f"{made['url']}/close", json=CLOSING, headers={"If-Match": '"2"'})
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert closed.json["closed_on"] == "2021-01-31"
    assert worker.post(f"{made['url']}/plans").status_code == 409
    reopened = worker.post(f"{made['url']}/reopen", headers={"If-Match": '"3"'})
    assert reopened.status_code == 200 and reopened.json["status"] == "open"
    assert "closed_reason" not in reopened.json["data"]


def test_a_plan_is_drafted_approved_revised_and_compared(worker, app):
    client = add_client(worker)
    started = worker.post(f"{client['url']}/plans")
    assert started.status_code == 201
    plan_url = started.json["url"]
    draft = worker.get(f"{plan_url}/draft")
    assert draft.json["plan"]["client"]["name"] == "Ēriks Gailītis"
    assert {p["path"] for p in draft.json["problems"]} >= {"/number", "/services", "/budget"}

    # An incomplete draft is kept with its problems, in the language asked for.
    partial = dict(draft.json["plan"], number="IAP-2020/014", services=[{"code": "SK-PSIH"}])
    saved = worker.put(
        f"{plan_url}/draft",
        json=partial,
        headers={"If-Match": draft.headers["ETag"], "Accept-Language": "lv"},
    )
    assert saved.status_code == 200 and saved.json["plan"]["number"] == "IAP-2020/014"
    messages = {p["path"]: p["message"] for p in saved.json["problems"]}
    assert "Šis lauks ir obligāts." in messages["/services/0/quantity"]
    assert worker.post(f"{plan_url}/approve", headers={"If-Match": saved.headers["ETag"]}).status_code == 422

    # Two people saved the same revision: the second is refused with where the two differ.
    plan = load_sample(ADULT_SUPPORT_PERSON)
    first = worker.put(f"{plan_url}/draft", json=plan, headers={"If-Match": saved.headers["ETag"]})
    assert first.status_code == 200 and first.json["problems"] == []
    second = worker.put(f"{plan_url}/draft", json=partial, headers={"If-Match": saved.headers["ETag"]})
    assert second.status_code == 412
    assert {"path": "/services/0/quantity", "yours": None, "stored": "16"} in second.json["changed"]
    assert worker.get(f"{plan_url}/draft").json["plan"] == plan  # nothing overwritten

    approved = worker.post(
        f"{plan_url}/approve", json={"note": "Pirmais plāns"}, headers={"If-Match": first.headers["ETag"]}
    )
    assert approved.status_code == 201, approved.json
    assert approved.json["number"] == 1 and approved.json["state"] == "approved"
    assert approved.json["monthly_budget"] == "600.00" and approved.json["document_id"]
    document = worker.get(f"{plan_url}/versions/1/document")
    assert document.status_code == 200
    assert "Ēriks Gailītis" in docx_text(document.data)

    redrafted = worker.post(f"{plan_url}/draft")
    assert redrafted.status_code == 201 and redrafted.json["plan"] == plan
    revised = load_sample(ADULT_SUPPORT_PERSON)
    revised["services"][2]["quantity"] = "4"
    revised["budget"]["monthly"] = "650.00"
    saved = worker.put(f"{plan_url}/draft", json=revised, headers={"If-Match": redrafted.headers["ETag"]})
    second_version = worker.post(f"{plan_url}/approve", headers={"If-Match": saved.headers["ETag"]})
    assert second_version.status_code == 201 and second_version.json["number"] == 2

    shown = worker.get(plan_url).json
    assert [(v["number"], v["state"]) for v in shown["versions"]] == [(1, "superseded"), (2, "approved")]
    assert shown["draft"] is None

    changes = worker.get(
        f"{plan_url}/changes", query_string={"from": 1, "to": 2}, headers={"Accept-Language": "lv"}
    )
    lines = [c["message"] for c in changes.json["changes"]]
    assert lines == ["Mēneša budžets: 600,00 → 650,00 €", "SK-PSIH: 2,5 → 4 stundas mēnesī"]
    quantity = changes.json["changes"][1]
    assert (quantity["path"], quantity["before"], quantity["after"]) == (
        "/services/SK-PSIH/quantity",
        "2.5",
        "4",
    )
    english = worker.get(
        f"{plan_url}/changes", query_string={"from": 1, "to": 2}, headers={"Accept-Language": "en"}
    )
    assert english.json["changes"][1]["message"] == "SK-PSIH: 2.5 → 4 stundas a month"


def test_the_database_holds_no_name_or_personal_code_in_the_clear(worker, app):
    client = add_client(worker)
    plan_url = worker.post(f"{client['url']}/plans").json["url"]
    etag = worker.get(f"{plan_url}/draft").headers["ETag"]
    saved = worker.put(
        f"{plan_url}/draft", json=load_sample(ADULT_SUPPORT_PERSON), headers={"If-Match": etag}
    )
    assert worker.post(f"{plan_url}/approve", headers={"If-Match": saved.headers["ETag"]}).status_code == 201
    secrets = ("Gailītis", "Gailitis", "150385-12346", "15038512346", "Ķēniņu", "Žagare")
    db = database(app)
    if db.engine.dialect.name == "sqlite":
        db.engine.dispose()
        stored = b"".join(path.read_bytes() for path in app_files(db.url))
        for secret in secrets:
            assert secret.encode("utf-8") not in stored, secret
        return
    with db.engine.connect() as connection:
        tables = [
            row[0]
            for row in connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname='public'"))
        ]
        for table in tables:
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                raw = repr(tuple(row)).encode("utf-8")
                for secret in secrets:
                    assert secret.encode("utf-8") not in raw, (table, secret)


def app_files(url: str):
    """The SQLite database file and its write-ahead log."""
    base = Path(url.removeprefix("sqlite:///"))
    return [path for path in (base, base.with_name(base.name + "-wal")) if path.exists()]


def edoc() -> bytes:
    """A minimal ASiC-E container: its mimetype first and stored, then a document and a signature file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.etsi.asic-e+zip")
        package.writestr("IAP-2020-014.pdf", b"%PDF-1.7 ...")
        package.writestr("META-INF/signatures0.xml", "<XAdESSignatures/>")
    return buffer.getvalue()


def test_a_signed_copy_marks_the_approved_version_signed(worker):
    plan_url = make_plan(worker, {})
    approve(worker, {}, plan_url)
    signed_url = f"{plan_url}/versions/1/signed"
    assert worker.get(signed_url).status_code == 404
    text_file = worker.post(signed_url, data={"file": (io.BytesIO(b"not signed"), "plan.txt")})
    assert text_file.status_code == 415 and text_file.json["errors"][0]["code"] == "signed.unknown_type"
    container = edoc()
    attached = worker.post(signed_url, data={"file": (io.BytesIO(container), "plan.edoc")})
    assert attached.status_code == 201 and attached.json["signed"] is True
    back = worker.get(signed_url)
    assert back.data == container and back.mimetype == "application/vnd.etsi.asic-e+zip"
    scan = (SAMPLES / "delivery-act-filled.pdf").read_bytes()
    assert worker.post(signed_url, data={"file": (io.BytesIO(scan), "scan.pdf")}).status_code == 201
    assert worker.get(signed_url).data == scan  # the newer copy replaces the older

    assert worker.post(f"{plan_url}/draft").status_code == 201
    approve(worker, {}, plan_url)
    superseded = worker.post(signed_url, data={"file": (io.BytesIO(container), "plan.edoc")})
    assert superseded.status_code == 409 and superseded.json["errors"][0]["code"] == "plan.superseded"


def test_reviewers_see_counts_and_budgets_across_municipalities_never_a_name(app, worker, user_headers):
    approved_plan(worker, {})
    other = app.test_client()
    other.environ_base["HTTP_AUTHORIZATION"] = user_headers("social_worker", "liepaja")["Authorization"]
    other.post("/api/v1/clients", json=CLIENT)
    reviewer = {"Authorization": user_headers("reviewer", "lm")["Authorization"]}
    answer = worker.get("/api/v1/case-totals", headers=reviewer)
    assert answer.status_code == 200
    counts = {(c["municipality"], c["status"]): c["clients"] for c in answer.json["counts"]}
    assert counts == {("bauska", "open"): 1, ("liepaja", "open"): 1}
    (plan,) = answer.json["plans"]
    assert plan["monthly_budget"] == "600.00" and plan["client"].startswith("K-")
    text = answer.get_data(as_text=True)
    for secret in ("Gailītis", "150385", "Ūdens"):
        assert secret not in text
    clients_ids = [c["id"] for c in worker.get("/api/v1/clients").json]
    assert all(client_id not in text for client_id in clients_ids)
    own = worker.get("/api/v1/case-totals", headers=user_headers("finance_officer", "bauska"))
    assert {c["municipality"] for c in own.json["counts"]} == {"bauska"}
    assert worker.get("/api/v1/case-totals").status_code == 403  # a social worker keeps cases instead
