"""A municipality's own settings through the API: versions saved (a bad logo or a clause with template code
refused at its field, nothing kept), listed with the settings in force today, in force by their dates for
``service.documents.municipal.settings_on``, shown, their logo downloaded, rolled back — only by
administrators, only in their municipality, audited; on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import io
import json

import pytest
from PIL import Image
from sqlalchemy import select

from schemas.municipal_settings import LOGO_MAX_BYTES
from service.config import ROOT
from service.documents import municipal, settings_store
from service.store import database
from service.store.models import AuditEntry, SettingsVersion

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

URL = "/api/v1/municipality-settings"
SAMPLE = json.loads((ROOT / "samples" / "municipality-settings.json").read_text(encoding="utf-8"))


@pytest.fixture
def admin(client):
    """An administrator of Bauska: the suite's signed-in client, named for the role these tests need."""
    return client


def settings(**changes) -> dict:
    """The Bauska sample with ``changes`` (``None`` removes a field)."""
    body = copy.deepcopy(SAMPLE)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def picture(kind: str, size=(64, 32)) -> str:
    data = io.BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(data, kind)
    return base64.b64encode(data.getvalue()).decode("ascii")


def errors(answer) -> dict[str, str]:
    assert answer.status_code == 422, answer.json
    return {error["path"]: error["code"] for error in answer.json["errors"]}


def test_the_sample_is_saved_as_version_1_in_force_with_its_logo(admin):
    answer = admin.post(URL, json=SAMPLE)
    assert answer.status_code == 201, answer.json
    made = answer.json
    assert (made["number"], made["effective_from"], made["in_force"]) == (1, "2021-01-01", True)
    assert made["overrides"]["head"]["position"] == "domes priekšsēdētāja"
    assert set(made["overrides"]["clauses"]) == {"payment_terms", "confidentiality"}
    assert "logo" not in made["overrides"] and "logo_size" not in made["overrides"]
    assert answer.headers["Location"].endswith(f"{URL}/1")
    logo = admin.get(made["logo"])
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert logo.data == base64.b64decode(SAMPLE["logo"])
    assert admin.get(made["url"]).json == made


def test_the_list_says_which_version_is_in_force_and_what_documents_print_today(admin):
    before = admin.get(URL).json
    assert (before["versions"], before["in_force"], before["municipality"]) == ([], None, "bauska")
    assert before["settings"]["name"] == "Bauskas novada pašvaldība"
    assert before["settings"]["head"]["name"] == "Aivars Okmanis" and not before["settings"]["has_logo"]
    admin.post(URL, json=SAMPLE)
    after = admin.get(URL).json
    assert after["in_force"] == 1 and [v["number"] for v in after["versions"]] == [1]
    merged = after["settings"]
    assert merged["head"]["name"] == SAMPLE["head"]["name"] and merged["has_logo"]
    assert merged["name_genitive"] == "Bauskas novada pašvaldības"  # from the file: not overridden
    assert merged["agreement_series"] == "L-{year}/{seq:03}"
    assert merged["clauses"]["payment_terms"] == SAMPLE["clauses"]["payment_terms"]
    assert merged["settings_version"] == 1


def test_a_document_dated_before_a_version_gets_the_earlier_settings(app, admin):
    admin.post(URL, json=settings(logo=None))
    later = settings(effective_from="2022-07-01", logo=None, head=None, bank="Valsts kase", clauses=None)
    assert admin.post(URL, json=later).status_code == 201
    with database(app).session() as session:
        assert municipal.settings_on(session, "bauska", dt.date(2020, 12, 31)).version is None
        first = municipal.settings_on(session, "bauska", dt.date(2022, 6, 30))
        second = municipal.settings_on(session, "bauska", dt.date(2022, 7, 1))
        untouched = municipal.settings_on(session, "liepaja", dt.date(2022, 7, 1))
    assert first.version == 1 and first.municipality.details["head"]["name"] == SAMPLE["head"]["name"]
    assert first.municipality.details["bank"] == 'AS "SEB banka"'
    assert first.clauses["confidentiality"] == SAMPLE["clauses"]["confidentiality"]
    assert second.version == 2 and second.municipality.details["bank"] == "Valsts kase"
    assert second.municipality.details["head"]["name"] == "Aivars Okmanis"  # version 2 overrides no head
    assert second.clauses == {} and second.logo is None
    assert untouched.version is None and untouched.municipality.details["bank"] == "Valsts kase"


def test_the_logo_is_kept_with_its_size_and_hashed_with_the_body(app, admin):
    admin.post(URL, json=SAMPLE)
    with database(app).session() as session:
        (kept,) = session.scalars(select(SettingsVersion)).all()
        body, logo, logo_type, sha = kept.body, kept.logo, kept.logo_type, kept.sha256
        read = municipal.settings_on(session, "bauska", dt.date(2021, 1, 1))
    assert json.loads(body)["logo_size"] == [64, 32] and logo_type == "image/png"
    assert list(json.loads(body)) == sorted(json.loads(body))
    assert sha == settings_store.digest(body, logo)
    assert (read.logo.width, read.logo.height, read.logo.data) == (64, 32, logo)


def test_a_rollback_makes_a_new_version_with_the_earlier_content(admin):
    first = admin.post(URL, json=SAMPLE).json
    admin.post(URL, json=settings(logo=None, clauses=None, effective_from="2021-06-01"))
    answer = admin.post(f"{URL}/1/rollback")
    assert answer.status_code == 201, answer.json
    made = answer.json
    assert (made["number"], made["rolled_back_from"], made["sha256"]) == (3, 1, first["sha256"])
    assert made["effective_from"] == dt.date.today().isoformat() and made["in_force"]
    assert made["overrides"] == first["overrides"] and made["logo"].endswith("/3/logo")
    dated = admin.post(
        f"{URL}/2/rollback", json=json.loads((ROOT / "samples/template-rollback.json").read_text())
    )
    assert dated.status_code == 201
    assert (dated.json["number"], dated.json["effective_from"], dated.json["in_force"]) == (
        4,
        "2021-01-01",
        False,
    )
    assert [v["number"] for v in admin.get(URL).json["versions"]] == [1, 2, 3, 4]
    assert admin.post(f"{URL}/9/rollback").status_code == 404
    assert errors(admin.post(f"{URL}/1/rollback", json={"effective_from": "01/02/2021"})) == {
        "/effective_from": "date.invalid"
    }


@pytest.mark.parametrize(
    ("logo", "code"),
    [
        (picture("GIF"), "settings.logo_type"),
        (base64.b64encode(b"\x89PNG\r\n\x1a\n not really").decode(), "settings.logo_type"),
        (base64.b64encode(b"\0" * (LOGO_MAX_BYTES + 1)).decode(), "settings.logo_too_large"),
        (picture("PNG", (2001, 10)), "settings.logo_pixels"),
        ("not base64 at all!", "settings.logo_base64"),
    ],
    ids=["gif", "broken-png", "too-large", "too-wide", "bad-base64"],
)
def test_a_bad_logo_is_refused_at_logo_and_nothing_is_kept(admin, logo, code):
    assert errors(admin.post(URL, json=settings(logo=logo))) == {"/logo": code}
    assert admin.get(URL).json["versions"] == []


def test_a_jpeg_logo_is_kept_as_a_jpeg(admin):
    made = admin.post(URL, json=settings(logo=picture("JPEG"))).json
    assert admin.get(made["logo"]).mimetype == "image/jpeg"


def test_template_code_in_a_clause_and_other_bad_fields_are_refused_at_their_paths(admin):
    bad = settings(clauses={"payment_terms": "Līdz {{ datums }}.", "other": "x"})
    found = errors(admin.post(URL, json=bad))
    assert found["/clauses/payment_terms"] == "settings.clause_code"
    assert "/clauses/other" in found
    series = errors(admin.post(URL, json=settings(agreement_series="L-{n}")))
    assert series == {"/agreement_series": "municipality.series"}
    assert errors(admin.post(URL, json=settings(effective_from=None))) == {"/effective_from": "required"}
    assert admin.get(URL).json["versions"] == []


def test_a_version_without_a_logo_has_no_logo_url(admin):
    made = admin.post(URL, json=settings(logo=None)).json
    assert made["logo"] is None
    assert admin.get(f"{URL}/1/logo").status_code == 404
    assert admin.get(f"{URL}/2").status_code == 404


def test_another_municipality_sees_nothing_and_a_social_worker_403(app, admin, user_headers):
    admin.post(URL, json=SAMPLE)
    liepaja, worker = user_headers("administrator", "liepaja"), user_headers("social_worker", "bauska")
    reviewer = user_headers("reviewer", "bauska")
    client = app.test_client()
    for url, method in ((f"{URL}/1", "GET"), (f"{URL}/1/logo", "GET"), (f"{URL}/1/rollback", "POST")):
        assert client.open(url, method=method, headers=liepaja).status_code == 404, url
        assert client.open(url, method=method, headers=worker).status_code == 403, url
        assert client.open(url, method=method, headers=reviewer).status_code == 403, url
    assert client.get(URL, headers=liepaja).json["versions"] == []
    assert client.get(URL, headers=liepaja).json["settings"]["name"] == "Liepājas valstspilsētas pašvaldība"
    assert client.get(URL, headers=worker).status_code == 403
    assert client.post(URL, json=SAMPLE, headers=worker).status_code == 403
    assert client.post(URL, json=SAMPLE).status_code == 401
    made = client.post(URL, json=settings(logo=None), headers=liepaja).json
    assert made["number"] == 1  # numbers are per municipality
    assert [v["number"] for v in admin.get(URL).json["versions"]] == [1]
    assert admin.get(URL).json["settings"]["head"]["name"] == SAMPLE["head"]["name"]


def test_a_municipality_the_file_does_not_list_is_409(app, user_headers):
    elsewhere = user_headers("administrator", "nekurene")
    client = app.test_client()
    for answer in (client.get(URL, headers=elsewhere), client.post(URL, json=SAMPLE, headers=elsewhere)):
        assert answer.status_code == 409
        assert answer.json["errors"][0]["code"] == "municipality.unknown"
    with database(app).session() as session:
        assert session.scalars(select(SettingsVersion)).all() == []


def test_two_versions_saved_at_once_keep_the_first_and_answer_409_for_the_second(admin, monkeypatch):
    admin.post(URL, json=SAMPLE)
    monkeypatch.setattr(settings_store, "_next_number", lambda *_: 1)  # as if both had read no version 1
    for answer in (admin.post(URL, json=SAMPLE), admin.post(f"{URL}/1/rollback")):
        assert answer.status_code == 409
        assert answer.json["errors"][0]["code"] == "settings.version_taken"
    assert [v["number"] for v in admin.get(URL).json["versions"]] == [1]


def test_saves_reads_and_rollbacks_are_audited(app, admin):
    sha = admin.post(URL, json=SAMPLE).json["sha256"]
    admin.get(f"{URL}/1")
    admin.get(f"{URL}/1/logo")
    admin.post(f"{URL}/1/rollback")
    with database(app).session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "settings")).all()
        trail = [(e.action, e.object_id, e.municipality, e.sha256) for e in entries]
    assert trail == [
        ("saved", "1", "bauska", sha),
        ("read", "1", "bauska", sha),
        ("downloaded", "1/logo", "bauska", sha),
        ("rolled_back", "2", "bauska", sha),
    ]


def test_the_endpoints_are_documented_with_their_schemas(app, anonymous):
    spec = anonymous.get("/openapi.json").json
    body = spec["paths"][URL]["post"]["requestBody"]["content"]["application/json"]["schema"]
    sent = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["properties"]
    assert {"effective_from", "head", "clauses", "logo"} <= set(sent)
    assert {"get", "post"} <= set(spec["paths"][URL])
    for path in (f"{URL}/{{number}}", f"{URL}/{{number}}/logo", f"{URL}/{{number}}/rollback"):
        assert path in spec["paths"], path


def test_the_sample_logo_is_a_small_png(database_url):
    with Image.open(io.BytesIO(base64.b64decode(SAMPLE["logo"]))) as logo:
        assert (logo.format, logo.size) == ("PNG", (64, 32))
