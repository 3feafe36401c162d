"""Packs of any size: orders from tables up to the configured limits, the larger ones validated inside their
job (whose failure lists the same problems, placed, as a 422 does), the disk checked before a job starts.

The big sizes are the benchmark's (``bench/pack.py``: pdf-5000, pdf-10000, docx-10000); here an order just
above the JSON limits is taken and fails in its job on its bad lines (no document is made), and the
threshold is configured low to make a small pack the job validates itself.
"""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest

from bench.pack_data import order_tables, pack_order
from schemas.reimbursement import MAX_AGREEMENTS, MAX_LINES, ReimbursementRequestSchema
from service import accounts, create_app
from service.packs.tables import input_template
from service.store import database
from tests.test_packs import finished

HEADER = {"project": "IBM", "period": "2020-09", "date": "2020-10-08", "pdf": False}


@pytest.fixture
def make_client(tmp_path, database_url):
    """A signed-in finance officer's client of an application with ``config`` added."""
    apps = []

    def make(**config):
        app = create_app(
            {"TESTING": True, "DATABASE_URL": database_url, "JOBS_DIR": tmp_path / "jobs", **config}
        )
        apps.append(app)
        with database(app).session() as session:
            _, token = accounts.add_user(session, f"fo{len(apps)}", "finance_officer", "bauska")
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    yield make
    for app in apps:
        database(app).engine.dispose()


def csv_order(clients: int, lines_per_client: int, spoil=None) -> tuple[dict, dict]:
    order = pack_order(clients, lines_per_client=lines_per_client)
    if spoil:
        spoil(order)
    return order, order_tables(order)[1]


def post_tables(client, files: dict[str, bytes], **header):
    return client.post(
        "/api/v1/packs",
        data={
            "order": json.dumps({**HEADER, **header}),
            **{key: (io.BytesIO(data), f"{key}.csv") for key, data in files.items()},
        },
        content_type="multipart/form-data",
    )


def spoil_two_lines(order: dict) -> None:
    order["lines"][3]["date"] = "2020-10-05"
    order["lines"][-1]["code"] = "NAV-TAADA"


def test_an_order_above_the_json_limits_is_taken_from_tables_and_its_job_lists_the_problems_a_422_would(
    make_client,
):
    client = make_client()
    small = post_tables(client, csv_order(3, 5, spoil_two_lines)[1])
    assert small.status_code == 422
    expected = {
        (e["path"], e["code"], e["message"], e.get("sheet"), e.get("row"), e.get("column"))
        for e in small.json["errors"]
    }

    order, files = csv_order(MAX_LINES // 6 + 1, 6, spoil_two_lines)
    assert len(order["lines"]) > MAX_LINES
    response = post_tables(client, files)
    assert response.status_code == 202, response.get_data(as_text=True)[:2000]
    job = finished(client, response.json["url"])
    assert job["state"] == "failed" and job["done"] == 0 and job["result"] is None
    error = job["error"]
    assert error["code"] == "pack.invalid_order"
    assert error["message"] == f"The order has {len(error['errors'])} problems; they are listed in errors."
    last = len(order["lines"]) - 1
    found = {
        (e["path"], e["code"], e["message"], e.get("sheet"), e.get("row"), e.get("column"))
        for e in error["errors"]
    }
    moved = {
        (
            path.replace("/lines/14/", f"/lines/{last}/"),
            code,
            message,
            sheet,
            last + 2 if row == 16 else row,
            column,
        )
        for path, code, message, sheet, row, column in expected
    }
    assert found == moved
    assert ("/lines/3/date", "reimbursement.outside_period") in {
        (e["path"], e["code"]) for e in error["errors"]
    }
    assert next(e for e in error["errors"] if e["path"] == "/lines/3/date")["row"] == 5
    assert all(e["sheet"] == "Rindas" and e["column"] for e in error["errors"])


def test_with_a_low_threshold_a_small_order_is_validated_in_its_job_and_makes_its_pack(make_client):
    client = make_client(PACK_JOB_CHECK_LINES=10)
    order, files = csv_order(4, 5)
    response = post_tables(client, files)
    assert response.status_code == 202, response.get_data(as_text=True)[:2000]
    job = finished(client, response.json["url"])
    assert job["state"] == "succeeded", job
    pack = zipfile.ZipFile(io.BytesIO(client.get(job["result"]["url"]).data))
    manifest = json.loads(pack.read("manifest.json"))
    request = ReimbursementRequestSchema().load(_raw_request(order))
    assert manifest["counts"] == {"clients": 4, "lines": 20, "acts": 0, "documents": 6}
    assert Decimal(manifest["totals"]["amount"]) == request["totals"]["amount"] > 0
    assert Decimal(manifest["totals"]["esf"]) == request["totals"]["esf"]

    bad = post_tables(client, csv_order(4, 5, spoil_two_lines)[1])
    assert bad.status_code == 202
    failed = finished(client, bad.json["url"])
    assert failed["error"]["code"] == "pack.invalid_order"
    assert {e["path"] for e in failed["error"]["errors"]} >= {"/lines/3/date", "/lines/19/code"}


def _raw_request(order: dict) -> dict:
    from schemas.pack import PackOrderSchema, request_input

    header = PackOrderSchema().load_header({**HEADER, "municipality": "bauska"})
    return request_input(header, order["agreements"], order["lines"], attachments=[])


def test_orders_over_the_configured_limits_are_refused_and_a_json_body_keeps_its_limits(make_client):
    client = make_client(PACK_MAX_LINES=15, PACK_MAX_AGREEMENTS=3)
    lines = post_tables(client, {"lines": csv_order(4, 4)[1]["lines"]})
    assert lines.status_code == 422
    assert [(e["code"], e["sheet"]) for e in lines.json["errors"]] == [("table.too_many_rows", "Rindas")]
    agreements = post_tables(client, csv_order(4, 3)[1])
    assert agreements.status_code == 422
    refused = {(e["path"], e["code"]): e["message"] for e in agreements.json["errors"]}
    assert "at most 3 items" in refused["/agreements", "list.too_long"]

    client = make_client()
    order = pack_order(2, lines_per_client=1)
    order["agreements"] = order["agreements"] * ((MAX_AGREEMENTS + 2) // 2)
    body = client.post(
        "/api/v1/packs", json={**HEADER, "agreements": order["agreements"], "lines": order["lines"]}
    )
    assert body.status_code == 422
    assert (
        f"at most {MAX_AGREEMENTS} items"
        in {e["path"]: e["message"] for e in body.json["errors"]}["/agreements"]
    )


def test_an_order_of_10_000_lines_from_xlsx_is_taken(make_client):
    client = make_client()
    order = pack_order(2000, lines_per_client=5)
    xlsx = input_template(order["agreements"], order["lines"])
    response = client.post(
        "/api/v1/packs",
        data={"order": json.dumps(HEADER), "lines": (io.BytesIO(xlsx), "rindas.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_data(as_text=True)[:2000]
    assert client.delete(response.json["url"]).status_code == 204  # taken: its 2 002 documents are not made
    with database(client.application).session() as session:
        from service.store.models import AuditEntry

        entry = session.query(AuditEntry).filter_by(action="created", object_type="pack").one()
    assert json.loads(entry.detail)["lines"] == 10_000


def test_a_job_short_of_disk_fails_before_it_makes_anything(make_client, tmp_path):
    client = make_client(JOB_DISK_MARGIN=10**15)
    response = post_tables(client, csv_order(3, 2)[1])
    assert response.status_code == 202
    job = finished(client, response.json["url"])
    assert job["state"] == "failed" and job["done"] == 0
    assert job["error"]["code"] == "job.disk_short"
    assert job["error"]["message"].startswith(
        "There is not enough free disk space for the pack: it needs about"
    )
    assert "errors" not in job["error"]
    assert not (tmp_path / "jobs" / job["id"]).exists()
