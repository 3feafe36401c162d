"""Acts on stored agreements: the month's form made from the agreement, filled by pdftk, matched on upload
(a form carrying another agreement is refused with the place named), accepted against the client's budget
(warned near the cap, refused past it unless an administrator overrides with a reason) — on SQLite and
on a real PostgreSQL."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal

import pikepdf
import pytest
from pypdf import PdfReader

from service.store import database
from service.store.case_models import DeliveredService
from service.store.models import Submission
from tests.case_helpers import act_form, agreement, deliver, received_act
from tests.helpers import FILLED_ACT, blank_act_form, fill_with_pdftk, load_sample, upload

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def stored(client):
    """A stored agreement (L-2020/001, APLP and ATBG for the sample client) as its JSON."""
    return client.get(agreement(client, {})).json


@pytest.fixture
def finance(user_headers):
    return user_headers("finance_officer")


def test_the_months_act_is_made_from_the_stored_agreement(client, stored, tmp_path):
    answer = act_form(client, stored["url"])
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert (
        "L-2020_001" in answer.headers["Content-Disposition"]
        or "L-2020" in answer.headers["Content-Disposition"]
    )
    fields = PdfReader(io.BytesIO(answer.data)).get_fields()
    assert fields["number"]["/V"] == "AKTS-2020-09-001"
    assert fields["signatures.recipient"]["/V"] == "Ēriks Gailītis"
    (tmp_path / "akts.pdf").write_bytes(answer.data)
    text = subprocess.run(["pdftotext", tmp_path / "akts.pdf", "-"], capture_output=True, text=True).stdout
    assert "L-2020/001" in text and "Ēriks Gailītis" in text and "09.2020." in text
    docx = act_form(client, stored["url"], output="docx")
    assert docx.status_code == 200 and docx.data.startswith(b"PK")

    outside = act_form(client, stored["url"], month="2019-12")
    assert outside.status_code == 422 and outside.mimetype == "application/problem+json"
    assert [(e["path"], e["code"]) for e in outside.json["errors"]] == [("/month", "act.month_outside")]


def test_an_act_made_from_the_stored_agreement_is_matched_accepted_and_counted(
    app, client, stored, finance, tmp_path
):
    submission = received_act(client, {}, tmp_path, stored["url"])
    assert (submission["agreement_id"], submission["agreement_version"]) == (stored["id"], 1)
    assert submission["client_id"] == stored["client_id"] and submission["status"] == "received"

    accepted = client.post(f"/api/v1/submissions/{submission['id']}/accept", headers=finance)
    assert accepted.status_code == 200, accepted.json
    body = accepted.json
    assert body["status"] == "accepted" and body["accepted_by"] is not None and body["warnings"] == []
    assert body["budget"]["period_budget"] == "7200.00"
    amount = Decimal(body["act"]["sessions"] and body["budget"]["delivered"])
    assert amount > 0
    with database(app).session() as session:
        delivered = session.query(DeliveredService).filter_by(submission_id=submission["id"]).all()
        assert sorted((d.code, d.month) for d in delivered) == [("APLP", "2020-09"), ("ATBG", "2020-09")]
        assert sum(d.amount for d in delivered) == amount
    again = client.post(f"/api/v1/submissions/{submission['id']}/accept", headers=finance)
    assert again.status_code == 200 and again.json["accepted_at"] == body["accepted_at"]


def test_a_form_carrying_another_version_of_the_agreement_is_refused_at_its_places(
    app, client, stored, tmp_path
):
    form = act_form(client, stored["url"]).data
    with pikepdf.open(io.BytesIO(form)) as pdf:
        files = pdf.attachments
        (name,) = list(files)
        carried = files[name].get_file().read_bytes().decode("utf-8")
        changed = carried.replace('"Kārlis Ūdris"', '"Kārlis Ūdris"').replace(
            '"registration_number": "40009691053"', '"registration_number": "40003245752"'
        )
        assert changed != carried
        files[name] = pikepdf.AttachedFileSpec(pdf, changed.encode("utf-8"), mime_type="application/json")
        out = io.BytesIO()
        pdf.save(out)
    answer = upload(client, fill_with_pdftk(out.getvalue(), FILLED_ACT, tmp_path))
    assert answer.status_code == 422, answer.json
    errors = {(e["path"], e["code"]) for e in answer.json["errors"]}
    assert ("/agreement/provider/registration_number", "act.agreement_differs") in errors
    message = next(e["message"] for e in answer.json["errors"] if e["code"] == "act.agreement_differs")
    assert "40003245752" in message and "40009691053" in message and "L-2020/001" in message
    with database(app).session() as session:
        assert session.query(Submission).count() == 0


def test_an_act_of_an_agreement_not_stored_is_kept_unmatched_and_cannot_be_accepted(client, tmp_path):
    received = upload(client, fill_with_pdftk(blank_act_form(client), FILLED_ACT, tmp_path))
    assert received.status_code == 201 and received.json["agreement_id"] is None
    refused = client.post(f"/api/v1/submissions/{received.json['id']}/accept")
    assert refused.status_code == 409
    assert [e["code"] for e in refused.json["errors"]] == ["act.unmatched"]
    assert "L-2020/031" in refused.json["errors"][0]["message"]


def test_near_the_cap_acceptance_warns_and_past_it_only_an_administrator_overrides(
    app, client, stored, finance, tmp_path
):
    deliver(app, stored["client_id"], stored["id"], "2020-08", ("APLP", "1", "7190.00"))
    submission = received_act(client, {}, tmp_path, stored["url"])
    url = f"/api/v1/submissions/{submission['id']}/accept"
    refused = client.post(url, headers=finance)
    assert refused.status_code == 409
    (error,) = refused.json["errors"]
    assert error["code"] == "budget.period_exceeded" and "7\xa0200,00 €" in error["message"]
    reason = {"override_reason": "Ārkārtas situācija"}
    assert client.post(url, json=reason, headers=finance).status_code == 403

    overridden = client.post(url, json=load_sample("act-acceptance-override"))
    assert overridden.status_code == 200, overridden.json
    assert overridden.json["overridden"] is True
    assert [w["code"] for w in overridden.json["warnings"]] == ["budget.near"]
    actions = [e["action"] for e in client.get("/api/v1/audit").json]
    assert actions[:2] == ["overridden", "accepted"]


def test_acceptance_warns_at_the_configured_share(app, client, stored, finance, tmp_path):
    deliver(
        app, stored["client_id"], stored["id"], "2020-08", ("APLP", "1", "6500.00")
    )  # 90 % of 7 200 is 6 480
    submission = received_act(client, {}, tmp_path, stored["url"])
    accepted = client.post(f"/api/v1/submissions/{submission['id']}/accept", headers=finance)
    assert accepted.status_code == 200, accepted.json
    (warning,) = accepted.json["warnings"]
    assert warning["code"] == "budget.near" and "%" in warning["message"]
    assert Decimal(accepted.json["budget"]["percent"]) >= 90


def test_social_workers_do_not_accept_acts(client, stored, user_headers, tmp_path):
    submission = received_act(client, {}, tmp_path, stored["url"])
    worker = user_headers("social_worker")
    assert client.post(f"/api/v1/submissions/{submission['id']}/accept", headers=worker).status_code == 403
