"""Documents made with a municipality's own template and settings versions: used for that municipality only
and only from their effective date, named in the register (a pack's documents too), part of a pack's input
(another version, another pack; the same versions, the same bytes), rolled back, made again exactly from a
stored version, and a template failing on real data answered with its version and place, never a 500."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import zipfile

from pypdf import PdfReader

from service.documents import KINDS, municipal
from service.store import database
from service.store.models import SettingsVersion
from tests.case_helpers import agreement, approved_plan
from tests.docx_text import docx_text
from tests.helpers import load_sample
from tests.test_packs import finished, make_pack, order
from tests.test_template_check import BODY, first_in, paragraph, run, standard

COVER = "/api/v1/municipality-templates/cover-letter"
MARK = "Bauskas novada pašvaldības pašu pavadvēstule"
BAUSKA_REQUEST = "reimbursement-request-bauska-2020-09"
LIEPAJA_REQUEST = "reimbursement-request-liepaja-2020-09"


def own_cover(client, text: str = MARK, effective_from: str = "01.01.2020.") -> dict:
    """Upload the standard cover letter with one more paragraph, ``text``, as the municipality's own."""

    data = first_in(BODY, paragraph(run(text)), standard(KINDS["cover-letter"]))
    answer = client.post(
        COVER, data={"file": (io.BytesIO(data), "pavadvestule.docx"), "effective_from": effective_from}
    )
    assert answer.status_code == 201, answer.json
    return answer.json["version"]


def cover_letter(client, headers, body: dict) -> tuple[str, dict]:
    """The cover letter rendered through the API: its text and its register entry."""
    answer = client.post("/api/v1/documents/cover-letter", json=body, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    entry = client.get(answer.headers["Location"], headers=headers).json
    return docx_text(answer.data), entry


def test_a_municipality_s_template_is_used_for_its_documents_only(client, user_headers):
    own_cover(client)
    text, entry = cover_letter(client, user_headers("finance_officer"), load_sample(BAUSKA_REQUEST))
    assert MARK in text and "Bauskas novada pašvaldība" in text
    assert (entry["template_version"], entry["settings_version"]) == (1, None)

    text, entry = cover_letter(
        client, user_headers("finance_officer", "liepaja"), load_sample(LIEPAJA_REQUEST)
    )
    assert MARK not in text and "Liepājas valstspilsētas pašvaldība" in text
    assert entry["template_version"] is None


def test_a_document_dated_before_the_effective_date_gets_the_standard_template(client, user_headers):
    own_cover(client, effective_from="01.01.2021.")
    finance = user_headers("finance_officer")
    body = load_sample(BAUSKA_REQUEST)
    text, entry = cover_letter(client, finance, body)
    assert MARK not in text and entry["template_version"] is None
    text, entry = cover_letter(client, finance, dict(body, date="2021-01-05"))
    assert MARK in text and entry["template_version"] == 1


def test_a_rollback_puts_the_earlier_wording_back_as_a_new_version(client, user_headers):
    own_cover(client, "Pirmā redakcija")
    own_cover(client, "Otrā redakcija")
    finance = user_headers("finance_officer")
    text, entry = cover_letter(client, finance, load_sample(BAUSKA_REQUEST))
    assert "Otrā redakcija" in text and entry["template_version"] == 2
    rolled = client.post(f"{COVER}/1/rollback", json={"effective_from": "2020-01-01"})
    assert rolled.status_code == 201, rolled.json
    text, entry = cover_letter(client, finance, load_sample(BAUSKA_REQUEST))
    assert "Pirmā redakcija" in text and "Otrā redakcija" not in text
    assert entry["template_version"] == 3


def test_a_template_failing_on_real_data_answers_its_version_and_place(client, user_headers):
    """The sample fills it (1 // 1), a request with one line fewer divides by zero: 422, never a 500."""
    body = load_sample(BAUSKA_REQUEST)
    lines = len(body["lines"])
    own_cover(client, f"Rindu daļa: {{{{ 1 // (reimbursement.totals.lines - {lines - 1}) }}}}")
    shorter = copy.deepcopy(body)
    counts = [line["agreement"] for line in shorter["lines"]]
    index = next(i for i, line in enumerate(shorter["lines"]) if counts.count(line["agreement"]) > 1)
    del shorter["lines"][index]
    answer = client.post(
        "/api/v1/documents/cover-letter", json=shorter, headers=user_headers("finance_officer")
    )
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    (error,) = answer.json["errors"]
    assert (error["code"], error["path"]) == ("template.render_failed", "/template")
    assert "1" in error["message"] and "word/document.xml" in error["message"]
    assert "Rindu daļa" in error["message"] and "ZeroDivisionError" in error["message"]
    latvian = client.post(
        "/api/v1/documents/cover-letter",
        json=shorter,
        headers={**user_headers("finance_officer"), "Accept-Language": "lv"},
    )
    assert latvian.status_code == 422 and "1" in latvian.json["errors"][0]["message"]


def test_a_pack_changes_with_the_template_and_the_same_versions_give_the_same_bytes(client):
    body = order()
    keep = {a["number"] for a in body["agreements"][:2]}
    body["agreements"] = [a for a in body["agreements"] if a["number"] in keep]
    body["lines"] = [line for line in body["lines"] if line["agreement"] in keep]
    before_job, before = make_pack(client, body)

    own_cover(client)
    after_job, after = make_pack(client, body)
    assert after_job["id"] != before_job["id"] and after != before
    pack = zipfile.ZipFile(io.BytesIO(after))
    cover = next(name for name in pack.namelist() if name.startswith("01-Pavadvestule"))
    assert MARK in docx_text(pack.read(cover))
    assert MARK not in docx_text(zipfile.ZipFile(io.BytesIO(before)).read(cover))
    manifest = json.loads(pack.read("manifest.json"))
    assert manifest["made_with"]["templates"]["cover-letter"] == 1
    assert manifest["made_with"]["templates"]["reimbursement-request"] is None

    registered = client.get("/api/v1/register?kind=cover-letter").json
    mine = [entry for entry in registered if entry["job_id"] == after_job["id"]]
    assert [entry["template_version"] for entry in mine] == [1]
    assert mine[0]["file_name"].endswith(".docx")

    assert client.delete(after_job["url"]).status_code == 204
    _, again = make_pack(client, body)
    assert again == after


def add_settings(app, effective_from: dt.date, **body) -> None:
    """A settings version of Bauska, stored as the settings API keeps one."""
    with database(app).session() as session:
        session.add(
            SettingsVersion(
                municipality="bauska",
                number=1,
                effective_from=effective_from,
                sha256="0" * 64,
                body=json.dumps(body, ensure_ascii=False),
            )
        )


NEW_HEAD = {"name": "Ainārs Šmits", "position": "domes priekšsēdētājs"}


def test_the_settings_in_force_reach_the_pack_s_request_and_the_reader(app, client):
    add_settings(app, dt.date(2020, 10, 1), head=NEW_HEAD, agreement_series="BNP-{year}/{seq:04}")
    with database(app).session() as session:
        before = municipal.settings_on(session, "bauska", dt.date(2020, 9, 30))
        after = municipal.settings_on(session, "bauska", dt.date(2020, 10, 1))
    assert before.version is None and before.municipality.details["head"]["name"] == "Aivars Okmanis"
    assert after.version == 1 and after.municipality.details["head"] == NEW_HEAD
    assert after.municipality.agreement_series == "BNP-{year}/{seq:04}"
    assert after.municipality.details["name"] == "Bauskas novada pašvaldība"  # not overridden: the file's

    body = order()
    keep = {body["agreements"][0]["number"]}
    body["agreements"] = [a for a in body["agreements"] if a["number"] in keep]
    body["lines"] = [line for line in body["lines"] if line["agreement"] in keep]
    _, pack = make_pack(client, dict(body, date="2020-10-08"))
    archive = zipfile.ZipFile(io.BytesIO(pack))
    request = next(name for name in archive.namelist() if name.startswith("02-"))
    text = docx_text(archive.read(request))
    assert "Ainārs Šmits" in text and "Aivars Okmanis" not in text
    assert json.loads(archive.read("manifest.json"))["made_with"]["settings_version"] == 1


def test_a_stored_plan_version_is_made_again_with_the_template_it_was_approved_with(client):

    plan_template = "/api/v1/municipality-templates/support-plan"
    data = first_in(BODY, paragraph(run("Bauskas plāna veidne")), standard(KINDS["support-plan"]))
    answer = client.post(
        plan_template, data={"file": (io.BytesIO(data), "p.docx"), "effective_from": "2020-01-01"}
    )
    assert answer.status_code == 201, answer.json
    plan_url = approved_plan(client, {})
    version = client.get(f"{plan_url}/versions/1").json
    entry = client.get(f"/api/v1/register/{version['document_id']}").json
    assert entry["template_version"] == 1

    standard_again = standard(KINDS["support-plan"])
    later = client.post(
        plan_template, data={"file": (io.BytesIO(standard_again), "p.docx"), "effective_from": "2020-01-01"}
    )
    assert later.status_code == 201
    document = client.get(f"{plan_url}/versions/1/document")
    assert document.status_code == 200 and "Bauskas plāna veidne" in docx_text(document.data)


def test_a_pack_whose_template_fails_on_its_data_fails_naming_the_version(client):
    body = order()
    keep = {body["agreements"][0]["number"]}
    body["agreements"] = [a for a in body["agreements"] if a["number"] in keep]
    body["lines"] = [line for line in body["lines"] if line["agreement"] in keep]
    assert len(body["lines"]) != len(load_sample(BAUSKA_REQUEST)["lines"])
    own_cover(client, f"Rindu daļa: {{{{ 1 // (reimbursement.totals.lines - {len(body['lines'])}) }}}}")
    response = client.post("/api/v1/packs", json=body)
    assert response.status_code == 202, response.json
    job = finished(client, response.json["url"])
    assert job["state"] == "failed"
    assert job["error"]["code"] == "template.render_failed" and "Rindu daļa" in job["error"]["message"]


def test_settings_saved_through_the_api_print_in_a_stored_agreement_and_stay_with_its_version(client):
    body = load_sample("municipality-settings")
    saved = client.post("/api/v1/municipality-settings", json=dict(body, effective_from="2020-01-01"))
    assert saved.status_code == 201, saved.json
    url = agreement(client, {})
    document = client.get(f"{url}/versions/1/document")
    assert document.status_code == 200
    text = docx_text(document.data)
    assert body["clauses"]["payment_terms"] in text and body["clauses"]["confidentiality"] in text
    assert "word/media/veidlapas-logo.png" in zipfile.ZipFile(io.BytesIO(document.data)).namelist()

    later = dict(body, effective_from="2020-01-01", clauses={"payment_terms": "Samaksa līdz 20. datumam."})
    assert client.post("/api/v1/municipality-settings", json=later).status_code == 201
    again = docx_text(client.get(f"{url}/versions/1/document").data)
    assert body["clauses"]["payment_terms"] in again and "Samaksa līdz 20. datumam." not in again


def test_a_template_is_tried_with_the_sample_before_it_is_kept(client):
    data = first_in(BODY, paragraph(run(MARK)), standard(KINDS["cover-letter"]))
    tried = client.post(f"{COVER}/preview?format=pdf", data={"file": (io.BytesIO(data), "p.docx")})
    assert tried.status_code == 200 and tried.mimetype == "application/pdf"
    assert tried.headers["X-Template-Warnings"] == "0"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(tried.data)).pages)
    assert MARK in " ".join(text.split())
    image = client.post(f"{COVER}/preview?format=png", data={"file": (io.BytesIO(data), "p.docx")})
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert client.get(COVER).json == []  # nothing kept

    typo = first_in(BODY, paragraph(run("{{ reimbursement.numbr }}")), standard(KINDS["cover-letter"]))
    refused = client.post(f"{COVER}/preview", data={"file": (io.BytesIO(typo), "p.docx")})
    assert (
        refused.status_code == 422 and refused.json["errors"][0]["code"] == "template.unknown_variable_near"
    )
    assert client.get(COVER).json == []
