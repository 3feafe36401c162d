"""Agreements, delivery acts and reimbursement packs in the pages (Flask's test client): what each page
shows, its problems at their fields, the budget an acceptance moves, a rejection's sealed reason, scope."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest

from service.cases import acts
from service.store import database, sealer
from service.store.models import AuditEntry, Submission
from tests.case_helpers import AGREEMENT, CLIENT, agreement, approved_plan, deliver, received_act
from tests.docx_text import docx_text
from tests.helpers import FILLED_ACT, SAMPLES, blank_act_form, fill_with_pdftk
from tests.web_helpers import form_token, page_client


@pytest.fixture
def pages(app):
    return page_client(app, "administrator")


def _id(url: str) -> str:
    return url.rsplit("/", 1)[1]


def agreement_form(request: dict = AGREEMENT) -> dict[str, str]:
    """The agreement request of the sample as a person types it into the page's form."""
    form = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
        elif prefix not in ("from_plan",):
            form[prefix] = value

    walk("", {k: v for k, v in request.items() if k != "from_plan"})
    form["date"], form["decision.date"] = "30.01.2020.", "28.01.2020."
    for line in request["from_plan"]["lines"]:
        form[f"lines-{line['index']}"] = "1"
        form[f"lines-{line['index']}-place"] = line["place"]
        form[f"lines-{line['index']}-schedule"] = line["schedule"]
    form = {k: v for k, v in form.items() if not k.startswith("municipality.") or "representative" in k}
    return form


def test_an_agreement_is_made_from_the_approved_plan_and_shown_with_its_documents(app, client, pages):
    plan_id = _id(approved_plan(client, {}))
    url = f"/plani/{plan_id}/versijas/1/ligums"
    shown = pages.get(url)
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "Jauns līgums" in text and 'id="f-lines-3-place"' in text
    form = agreement_form() | {"csrf_token": form_token(pages, url)}
    made = pages.post(url, data=form)
    assert made.status_code == 303, made.get_data(as_text=True)[:3000]
    page = pages.get(made.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "L-2020/001" in html and "aktīvs" in html and "30.01.2020." not in html
    assert "APLP" in html and "ATBG" in html and CLIENT["name"] in html
    document = pages.get(made.headers["Location"] + "/versijas/1/dokuments")
    assert document.status_code == 200 and document.mimetype.endswith("wordprocessingml.document")
    words = docx_text(document.data)
    assert "L-2020/001" in words and "Atbalsta loks" in words
    act = pages.get(made.headers["Location"] + "/akts", query_string={"menesis": "09.2020."})
    assert act.status_code == 200 and act.mimetype == "application/pdf" and act.data.startswith(b"%PDF")
    wrong = pages.get(made.headers["Location"] + "/akts", query_string={"menesis": "2020.09"})
    assert wrong.status_code == 422
    assert 'id="f-month-error"' in wrong.get_data(as_text=True)
    outside = pages.get(made.headers["Location"] + "/akts", query_string={"izvele": "09.2025."})
    assert outside.status_code == 422 and "akta nav" in outside.get_data(as_text=True)
    with database(app).session() as session:
        actions = {e.action for e in session.query(AuditEntry).filter_by(object_type="agreement")}
    assert {"created", "read"} <= actions


def test_the_agreement_form_shows_each_problem_at_its_field_and_keeps_what_was_typed(client, pages):
    plan_id = _id(approved_plan(client, {}))
    url = f"/plani/{plan_id}/versijas/1/ligums"
    form = agreement_form() | {"csrf_token": form_token(pages, url)}
    form["decision.date"] = "28/01/2020"
    form["provider.iban"] = "LV00 NOPE"
    form["lines-3-schedule"] = ""
    refused = pages.post(url, data=form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "<title>Kļūda:" in html
    assert 'href="#f-decision-date"' in html and 'id="f-decision-date-error"' in html
    assert 'href="#f-lines-3-schedule"' in html
    assert 'value="LV00 NOPE"' in html  # nothing typed is lost
    form["decision.date"], form["lines-3-schedule"] = "28.01.2020.", "otrdienās"
    refused = pages.post(url, data=form)
    assert refused.status_code == 422 and 'href="#f-provider-iban"' in refused.get_data(as_text=True)


def _upload(pages, data: bytes, name: str = "akts.pdf"):
    token = form_token(pages, "/akti")
    return pages.post(
        "/akti",
        data={"file": (io.BytesIO(data), name), "csrf_token": token},
        content_type="multipart/form-data",
    )


def test_an_uploaded_act_is_read_into_a_table_with_its_problems(pages):
    listed = pages.get("/akti").get_data(as_text=True)
    assert 'accept=".pdf,.docx"' in listed and "10 MB" in listed
    answer = _upload(pages, (SAMPLES / "delivery-act-filled.pdf").read_bytes())
    assert answer.status_code == 303
    shown = pages.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Nodarbības" in shown and "L-2020/031" in shown
    assert re.search(r"03\.09\.2020\.", shown)
    assert "nav saglabāts" in shown  # the agreement is not stored: said, not accepted


def test_a_refused_upload_is_the_list_again_with_the_latvian_message_at_the_file(app, pages):
    wrong = _upload(pages, b"just text", "akts.pdf")
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 415
    assert 'id="f-file-error"' in html and "nav ne PDF" in html and 'href="#f-file"' in html
    app.config["MAX_UPLOAD_BYTES"] = 1000
    large = _upload(pages, b"%PDF-1.7\n" + b"0" * 2000)
    assert large.status_code == 413
    assert 'id="f-file-error"' in large.get_data(as_text=True)
    assert "lielāka, nekā atļauts" in large.get_data(as_text=True)
    none = pages.post(
        "/akti", data={"csrf_token": form_token(pages, "/akti")}, content_type="multipart/form-data"
    )
    assert none.status_code == 400 and 'id="f-file-error"' in none.get_data(as_text=True)


def _delivered(client, client_id: str) -> Decimal:
    months = client.get(f"/api/v1/clients/{client_id}/budget").json["months"]
    return sum(
        (Decimal(s["delivered_amount"]) for m in months if m["month"] == "2020-09" for s in m["services"]),
        Decimal(0),
    )


def test_accepting_an_act_moves_the_clients_budget(app, client, pages, tmp_path):
    agreement_url = agreement(client, {})
    submission = received_act(client, {}, tmp_path, agreement_url)
    client_id = submission["client_id"]
    before = _delivered(client, client_id)
    url = f"/akti/{submission['id']}"
    html = pages.get(url).get_data(as_text=True)
    assert "Pieņemt aktu" in html and "Līga Žagare" in html
    accepted = pages.post(url + "/pienemt", data={"csrf_token": form_token(pages, url)})
    assert accepted.status_code == 303
    assert _delivered(client, client_id) > before
    assert "pieņemts" in pages.get(url).get_data(as_text=True)


def test_rejecting_an_act_keeps_the_reason_sealed_and_audited(app, client, pages, tmp_path):
    submission = received_act(client, {}, tmp_path)
    url = f"/akti/{submission['id']}"
    token = form_token(pages, url)
    empty = pages.post(url + "/noraidit", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 422 and 'href="#f-reason"' in empty.get_data(as_text=True)
    done = pages.post(url + "/noraidit", data={"csrf_token": token, "reason": "Nav paraksta"})
    assert done.status_code == 303
    assert "Nav paraksta" in pages.get(url).get_data(as_text=True)
    with database(app).session() as session:
        stored = session.get(Submission, submission["id"])
        assert stored.status == "rejected" and b"Nav paraksta" not in stored.reject_reason
        assert acts.reason_of(sealer(app), stored) == "Nav paraksta"
        audited = session.query(AuditEntry).filter_by(action="rejected", object_id=submission["id"]).count()
    assert audited == 1
    again = pages.post(url + "/pienemt", data={"csrf_token": token})
    assert again.status_code == 409 and "noraidīts" in again.get_data(as_text=True)


def test_another_municipality_finds_no_act_and_a_reviewer_no_acts_page(app, client, tmp_path):
    submission = received_act(client, {}, tmp_path)
    liepaja = page_client(app, "administrator", "liepaja")
    assert liepaja.get(f"/akti/{submission['id']}").status_code == 404
    assert submission["id"] not in liepaja.get("/akti").get_data(as_text=True)
    assert page_client(app, "reviewer", "lm").get("/akti").status_code == 403


def test_the_pack_preview_lists_the_lines_and_totals_then_the_pack_starts(app, client, tmp_path):
    submission = received_act(client, {}, tmp_path)
    assert client.post(f"/api/v1/submissions/{submission['id']}/accept").status_code == 200
    finance = page_client(app, "finance_officer")
    token = form_token(finance, "/paki")
    form = {"csrf_token": token, "project": "IBM", "period_from": "09.2020."}
    preview = finance.post("/paki", data=form | {"parbaudit": "1"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html[:2000]
    assert "KP-BNP-2020/09" in html and "APLP" in html and "ESF daļa" in html
    assert re.search(r"\d+,\d\d\xa0€", html)
    bad = finance.post("/paki", data=form | {"period_from": "2020/09", "parbaudit": "1"})
    assert bad.status_code == 422 and 'href="#f-period_from"' in bad.get_data(as_text=True)
    started = finance.post("/paki", data=form | {"sagatavot": "1"})
    assert started.status_code == 303 and started.headers["Location"].startswith("/paki/")
    job_page = finance.get(started.headers["Location"]).get_data(as_text=True)
    assert "<progress" in job_page and "KP-BNP-2020/09" in job_page
    state = finance.get(started.headers["Location"] + "/stavoklis").json
    assert set(state) >= {"state", "done", "total", "text", "finished"}
    assert "KP-BNP-2020/09" in finance.get("/paki").get_data(as_text=True)
    assert page_client(app, "social_worker").get("/paki").status_code == 403


def test_past_the_budget_only_an_administrator_accepts_giving_a_reason(app, client, pages, tmp_path):
    agreement_url = agreement(client, {})
    stored = client.get(agreement_url).json
    deliver(app, stored["client_id"], stored["id"], "2020-08", ("APLP", "1", "7190.00"))
    submission = received_act(client, {}, tmp_path, agreement_url)
    url = f"/akti/{submission['id']}"
    finance = page_client(app, "finance_officer")
    refused = finance.post(url + "/pienemt", data={"csrf_token": form_token(finance, url)})
    assert refused.status_code == 409 and "7\xa0200,00 €" in refused.get_data(as_text=True)
    assert 'id="f-override_reason"' not in refused.get_data(as_text=True)
    token = form_token(pages, url)
    again = pages.post(url + "/pienemt", data={"csrf_token": token})
    assert again.status_code == 409 and 'href="#f-override_reason"' in again.get_data(as_text=True)
    done = pages.post(url + "/pienemt", data={"csrf_token": token, "override_reason": "Ārkārtas situācija"})
    assert done.status_code == 303 and "lietojums=" in done.headers["Location"]
    assert "budžeta" in pages.get(done.headers["Location"]).get_data(as_text=True)
    with database(app).session() as session:
        actions = [e.action for e in session.query(AuditEntry).filter_by(object_id=submission["id"])]
    assert "overridden" in actions and "accepted" in actions


def test_an_act_with_bad_values_is_shown_with_each_problem_at_its_cell_and_not_kept(
    app, client, pages, tmp_path
):
    form = blank_act_form(client)
    typed = FILLED_ACT | {"sessions.0.date": "31.02.2020.", "sessions.1.units": "1.234,5"}
    answer = _upload(pages, fill_with_pdftk(form, typed, tmp_path))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "<title>Kļūda:" in html
    assert 'href="#f-sessions-0-date"' in html and 'href="#f-sessions-1-units"' in html
    cell = re.search(r'<td id="f-sessions-0-date"[^>]*class="cell--error"[^>]*>(.*?)</td>', html, re.S)
    assert cell and "31.02.2020." in cell.group(1) and "Kalendārā tādas dienas nav" in cell.group(1)
    with database(app).session() as session:
        assert session.query(Submission).count() == 0
