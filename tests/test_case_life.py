"""The whole life of a case through the API, on SQLite and on a real PostgreSQL.

A social worker records the client, keeps a draft with errors, approves it, revises it into a second
version and reads the difference, and makes an agreement from it; the month's act is made from the stored
agreement, filled by pdftk and uploaded; a form carrying another agreement is refused with the place
named; a finance officer accepts the act and the budget moves; the pack from the accepted acts holds it.
"""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pikepdf
import pytest
from openpyxl import load_workbook

from tests.case_helpers import AGREEMENT, CLIENT, act_form
from tests.docx_text import docx_text
from tests.helpers import ADULT_SUPPORT_PERSON, FILLED_ACT, fill_with_pdftk, load_sample, upload
from tests.test_packs import make_pack

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def _carrying_another_price(form: bytes) -> bytes:
    """The form with the agreement it carries changed: APLP at another price than the stored one."""
    with pikepdf.open(io.BytesIO(form)) as pdf:
        (name,) = list(pdf.attachments)
        carried = json.loads(pdf.attachments[name].get_file().read_bytes())
        carried["agreement"]["from_plan"]["plan"]["services"][0]["unit_price"] = "10.00"
        changed = json.dumps(carried, ensure_ascii=False).encode("utf-8")
        pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, changed, mime_type="application/json")
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def test_a_case_from_the_first_draft_to_the_pack(anonymous, user_headers, tmp_path):
    worker, finance = user_headers("social_worker"), user_headers("finance_officer")
    api = anonymous

    client = api.post("/api/v1/clients", json=CLIENT, headers=worker)
    assert client.status_code == 201, client.json
    client_url = client.json["url"]
    found = api.get("/api/v1/clients", query_string={"q": "gailit"}, headers=worker).json
    assert [c["url"] for c in found] == [client_url]

    plan_url = api.post(f"{client_url}/plans", headers=worker).json["url"]
    draft = api.get(f"{plan_url}/draft", headers=worker)
    broken = dict(load_sample(ADULT_SUPPORT_PERSON), review_date="31.13.2020.")
    saved = api.put(f"{plan_url}/draft", json=broken, headers={**worker, "If-Match": draft.headers["ETag"]})
    assert saved.status_code == 200 and [p["path"] for p in saved.json["problems"]] == ["/review_date"]
    refused = api.post(f"{plan_url}/approve", headers={**worker, "If-Match": saved.headers["ETag"]})
    assert refused.status_code == 422

    plan = load_sample(ADULT_SUPPORT_PERSON)
    saved = api.put(f"{plan_url}/draft", json=plan, headers={**worker, "If-Match": saved.headers["ETag"]})
    first = api.post(f"{plan_url}/approve", headers={**worker, "If-Match": saved.headers["ETag"]})
    assert first.status_code == 201 and first.json["number"] == 1

    redrafted = api.post(f"{plan_url}/draft", headers=worker)
    plan["services"][2]["quantity"] = "4"
    plan["budget"]["monthly"] = "650.00"
    saved = api.put(f"{plan_url}/draft", json=plan, headers={**worker, "If-Match": redrafted.headers["ETag"]})
    second = api.post(f"{plan_url}/approve", headers={**worker, "If-Match": saved.headers["ETag"]})
    assert second.status_code == 201 and second.json["number"] == 2
    changes = api.get(f"{plan_url}/changes", query_string={"from": 1, "to": 2}, headers=worker).json
    assert "SK-PSIH: 2,5 → 4 stundas mēnesī" in [c["message"] for c in changes["changes"]]

    made = api.post(f"{plan_url}/versions/2/agreements", json=AGREEMENT, headers=worker)
    assert made.status_code == 201, made.json
    agreement_url, number = made.json["url"], made.json["number"]
    assert number == "L-2020/001"
    assert "Ēriks Gailītis" in docx_text(api.get(f"{agreement_url}/versions/1/document", headers=worker).data)

    form = act_form(api, agreement_url, worker).data
    wrong = upload(api, fill_with_pdftk(_carrying_another_price(form), FILLED_ACT, tmp_path), headers=worker)
    assert wrong.status_code == 422
    (error,) = [e for e in wrong.json["errors"] if e["code"] == "act.agreement_differs"]
    assert error["path"] == "/agreement/services/0/unit_price" and number in error["message"]

    received = upload(api, fill_with_pdftk(form, FILLED_ACT, tmp_path), headers=worker)
    assert received.status_code == 201, received.json
    submission = received.json
    assert submission["agreement_id"] == made.json["id"] and submission["agreement_version"] == 1

    budget_url = f"/api/v1/clients/{made.json['client_id']}/budget"
    september = next(
        m for m in api.get(budget_url, headers=finance).json["months"] if m["month"] == "2020-09"
    )
    assert september["delivered"] == "0.00" and september["contracted"] != "0.00"

    waiting = api.get("/api/v1/submissions", query_string={"status": "received"}, headers=finance).json
    assert [s["id"] for s in waiting] == [submission["id"]]
    accepted = api.post(f"/api/v1/submissions/{submission['id']}/accept", headers=finance)
    assert accepted.status_code == 200, accepted.json
    delivered = Decimal(accepted.json["budget"]["delivered"])
    assert delivered > 0 and accepted.json["budget"]["period_budget"] == "7200.00"
    budget = api.get(budget_url, headers=finance).json
    september = next(m for m in budget["months"] if m["month"] == "2020-09")
    assert Decimal(september["delivered"]) == delivered == Decimal(september["delivered_cumulative"])
    assert Decimal(september["remaining"]) == Decimal(september["monthly_budget"]) - delivered
    workbook = load_workbook(io.BytesIO(api.get(f"{budget_url}.xlsx", headers=finance).data))
    assert workbook.sheetnames[:2] == ["Budžets", "Kopsavilkums"]

    order = {
        "project": "IBM",
        "period": "2020-09",
        "date": "2020-10-08",
        "source": "submissions",
        "pdf": False,
    }
    _, data = make_pack(api, order, finance)
    pack = zipfile.ZipFile(io.BytesIO(data))
    acts = [name for name in pack.namelist() if "/Akts-" in name]
    assert len(acts) == 1
    manifest = json.loads(pack.read("manifest.json"))
    counts = manifest["counts"]
    assert (counts["acts"], counts["clients"], counts["lines"]) == (1, 1, 2)
