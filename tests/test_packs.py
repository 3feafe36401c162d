"""Reimbursement packs as background jobs on the embedded backend (a pool of worker processes).

Every pack is opened and read: the documents, the sums in summary.xlsx against the request and its
lines, the manifest's hashes, the bookmarks of pack.pdf; the same order gives the same bytes.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from schemas.reimbursement import ReimbursementRequestSchema
from service import jobs
from service.store import database
from tests.case_helpers import accepted_act
from tests.docx_text import docx_text
from tests.helpers import SAMPLES, load_sample, upload

ORDER = "pack-order-bauska-2020-09"
WAIT_S = 240


def order(**changes) -> dict:
    data = load_sample(ORDER)
    data["pdf"] = False
    data.update(changes)
    return data


def finished(client, url: str, headers=None, timeout_s: float = WAIT_S) -> dict:
    """The job once it left queued/running."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(url, headers=headers or {}).json
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still {job['state']} after {timeout_s} s: {job}")


def make_pack(client, body: dict, headers=None) -> tuple[dict, bytes]:
    response = client.post("/api/v1/packs", json=body, headers=headers or {})
    assert response.status_code == 202, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"] == response.json["url"]
    job = finished(client, response.json["url"], headers)
    assert job["state"] == "succeeded", job
    download = client.get(job["result"]["url"], headers=headers or {})
    assert download.status_code == 200 and download.mimetype == "application/zip"
    return job, download.data


def sample_request() -> dict:
    """The Bauska request sample loaded: the figures every pack of the sample order must show."""
    return ReimbursementRequestSchema().load(load_sample("reimbursement-request-bauska-2020-09"))


def test_an_order_becomes_a_job_whose_zip_holds_every_document_and_a_checkable_summary(client):
    job, data = make_pack(client, order())
    expected = sample_request()
    assert job["done"] == job["total"] == 2 + len(expected["by_client"])
    assert job["title"] == "KP-BNP-2020/09" and job["result"]["size"] == len(data)

    pack = zipfile.ZipFile(io.BytesIO(data))
    names = pack.namelist()
    assert names[0].startswith("01-Pavadvestule") and names[1].startswith("02-Kompensacijas-pieprasijums")
    assert names[-2:] == ["summary.xlsx", "manifest.json"]
    details = [n for n in names if n.startswith("Klienti/") and n.endswith("/Izklasts.docx")]
    assert len(details) == len(expected["by_client"]) == 7
    assert all(".." not in n and not n.startswith("/") for n in names)

    manifest = json.loads(pack.read("manifest.json"))
    import hashlib

    for entry in manifest["files"]:
        content = pack.read(entry["name"])
        assert hashlib.sha256(content).hexdigest() == entry["sha256"] and len(content) == entry["size"]
    assert [entry["name"] for entry in manifest["files"]] == names[:-1]
    assert manifest["counts"] == {"clients": 7, "lines": 96, "acts": 0, "documents": 9}
    assert Decimal(manifest["totals"]["amount"]) == expected["totals"]["amount"]
    assert Decimal(manifest["totals"]["esf"]) == expected["totals"]["esf"]
    assert manifest["input_sha256"] == job["input_sha256"]

    request_text = docx_text(pack.read(names[1]))
    assert "KP-BNP-2020/09" in request_text and "Bauskas novada pašvaldība" in request_text
    cover = docx_text(pack.read(names[0]))
    assert "Labklājības ministrija" in cover

    workbook = load_workbook(io.BytesIO(pack.read("summary.xlsx")))
    lines = [row for row in workbook["Rindas"].iter_rows(min_row=2, values_only=True) if row[0]]
    amounts = [row[-1] for row in lines if isinstance(row[-1], int | float)]
    assert len(amounts) == 96
    assert Decimal(str(round(sum(amounts), 2))) == expected["totals"]["amount"]


def test_each_clients_detail_holds_that_clients_lines_and_amount(client):
    _, data = make_pack(client, order())
    pack = zipfile.ZipFile(io.BytesIO(data))
    expected = sample_request()
    details = sorted(n for n in pack.namelist() if n.endswith("/Izklasts.docx"))
    for name, client_total in zip(details, expected["by_client"], strict=True):
        text = docx_text(pack.read(name))
        assert client_total["personal_code"] in text
        others = [c["personal_code"] for c in expected["by_client"] if c is not client_total]
        assert not any(code in text for code in others)


def test_the_same_order_returns_the_same_job_and_a_reused_key_with_other_data_is_refused(client):
    body = order()
    first = client.post("/api/v1/packs", json=body)
    again = client.post("/api/v1/packs", json=body)
    assert first.status_code == 202 and again.status_code == 200
    assert again.json["id"] == first.json["id"]
    keyed = client.post("/api/v1/packs", json=body, headers={"Idempotency-Key": "bauska-2020-09"})
    keyed_again = client.post("/api/v1/packs", json=body, headers={"Idempotency-Key": "bauska-2020-09"})
    assert keyed.status_code == 202 and keyed_again.status_code == 200
    assert keyed_again.json["id"] == keyed.json["id"]
    changed = order(date="2020-10-09")
    conflict = client.post("/api/v1/packs", json=changed, headers={"Idempotency-Key": "bauska-2020-09"})
    assert conflict.status_code == 422 and conflict.json["errors"][0]["code"] == "idempotency.conflict"
    bad_key = client.post("/api/v1/packs", json=body, headers={"Idempotency-Key": "no spaces/slashes"})
    assert bad_key.status_code == 400
    finished(client, first.json["url"])


def test_a_bad_order_lists_every_problem_with_its_line_and_starts_no_job(client):
    body = order()
    body["lines"][3]["date"] = "08.09.2020."
    body["lines"][40]["agreement"] = "NAV-TĀDA"
    body["lines"][41]["units"] = "-1"
    response = client.post("/api/v1/packs", json=body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    paths = {(e["path"], e["code"]) for e in response.json["errors"]}
    assert ("/lines/3/date", "date.invalid") in paths
    assert ("/lines/40/agreement", "reimbursement.unknown_agreement") in paths
    assert any(path == "/lines/41/units" for path, _ in paths)
    assert client.get("/api/v1/jobs").json == []


@pytest.mark.parametrize(
    ("changes", "path", "code"),
    [
        ({"municipality": "nekurene"}, "/municipality", "municipality.unknown"),
        (
            {"project": "ZEMGALE-DI", "municipality": "liepaja"},
            "/project",
            "municipality.no_project_agreement",
        ),
        ({"period": {"start": "2020-08-15", "end": "2020-09-14"}}, "/period", "period.month_or_quarter"),
        ({"lines": []}, "/lines", "pack.no_lines"),
        ({"source": "submissions"}, "/source", "pack.lines_twice"),
    ],
)
def test_order_header_problems_are_named(client, user_headers, changes, path, code):
    headers = user_headers("finance_officer", changes.get("municipality", "bauska"))
    response = client.post("/api/v1/packs", json=order(**changes), headers=headers)
    assert response.status_code == 422, response.json
    assert (path, code) in {(e["path"], e["code"]) for e in response.json["errors"]}


def test_packs_are_scoped_to_the_municipality_and_roles(client, user_headers):
    made = client.post("/api/v1/packs", json=order()).json
    liepaja = user_headers("finance_officer", "liepaja")
    assert client.get(made["url"], headers=liepaja).status_code == 404
    assert client.get(f"{made['url']}/result", headers=liepaja).status_code == 404
    assert client.delete(made["url"], headers=liepaja).status_code == 404
    assert made["id"] not in {j["id"] for j in client.get("/api/v1/jobs", headers=liepaja).json}
    other = client.post("/api/v1/packs", json=order(municipality="liepaja"))
    assert other.status_code == 403 and other.json["errors"][0]["code"] == "municipality.not_yours"
    social_worker = user_headers("social_worker", "bauska")
    assert client.post("/api/v1/packs", json=order(), headers=social_worker).status_code == 403
    reviewer = user_headers("reviewer", "riga")
    assert client.get(made["url"], headers=reviewer).status_code == 200
    finished(client, made["url"])
    actions = [e["action"] for e in client.get("/api/v1/audit?object_id=" + made["id"]).json]
    assert "created" in actions


def test_a_cancelled_job_stops_and_leaves_no_pack(client, app):
    from bench.pack_data import pack_order

    response = client.post("/api/v1/packs", json=pack_order(150))
    assert response.status_code == 202
    assert client.delete(response.json["url"]).status_code == 204
    job = finished(client, response.json["url"])
    assert job["state"] == "cancelled" and job["result"] is None
    assert client.get(f"{response.json['url']}/result").status_code == 410
    time.sleep(1)
    assert not (jobs.folder(app) / job["id"] / "pack.zip").exists()


def test_a_document_that_cannot_be_made_fails_the_job_with_its_name_and_no_zip(tmp_path, database_url):
    import shutil

    from service import accounts, create_app

    templates = tmp_path / "templates"
    shutil.copytree(SAMPLES.parent / "templates_lv", templates)
    detail = templates / "client-detail.docx"
    detail.write_bytes(
        _replace_in_docx(
            detail.read_bytes(), "{{ reimbursement.number }}", "{{ reimbursement.number|money }}"
        )
    )
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "JOBS_DIR": tmp_path / "jobs",
            "TEMPLATES_DIR": templates,
        }
    )
    with database(app).session() as session:
        _, token = accounts.add_user(session, "fo", "finance_officer", "bauska")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    response = client.post("/api/v1/packs", json=order(), headers=headers)
    job = finished(client, response.json["url"], headers)
    assert job["state"] == "failed" and job["result"] is None
    assert job["error"]["code"] == "job.failed_document"
    assert "Klienta pakalpojumu izklāsts" in job["error"]["message"]
    assert client.get(f"{response.json['url']}/result", headers=headers).status_code == 410
    assert not (tmp_path / "jobs" / job["id"]).exists()


def test_a_pack_from_the_accepted_acts_of_the_period_carries_the_acts(client, tmp_path):
    accepted_act(client, {}, tmp_path)
    unmatched = upload(client, (SAMPLES / "delivery-act-filled.pdf").read_bytes()).json
    assert unmatched["agreement_id"] is None  # received, never accepted: not in the pack
    body = load_sample("pack-order-from-acts-2020-09")
    body["pdf"] = False
    _, data = make_pack(client, body)
    pack = zipfile.ZipFile(io.BytesIO(data))
    acts = [n for n in pack.namelist() if "/Akts-" in n]
    assert len(acts) == 1
    manifest = json.loads(pack.read("manifest.json"))
    assert manifest["counts"]["acts"] == 1 and manifest["counts"]["clients"] == 1
    other_project = client.post("/api/v1/packs", json={**body, "project": "ZEMGALE-DI"})
    assert [e["code"] for e in other_project.json["errors"]] == ["pack.no_submissions"]
    act_text = docx_text(pack.read(acts[0]))
    assert "Pakalpojuma sniegšanas akts" in act_text or "AKTS" in act_text.upper()


def test_hostile_client_names_stay_text_in_member_names_and_documents(client):
    body = order()
    body["agreements"][0]["client"]["name"] = '=HYPERLINK("http://x","y") ../../etc'
    body["agreements"][1]["client"]["name"] = "CON"
    _, data = make_pack(client, body)
    pack = zipfile.ZipFile(io.BytesIO(data))
    for name in pack.namelist():
        assert ".." not in name and not name.startswith("/") and "=" not in name and '"' not in name
    hostile = next(n for n in pack.namelist() if "HYPERLINK" in n and n.endswith("Izklasts.docx"))
    assert '=HYPERLINK("http://x","y") ../../etc' in docx_text(pack.read(hostile))
    workbook = load_workbook(io.BytesIO(pack.read("summary.xlsx")))
    for sheet in workbook:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                    assert cell.data_type == "s"


def test_with_pdf_the_same_order_gives_byte_identical_packs_with_a_bookmarked_pack_pdf(client):
    body = order(pdf=True)
    keep = {a["number"] for a in body["agreements"][:2]}
    body["agreements"] = [a for a in body["agreements"] if a["number"] in keep]
    body["lines"] = [line for line in body["lines"] if line["agreement"] in keep]
    first_job, first = make_pack(client, body)
    assert client.delete(first_job["url"]).status_code == 204
    _, second = make_pack(client, body)
    assert first == second

    pack = zipfile.ZipFile(io.BytesIO(first))
    names = pack.namelist()
    assert sum(n.endswith(".pdf") for n in names) == 4 + 1  # cover, request, 2 details, pack.pdf
    reader = PdfReader(io.BytesIO(pack.read("pack.pdf")))
    titles = [item.title if not isinstance(item, list) else None for item in reader.outline]
    assert titles[0] == "Pavadvēstule" and titles[1].startswith("Izmaksu kompensācijas pieprasījums")
    clients = [t for t in titles[2:] if t]
    assert len(clients) == 2 and clients[0].startswith("1. ")
    text = "".join(page.extract_text() for page in reader.pages)
    assert "KP-BNP-2020/09" in text and "Bauskas novada pašvaldība" in text


def test_the_input_template_has_latvian_headers(client):
    response = client.get("/api/v1/packs/template.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in workbook["Rindas"][1]][:4] == [
        "Līguma Nr.",
        "Pakalpojuma kods",
        "Datums",
        "Vienības",
    ]


def test_an_xlsx_order_makes_the_same_pack_as_the_json_order(client):
    with open(SAMPLES / "pack-bauska-2020-09.xlsx", "rb") as xlsx:
        response = client.post(
            "/api/v1/packs",
            data={
                "order": json.dumps(
                    {"project": "IBM", "period": "2020-09", "date": "2020-10-08", "pdf": False}
                ),
                "lines": (xlsx, "rindas.xlsx"),
            },
            content_type="multipart/form-data",
        )
    assert response.status_code == 202, response.json
    job = finished(client, response.json["url"])
    manifest = json.loads(
        zipfile.ZipFile(io.BytesIO(client.get(job["result"]["url"]).data)).read("manifest.json")
    )
    assert Decimal(manifest["totals"]["amount"]) == sample_request()["totals"]["amount"]
    assert manifest["counts"]["lines"] == 96


def test_a_bad_csv_row_is_named_by_sheet_row_and_column(client):
    text = (SAMPLES / "pack-lines-bauska-2020-09.csv").read_bytes().decode("utf-8-sig").splitlines()
    cells = text[5].split(";")
    cells[2] = "31.09.2020"
    text[5] = ";".join(cells)
    response = client.post(
        "/api/v1/packs",
        data={
            "order": json.dumps({"project": "IBM", "period": "2020-09", "date": "2020-10-08"}),
            "lines": (io.BytesIO("\n".join(text).encode()), "rindas.csv"),
            "agreements": (
                io.BytesIO((SAMPLES / "pack-agreements-bauska-2020-09.csv").read_bytes()),
                "ligumi.csv",
            ),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.json
    error = next(e for e in response.json["errors"] if e["path"] == "/lines/4/date")
    assert error["row"] == 6 and error["column"] == "Datums"


def _replace_in_docx(data: bytes, old: str, new: str) -> bytes:
    """A copy of a DOCX with ``old`` replaced in its body (to break a template on purpose)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "word/document.xml":
                assert old.encode() in content
                content = content.replace(old.encode(), new.encode())
            target.writestr(item, content)
    return out.getvalue()
