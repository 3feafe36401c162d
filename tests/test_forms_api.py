"""The form round trip through the API and the CLI, on SQLite and on a real PostgreSQL.

A form made by the service, filled by pdftk (another tool), uploaded: read, validated like any input,
kept as a submission; errors name the form field and page; bad files get a clear 4xx.
"""

from __future__ import annotations

import io
import json
import subprocess

import pikepdf
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from service.cli import main
from tests.helpers import FILLED_ACT, blank_act_form, fill_with_pdftk, upload
from tests.test_pdf_conversion import pdfa_part

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

PROBLEM = "application/problem+json"


@pytest.fixture
def form(client):
    return blank_act_form(client)


@pytest.fixture
def filled(form, tmp_path):
    return fill_with_pdftk(form, FILLED_ACT, tmp_path)


def test_a_form_is_a_prefilled_fillable_pdf_and_a_docx(client, form, tmp_path):
    assert form.startswith(b"%PDF-")
    fields = PdfReader(io.BytesIO(form)).get_fields()
    assert {"number", "sessions.0.units", "sessions.0.status", "signatures.recipient"} <= set(fields)
    assert fields["signatures.recipient"]["/V"] == "Ēriks Gailītis"  # prefilled
    (tmp_path / "f.pdf").write_bytes(form)
    text = subprocess.run(["pdftotext", tmp_path / "f.pdf", "-"], capture_output=True, text=True).stdout
    assert "PAKALPOJUMA SNIEGŠANAS AKTS" in text and "Ēriks Gailītis" in text
    assert blank_act_form(client, output="docx").startswith(b"PK")


def test_a_filled_form_becomes_a_submission_once(client, filled):
    first = upload(client, filled)
    assert first.status_code == 201, first.get_data(as_text=True)[:500]
    submission = first.json
    assert (submission["month"], submission["provider"], submission["status"]) == (
        "2020-09",
        "40009691053",
        "received",
    )
    sessions = submission["act"]["sessions"]
    assert [(s["specialist"], s["form"]) for s in sessions] == [
        ("Līga Žagare", "klatiene"),
        ("Ģirts Čaupjonoks", "majas"),
    ]
    # typed 02.10.2020., 3.9.2020 and 2020-09-04 on a form showing 09.2020.: kept as the JSON writes them
    assert (submission["act"]["date"], submission["act"]["month"]) == ("2020-10-02", "2020-09")
    assert [s["date"] for s in sessions] == ["2020-09-03", "2020-09-04"]
    again = upload(client, filled, name="cits-nosaukums.pdf")
    assert again.status_code == 200 and again.json["id"] == submission["id"]
    listed = client.get("/api/v1/submissions?month=2020-09&provider=40009691053&status=received").json
    assert [s["id"] for s in listed] == [submission["id"]]
    assert client.get("/api/v1/submissions?month=2020-10").json == []
    assert submission["agreement_id"] is None  # L-2020/031 is not stored: kept, unmatched
    actions = [e["action"] for e in client.get("/api/v1/audit").json]
    assert actions[0] == "uploaded"


def test_errors_name_the_form_field_and_page(client, form, tmp_path):
    values = dict(FILLED_ACT, **{"sessions.1.units": "1.3", "sessions.0.date": "2020-10-03"})
    response = upload(client, fill_with_pdftk(form, values, tmp_path), headers={"Accept-Language": "en"})
    assert response.status_code == 422
    errors = {(e["path"], e["code"], e["field"], e["page"]) for e in response.json["errors"]}
    assert ("/sessions/0/date", "delivery.outside_month", "sessions.0.date", 1) in errors
    assert ("/sessions/1/units", "number.step", "sessions.1.units", 1) in errors


def test_unreadable_dates_and_numbers_say_what_to_type_at_the_form_field(client, form, tmp_path):
    values = dict(FILLED_ACT, **{"sessions.0.date": "09/03/2020", "sessions.1.units": "1.000,5"})
    response = upload(client, fill_with_pdftk(form, values, tmp_path))
    assert response.status_code == 422
    errors = {(e["path"], e["code"], e["field"], e["page"]): e["message"] for e in response.json["errors"]}
    assert set(errors) == {
        ("/sessions/0/date", "input.date_order", "sessions.0.date", 1),
        ("/sessions/1/units", "input.number_separators", "sessions.1.units", 1),
    }
    assert "DD.MM.GGGG." in errors["/sessions/0/date", "input.date_order", "sessions.0.date", 1]  # Latvian


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 400, "upload.empty"),
        (b"<html><body>akts</body></html>", 415, "upload.unknown_type"),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n", 422, "upload.corrupt"),
        (b"PK\x03\x04" + b"\x00" * 100, 422, "upload.corrupt"),
    ],
)
def test_bad_files_get_a_clear_problem(client, data, status, code):
    response = upload(client, data)
    assert response.status_code == status and response.mimetype == PROBLEM
    assert [e["code"] for e in response.json["errors"]] == [code]
    assert client.get("/api/v1/health").status_code == 200


@pytest.mark.filterwarnings("ignore:This document has .* form widget annotation")  # flattened on purpose
def test_an_encrypted_or_flattened_form_says_which_it_is(client, filled, tmp_path):
    with pikepdf.open(io.BytesIO(filled)) as pdf:
        encrypted = io.BytesIO()
        pdf.save(encrypted, encryption=pikepdf.Encryption(owner="o", user="u", R=4))
        del pdf.Root.AcroForm
        flattened = io.BytesIO()
        pdf.save(flattened)
    assert upload(client, encrypted.getvalue()).json["errors"][0]["code"] == "form.encrypted"
    assert upload(client, flattened.getvalue()).json["errors"][0]["code"] == "form.no_fields"


def test_no_file_at_all_is_400(client):
    response = client.post("/api/v1/forms", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and response.json["errors"][0]["code"] == "upload.missing"


def test_cli_extract_prints_the_act_or_the_problems(filled, form, tmp_path):
    good = tmp_path / "akts.pdf"
    good.write_bytes(filled)
    result = CliRunner().invoke(main, ["extract", str(good)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sessions"][1]["specialist"] == "Ģirts Čaupjonoks"
    bad = tmp_path / "slikts.pdf"
    bad.write_bytes(fill_with_pdftk(form, dict(FILLED_ACT, **{"sessions.1.units": "1.3"}), tmp_path))
    result = CliRunner().invoke(main, ["extract", str(bad)])
    assert result.exit_code == 1
    assert "number.step" in result.output and "sessions.1.units" in result.output


def test_documents_come_as_pdf_on_request(client):
    from tests.helpers import sample_text

    for query, headers in (("?format=pdf", {}), ("", {"Accept": "application/pdf"})):
        response = client.post(
            f"/api/v1/documents/service-agreement{query}",
            data=sample_text("service-agreement-adult-aplp"),
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
    assert client.post("/api/v1/documents/support-plan?format=odt", json={}).json["errors"][0]["code"] == (
        "format.unknown"
    )


def test_pdfa_on_request(client):
    from tests.helpers import sample_text

    response = client.post(
        "/api/v1/documents/delivery-act?format=pdf&pdfa=1",
        data=sample_text("delivery-act-adult-aplp"),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert pdfa_part(response.data) == "2"


def test_a_form_for_an_agreement_made_from_a_plan(client):
    from tests.helpers import load_sample

    request = {"agreement": load_sample("service-agreement-from-plan"), "month": "2020-09"}
    response = client.post("/api/v1/forms/delivery-act", json=request)
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    fields = PdfReader(io.BytesIO(response.data)).get_fields()
    plan = load_sample("support-plan-adult-trustee")
    assert fields["signatures.recipient"]["/V"] == plan["representative"]["name"]


def test_uploads_have_their_own_size_limit(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 10_000  # JSON bodies: small
    app.config["MAX_UPLOAD_BYTES"] = 50_000
    big = b"%PDF-1.7\n" + b"0" * 30_000 + b"\n%%EOF\n"
    assert upload(client, big).status_code != 413  # within the upload limit: read (and refused as a form)
    too_big = b"%PDF-1.7\n" + b"0" * 60_000
    response = upload(client, too_big)
    assert response.status_code == 413 and response.json["errors"][0]["code"] in (
        "upload.too_large",
        "body.too_large",
    )
