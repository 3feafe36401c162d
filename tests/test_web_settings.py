"""The settings and templates administration pages and the reference pages, through the test client."""

from __future__ import annotations

import io
import os
import re
import time

from service.config import ROOT
from service.store import database
from service.store.models import AuditEntry
from tests.case_helpers import settings_version, template_version
from tests.test_template_check import changed
from tests.web_helpers import form_token, page_client

SETTINGS = "/administresana/iestatijumi"
TEMPLATES = "/administresana/veidnes"
AGREEMENT = ROOT / "templates_lv" / "service-agreement.docx"
GOOD_IBAN = "LV80BANK0000435195001"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def misspelt(data: bytes) -> bytes:
    """``data`` with a variable misspelt in the body (the provider's name) and one in table 1 (a price)."""

    def misspell(xml: str) -> str:
        xml = xml.replace("agreement.provider.name", "agreement.provider.nmae", 1)
        return xml.replace("service.unit_price", "service.unit_prise", 1)

    return changed(data, "word/document.xml", misspell)


def actions(app, object_type: str) -> list[tuple[str, str]]:
    with database(app).session() as session:
        found = session.query(AuditEntry).filter_by(object_type=object_type).order_by(AuditEntry.id)
        return [(entry.action, entry.object_id) for entry in found]


def test_a_settings_version_is_saved_and_shown_in_the_history(app):
    admin = page_client(app, "administrator")
    page = text_of(admin.get(SETTINGS))
    assert "<title>Pašvaldības iestatījumi — Veidlapas</title>" in page
    assert "Versiju vēl nav" in page
    form = {
        "csrf_token": form_token(admin, SETTINGS),
        "effective_from": "01.02.2021.",
        "name": "Bauskas novada pašvaldība",
        "iban": GOOD_IBAN,
        "head.name": "Ilze Kalniņa",
        "head.position": "domes priekšsēdētāja",
        "clauses.payment_terms": "Līdz mēneša 15. datumam.",
    }
    response = admin.post(SETTINGS, data=form)
    assert response.status_code == 303
    page = text_of(admin.get(response.headers["Location"]))
    assert "Jaunā iestatījumu versija ir saglabāta." in page
    assert "01.02.2021." in page and "web-administrator.bauska" in page
    assert 'value="Ilze Kalniņa"' in page  # the form starts from the version in force
    assert actions(app, "settings") == [("saved", "1")]


def test_a_bad_iban_and_a_bad_date_are_shown_at_their_fields_and_nothing_typed_is_lost(app):
    admin = page_client(app, "administrator")
    form = {
        "csrf_token": form_token(admin, SETTINGS),
        "effective_from": "31.02.2021.",
        "iban": "LV00BANK0000435195001",
        "address": "Uzvaras iela 1, Bauska",
        "clauses.complaints": "Sūdzības izskata dome.",
    }
    response = admin.post(SETTINGS, data=form)
    assert response.status_code == 422
    page = text_of(response)
    assert "<title>Kļūda: Pašvaldības iestatījumi" in page
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    assert 'href="#f-effective_from"' in summary and 'href="#f-iban"' in summary
    date_error = re.search(r'id="f-effective_from-error">(.*?)</p>', page, re.S).group(1)
    iban_error = re.search(r'id="f-iban-error">(.*?)</p>', page, re.S).group(1)
    assert date_error.endswith("Kalendārā tādas dienas nav: pārbaudiet dienu un mēnesi.")
    assert iban_error.endswith("IBAN kontrolcipari nav pareizi.")
    for kept in ('value="31.02.2021."', 'value="LV00BANK0000435195001"', 'value="Uzvaras iela 1, Bauska"'):
        assert kept in page
    assert ">Sūdzības izskata dome.</textarea>" in page
    assert actions(app, "settings") == []


def test_a_settings_version_is_rolled_back_and_its_logo_shown(app, anonymous, user_headers):
    headers = user_headers("administrator", "bauska")
    settings_version(anonymous, headers)  # version 1: the sample, with a logo
    admin = page_client(app, "administrator")
    token = form_token(admin, SETTINGS)
    assert (
        admin.post(SETTINGS, data={"csrf_token": token, "logo_remove": "1", "name": "Cits"}).status_code
        == 303
    )
    page = text_of(admin.get(SETTINGS))
    assert "Iestatījumu versija 2." in page
    logo = admin.get(f"{SETTINGS}/1/logotips")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert admin.get(f"{SETTINGS}/2/logotips").status_code == 404  # version 2 has no logo
    assert admin.post(SETTINGS, data={"csrf_token": token, "name": "Vēl cits"}).status_code == 303
    carried = admin.get(f"{SETTINGS}/3/logotips")  # no new logo, removal not ticked: version 2's (none)
    assert carried.status_code == 404
    response = admin.post(f"{SETTINGS}/1/atjaunot", data={"csrf_token": token})
    assert response.status_code == 303
    page = text_of(admin.get(response.headers["Location"]))
    assert "Iestatījumu versija 4." in page and "versija 1" in page
    assert admin.get(f"{SETTINGS}/4/logotips").data == admin.get(f"{SETTINGS}/1/logotips").data
    assert admin.post(SETTINGS, data={"csrf_token": token, "name": "Ar logotipu"}).status_code == 303
    assert admin.get(f"{SETTINGS}/5/logotips").data == logo.data  # carried over from version 4
    assert ("rolled_back", "4") in actions(app, "settings")
    assert ("downloaded", "1/logo") in actions(app, "settings")


def test_a_template_with_a_misspelt_variable_is_shown_with_its_paragraph_then_a_good_one_is_accepted(app):
    admin = page_client(app, "administrator")
    token = form_token(admin, TEMPLATES)
    bad = misspelt(AGREEMENT.read_bytes())
    form = {"csrf_token": token, "kind": "service-agreement", "effective_from": "01.01.2021."}
    response = admin.post(TEMPLATES, data={**form, "file": (io.BytesIO(bad), "ligums.docx")})
    assert response.status_code == 422
    page = text_of(response)
    assert page.count("<title>Kļūda:") == 1
    assert "agreement.provider.nmae" in page and "agreement.provider.name" in page  # the near name
    findings = re.findall(
        r'<li class="finding finding--check" id="(check-service-agreement-\d)".*?</li>', page, re.S
    )
    assert findings == ["check-service-agreement-1", "check-service-agreement-2"]
    assert 'href="#check-service-agreement-1"' in page and 'href="#check-service-agreement-2"' in page
    body, table = page.split('id="check-service-agreement-2"')
    assert "vai domājāt “agreement.provider.name”?" in body.split('id="check-service-agreement-1"')[1]
    assert '<dd>pamatteksts <span class="muted">(word/document.xml)</span></dd>' in body
    assert "<mark>{{ agreement.provider.nmae }}</mark> (reģistrācijas Nr." in body
    assert "vai domājāt “agreement.services[].unit_price”?" in table
    assert "<dd>1. tabula, 3. rinda, 6. šūna <span" in table
    assert "<mark>{{ service.unit_prise|money }}</mark>" in table
    assert 'value="01.01.2021."' in page  # the date typed is kept
    assert actions(app, "template") == [("validated", "service-agreement")]

    good = AGREEMENT.read_bytes()
    response = admin.post(TEMPLATES, data={**form, "file": (io.BytesIO(good), "ligums.docx")})
    assert response.status_code == 200
    page = text_of(response)
    digest = re.search(r'name="id" value="([0-9a-f]{64})"', page).group(1)
    assert f"/administresana/veidnes/paraugs?veids=service-agreement&amp;id={digest}&amp;formats=png" in page
    typo = {"csrf_token": token, "kind": "service-agreement", "id": digest, "effective_from": "1.1.21"}
    refused = text_of(admin.post(f"{TEMPLATES}/pienemt", data=typo))
    assert 'href="#f-service-agreement-accept-effective_from"' in refused and 'value="1.1.21"' in refused
    assert 'name="id" value="' + digest + '"' in refused  # still held: accept again with the date right
    accepted = admin.post(
        f"{TEMPLATES}/pienemt",
        data={
            "csrf_token": token,
            "kind": "service-agreement",
            "id": digest,
            "effective_from": "01.01.2021.",
        },
    )
    assert accepted.status_code == 303
    page = text_of(admin.get(accepted.headers["Location"]))
    assert "Veidne ir saglabāta kā nākamā versija." in page and "01.01.2021." in page
    document = admin.get(f"{TEMPLATES}/service-agreement/1/dokuments")
    assert document.status_code == 200 and document.data == good
    again = admin.post(
        f"{TEMPLATES}/pienemt", data={"csrf_token": token, "kind": "service-agreement", "id": digest}
    )
    assert again.status_code == 410  # accepted once: no longer held
    rolled = admin.post(f"{TEMPLATES}/service-agreement/1/atjaunot", data={"csrf_token": token})
    assert rolled.status_code == 303
    assert "versija 1" in text_of(admin.get(rolled.headers["Location"]))
    assert [a for a, _ in actions(app, "template")] == [
        "validated",
        "validated",
        "uploaded",
        "downloaded",
        "rolled_back",
    ]


def test_an_upload_without_a_file_or_with_a_bad_date_is_shown_at_its_fields(app):
    admin = page_client(app, "administrator")
    form = {
        "csrf_token": form_token(admin, TEMPLATES),
        "kind": "support-plan",
        "effective_from": "2021-13-01",
    }
    page = text_of(admin.post(TEMPLATES, data=form))
    assert 'href="#f-support-plan-file"' in page and 'href="#f-support-plan-effective_from"' in page
    assert "Izvēlieties veidnes DOCX datni." in page
    assert 'value="2021-13-01"' in page


def test_a_social_worker_may_not_administer_but_reads_the_reference(app):
    worker = page_client(app, "social_worker")
    assert worker.get(SETTINGS).status_code == 403
    assert worker.get(TEMPLATES).status_code == 403
    assert worker.get("/uzzinas/dokumenti/atsauce?veids=support-plan").status_code == 403
    for url in ("/uzzinas/pakalpojumi", "/uzzinas/projekti", "/uzzinas/dokumenti"):
        assert worker.get(url).status_code == 200, url


def test_another_municipalitys_versions_are_not_found(app, anonymous, user_headers):
    headers = user_headers("administrator", "bauska")
    settings_version(anonymous, headers)
    template_version(anonymous, headers)
    liepaja = page_client(app, "administrator", "liepaja")
    assert liepaja.get(f"{SETTINGS}/1/logotips").status_code == 404
    assert liepaja.get(f"{TEMPLATES}/service-agreement/1/dokuments").status_code == 404
    token = form_token(liepaja, SETTINGS)
    assert (
        liepaja.post(f"{TEMPLATES}/service-agreement/1/atjaunot", data={"csrf_token": token}).status_code
        == 404
    )
    assert "Versiju vēl nav" in text_of(liepaja.get(SETTINGS))


def test_the_reference_pages_show_tariffs_shares_and_variables(app):
    worker = page_client(app, "finance_officer")
    catalogue = text_of(worker.get("/uzzinas/pakalpojumi"))
    assert "psihologa konsultācija" in catalogue
    assert "no 01.01.2020.: 30,00\u00a0€ par vienību" in catalogue
    assert "0,25" in catalogue
    assert "atbalsta persona lēmumu pieņemšanā (APLP): stundas mēnesī pēc atbalsta līmeņa" in catalogue
    assert "2. līmenis — 16 h" in catalogue and "0–4 gadi — 200 h; 5–17 gadi — 80 h" in catalogue
    assert "no 01.01.2016.: 30 dienas" in catalogue
    projects = text_of(worker.get("/uzzinas/projekti"))
    assert "86,69&nbsp;% / 13,31&nbsp;%" in projects and "85&nbsp;% / 15&nbsp;%" in projects
    assert "9.2.2.1/15/I/001" in projects and "01.12.2015. – 31.12.2023." in projects
    documents = text_of(worker.get("/uzzinas/dokumenti"))
    assert "<code>plan.client.name</code>" in documents and "<code>municipality.logo</code>" in documents
    assert "atsauce" not in documents  # the authors' reference is for administrators


def test_the_authors_reference_is_served_to_administrators(app):
    admin = page_client(app, "administrator")
    assert "/uzzinas/dokumenti/atsauce?veids=support-plan" in text_of(admin.get("/uzzinas/dokumenti"))
    response = admin.get("/uzzinas/dokumenti/atsauce?veids=support-plan")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert admin.get("/uzzinas/dokumenti/atsauce?veids=nav").status_code == 404


def test_the_accessibility_statement_is_public_and_honest(anonymous):
    page = text_of(anonymous.get("/pieklustamiba"))
    assert "<title>Piekļūstamības paziņojums — Veidlapas</title>" in page
    assert "daļēji atbilst" in page and "EN 301 549" in page and "WCAG 2.1" in page
    assert "axe-core" in page and "PDF/UA" in page and "03.12.2026." in page
    assert "Nr. 445" in page


def test_the_held_uploads_sample_is_its_uploaders_and_a_converter_failure_is_a_page(app, monkeypatch):
    from schemas.errors import problem
    from service.api.problems import RequestProblem
    from service.web import templates_admin

    admin = page_client(app, "administrator")
    form = {"csrf_token": form_token(admin, TEMPLATES), "kind": "cover-letter"}
    data = (ROOT / "templates_lv" / "cover-letter.docx").read_bytes()
    page = text_of(admin.post(TEMPLATES, data={**form, "file": (io.BytesIO(data), "v.docx")}))
    digest = re.search(r'name="id" value="([0-9a-f]{64})"', page).group(1)
    assert admin.get(f"{TEMPLATES}/paraugs?veids=cover-letter&id={'0' * 64}").status_code == 404
    other = page_client(app, "administrator", "liepaja")  # held for its uploader only
    assert other.get(f"{TEMPLATES}/paraugs?veids=cover-letter&id={digest}&formats=png").status_code == 404

    def busy(document, archival):
        raise RequestProblem(503, problem("pdf.busy"))

    monkeypatch.setattr(templates_admin, "to_pdf", busy)  # the real picture: the browser test
    refused = admin.get(f"{TEMPLATES}/paraugs?veids=cover-letter&id={digest}&formats=pdf")
    assert refused.status_code == 503 and refused.mimetype == "text/html"
    assert "Visi PDF pārveidotāji ir aizņemti" in text_of(refused)
    assert ("rendered", "cover-letter/trial") in actions(app, "template")


def test_a_repaired_tag_is_a_warning_at_its_paragraph_and_an_expired_upload_is_asked_again(app):
    from tests.test_template_check import first_in, paragraph, run

    admin = page_client(app, "administrator")
    form = {"csrf_token": form_token(admin, TEMPLATES), "kind": "support-plan"}
    split = first_in("word/document.xml", paragraph(run("Plāns Nr. {{ plan."), run("number }} (pārbaude)")))
    response = admin.post(TEMPLATES, data={**form, "file": (io.BytesIO(split), "plans.docx")})
    assert response.status_code == 200
    page = text_of(response)
    warning = page.split('id="warning-support-plan-1"')[1].split("</li>")[0]
    assert "Plāns Nr. {{ plan.number }} (pārbaude)" in warning and "pamatteksts" in warning
    assert "Veidne izturēja pārbaudi." in page and "<title>Kļūda:" not in page
    digest = re.search(r'name="id" value="([0-9a-f]{64})"', page).group(1)
    (held,) = (app.config["BLOBS_DIR"] / "template-trials").glob(f"*-{digest}.docx")
    assert held.read_bytes() == split
    os.utime(held, (time.time() - 2 * 3600, time.time() - 2 * 3600))
    accepted = admin.post(
        f"{TEMPLATES}/pienemt", data={**form, "id": digest, "effective_from": "01.01.2021."}
    )
    assert accepted.status_code == 410
    assert "Augšupielādētā datne vairs netiek glabāta" in text_of(accepted)
    assert 'href="#f-support-plan-file"' in text_of(accepted)
