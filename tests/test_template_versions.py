"""A municipality's own templates through the API: versions uploaded (repaired with warnings, or refused
with every problem's place and nothing kept), listed, in force by their dates, downloaded, previewed with the
kind's sample as PDF and PNG, and rolled back — only by administrators, only in their municipality, audited;
on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import subprocess

import pytest
from sqlalchemy import select

from service import create_app
from service.documents import KINDS, template_store
from service.store import database
from service.store.models import AuditEntry, SettingsVersion, TemplateVersion
from tests.test_case_storage import _at_revision
from tests.test_template_check import BODY, changed, first_in, paragraph, run, standard

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

AGREEMENT = KINDS["service-agreement"]
URL = "/api/v1/municipality-templates/service-agreement"


@pytest.fixture
def admin(client):
    """An administrator of Bauska: the suite's signed-in client, named for the role these tests need."""
    return client


def send(client, data: bytes, **form):
    return client.post(URL, data={"file": (io.BytesIO(data), "template.docx"), **form})


def split_tag() -> bytes:
    """The standard agreement template with ``{{ agreement.number }}`` split into runs, as Word does."""
    split = paragraph(run("Līgums Nr. {{ agreement."), run("num", bold=True), run("ber }}"))
    return first_in(BODY, split, standard(AGREEMENT))


def test_the_standard_template_is_version_1_without_warnings(admin):
    answer = send(admin, standard(AGREEMENT))
    assert answer.status_code == 201, answer.json
    version = answer.json["version"]
    assert (version["number"], version["warnings"], version["in_force"]) == (1, 0, True)
    assert answer.json["warnings"] == []
    assert version["sha256"] == hashlib.sha256(standard(AGREEMENT)).hexdigest()
    assert version["effective_from"] == dt.date.today().isoformat()
    download = admin.get(version["url"])
    assert download.status_code == 200 and download.data == standard(AGREEMENT)


def test_a_tag_split_across_runs_is_kept_repaired_with_a_warning_and_its_place(admin):
    answer = send(admin, split_tag())
    assert answer.status_code == 201, answer.json
    (warning,) = answer.json["warnings"]
    assert warning["code"] == "template.split_tag"
    assert (warning["part"], warning["where"]) == (BODY, "body")
    assert "Līgums Nr. {{ agreement.number }}" in warning["text"]
    assert warning["message"]
    assert answer.json["version"]["warnings"] == 1
    kept = admin.get(answer.json["version"]["url"]).data
    assert kept != split_tag()


def test_an_unknown_variable_is_refused_with_its_near_name_and_place_and_nothing_is_kept(admin):
    typo = first_in(BODY, paragraph(run("Nr. {{ agreement.numbr }}")), standard(AGREEMENT))
    answer = send(admin, typo, effective_from="01.01.2021.")
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    (error,) = answer.json["errors"]
    assert error["code"] == "template.unknown_variable_near"
    assert "agreement.number" in error["message"]
    assert (error["part"], error["where"], error["text"]) == (BODY, "body", "Nr. {{ agreement.numbr }}")
    assert admin.get(URL).json == []


def test_what_is_not_a_docx_is_415_and_no_file_400(admin):
    assert send(admin, b"%PDF-1.4 not a template").status_code == 415
    assert admin.post(URL, data={}).status_code == 400


def test_a_date_typed_wrongly_is_refused_at_its_field(admin):
    answer = send(admin, standard(AGREEMENT), effective_from="01/02/2021")
    assert answer.status_code == 422
    assert answer.json["errors"][0]["path"] == "/effective_from"


def test_the_version_in_force_is_the_latest_effective_not_after_the_day(app, admin):
    today = dt.date.today()
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    assert send(admin, standard(AGREEMENT), effective_from="2021-01-01").status_code == 201
    assert send(admin, split_tag(), effective_from=next_month.strftime("%d.%m.%Y.")).status_code == 201
    listed = admin.get(URL).json
    assert [(v["number"], v["in_force"]) for v in listed] == [(1, True), (2, False)]
    assert listed[1]["effective_from"] == next_month.isoformat()
    with database(app).session() as session:
        assert template_store.in_force(session, "bauska", AGREEMENT.name, today).number == 1
        assert template_store.in_force(session, "bauska", AGREEMENT.name, next_month).number == 2
        assert template_store.in_force(session, "bauska", AGREEMENT.name, dt.date(2020, 12, 31)) is None
        assert template_store.in_force(session, "liepaja", AGREEMENT.name, today) is None


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def test_a_version_previews_the_kinds_sample_as_pdf_and_png(admin):
    line = paragraph(run("Pašvaldības paraugs: {{ agreement.number }}"))
    marked = first_in(BODY, line, standard(AGREEMENT))
    url = send(admin, marked).json["version"]["url"]
    pdf = admin.get(f"{url}/preview?format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "Pašvaldības paraugs:" in text
    assert "Līgums" in text
    png = admin.get(f"{url}/preview", query_string={"format": "png"})
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")


def test_the_preview_is_made_with_the_uploaders_settings_in_force(app, admin):
    body = {"clauses": {"complaints": "Sūdzības izskata Bauskas domes komiteja."}}
    with database(app).session() as session:
        session.add(
            SettingsVersion(
                municipality="bauska",
                number=1,
                effective_from=dt.date.today() - dt.timedelta(days=1),
                sha256="0" * 64,
                body=json.dumps(body),
            )
        )
    url = send(admin, standard(AGREEMENT)).json["version"]["url"]
    text = " ".join(pdf_text(admin.get(f"{url}/preview?format=pdf").data).split())
    assert "10. Strīdu un sūdzību izskatīšana" in text
    assert "Sūdzības izskata Bauskas domes komiteja." in text


def test_a_rollback_makes_a_new_version_with_the_earlier_content(admin):
    first = send(admin, standard(AGREEMENT)).json["version"]
    send(admin, split_tag())
    answer = admin.post(f"{URL}/1/rollback")
    assert answer.status_code == 201, answer.json
    assert (answer.json["number"], answer.json["rolled_back_from"]) == (3, 1)
    assert answer.json["sha256"] == first["sha256"] and answer.json["in_force"]
    dated = admin.post(f"{URL}/2/rollback", json={"effective_from": "2021-01-01"})
    assert dated.status_code == 201
    assert (dated.json["number"], dated.json["effective_from"]) == (4, "2021-01-01")
    assert not dated.json["in_force"]
    assert [v["number"] for v in admin.get(URL).json] == [1, 2, 3, 4]
    assert admin.post(f"{URL}/9/rollback").status_code == 404


def test_two_versions_saved_at_once_keep_the_first_and_answer_409_for_the_second(admin, monkeypatch):
    send(admin, standard(AGREEMENT))
    monkeypatch.setattr(template_store, "_next_number", lambda *_: 1)  # as if both had read no version 1
    for answer in (send(admin, split_tag()), admin.post(f"{URL}/1/rollback")):
        assert answer.status_code == 409
        assert answer.json["errors"][0]["code"] == "template.version_taken"
    assert [v["number"] for v in admin.get(URL).json] == [1]


def test_another_municipality_sees_404_and_a_social_worker_403(app, admin, user_headers):
    send(admin, standard(AGREEMENT))
    liepaja, worker = user_headers("administrator", "liepaja"), user_headers("social_worker", "bauska")
    client = app.test_client()
    for url, method in ((f"{URL}/1", "GET"), (f"{URL}/1/preview", "GET"), (f"{URL}/1/rollback", "POST")):
        assert client.open(url, method=method, headers=liepaja).status_code == 404, url
        assert client.open(url, method=method, headers=worker).status_code == 403, url
    assert client.get(URL, headers=liepaja).json == []
    assert client.get(URL, headers=worker).status_code == 403
    assert send(app.test_client(), standard(AGREEMENT)).status_code == 401


def test_the_delivery_act_and_unknown_kinds_have_no_own_templates(admin):
    for kind in ("delivery-act", "no-such-kind"):
        assert admin.get(f"/api/v1/municipality-templates/{kind}").status_code == 404
        assert admin.post(f"/api/v1/municipality-templates/{kind}").status_code in (404, 405)
        assert admin.get(f"/api/v1/municipality-templates/{kind}/1").status_code == 404


def test_uploads_downloads_and_rollbacks_are_audited(app, admin):
    sha = send(admin, standard(AGREEMENT)).json["version"]["sha256"]
    unknown = changed(standard(AGREEMENT), BODY, lambda xml: xml.replace("{{", "{{ agreement.nope }}{{", 1))
    send(admin, unknown)
    admin.get(f"{URL}/1")
    admin.post(f"{URL}/1/rollback")
    with database(app).session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "template")).all()
        trail = [(e.action, e.object_id, e.outcome) for e in entries]
        stored = session.scalars(select(TemplateVersion)).all()
    assert trail == [
        ("uploaded", "service-agreement/1", "ok"),
        ("uploaded", "service-agreement", "invalid"),
        ("downloaded", "service-agreement/1", "ok"),
        ("rolled_back", "service-agreement/2", "ok"),
    ]
    assert entries[0].sha256 == sha and {v.number for v in stored} == {1, 2}


def test_a_database_at_0008_gets_the_table_of_template_versions(database_url, tmp_path):
    _at_revision(database_url, "0008")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "JOBS_DIR": tmp_path / "jobs"})
    with database(app).session() as session:
        session.add(
            TemplateVersion(
                municipality="bauska",
                kind=AGREEMENT.name,
                number=1,
                effective_from=dt.date(2021, 1, 1),
                sha256="0" * 64,
                size=1,
                content=b"x",
            )
        )
    with database(app).session() as session:
        assert template_store.in_force(session, "bauska", AGREEMENT.name, dt.date(2021, 1, 1)).warnings == 0
    database(app).engine.dispose()
