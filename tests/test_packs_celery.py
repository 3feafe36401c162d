"""The scale-out path: a real Redis broker, real ``veidlapas worker`` processes (Celery) and a real
PostgreSQL, all started here. A pack's parts are made across two workers; a worker killed with SIGKILL
in the middle of a pack gives its tasks back, and the pack completes with every line exactly once."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from redis import Redis
from sqlalchemy import func, select

from bench.pack_data import pack_order
from schemas.pack import PackOrderSchema, request_input
from schemas.reimbursement import ReimbursementRequestSchema
from service import create_app, jobs
from service.documents import KINDS
from service.jobs import celery_app
from service.jobs.celery_app import PART
from service.jobs.runner import Runner
from service.store import database
from service.store.models import JobPart
from tests.docx_text import docx_text
from tests.processes import VeidlapasProcess
from tests.redis_server import RedisServer
from tests.test_packs import finished
from tests.test_template_check import BODY, first_in, paragraph, run, standard

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

# Short, so that the test need not wait long: a task a dead worker took comes back once it is older than
# this, at the next of the broker's checks (every 10 s).
VISIBILITY_TIMEOUT_S = 6
TASK_TIME_LIMIT_S = 5
READY_TIMEOUT_S = 60
OWN_DETAIL = "Bauskas novada pašvaldības izklāsta veidne"


@pytest.fixture(scope="module")
def redis():
    with RedisServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path, database_url, redis):
    return {
        "DATABASE_URL": database_url,
        "VEIDLAPAS_JOBS": "celery",
        "VEIDLAPAS_BROKER_URL": redis.url,
        "VEIDLAPAS_JOBS_DIR": str(tmp_path / "jobs"),
        "VEIDLAPAS_PACK_BATCH": "2",
        "VEIDLAPAS_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        "VEIDLAPAS_TASK_TIME_LIMIT_S": str(TASK_TIME_LIMIT_S),
    }


@pytest.fixture
def app(settings):
    config = {
        "TESTING": True,
        "DATABASE_URL": settings["DATABASE_URL"],
        "JOBS": "celery",
        "BROKER_URL": settings["VEIDLAPAS_BROKER_URL"],
        "JOBS_DIR": Path(settings["VEIDLAPAS_JOBS_DIR"]),
        "PACK_BATCH": 2,
        "VISIBILITY_TIMEOUT_S": VISIBILITY_TIMEOUT_S,
        "TASK_TIME_LIMIT_S": TASK_TIME_LIMIT_S,
    }
    app = create_app(config)
    yield app
    database(app).engine.dispose()


class Worker(VeidlapasProcess):
    """``veidlapas worker``, ready when Celery says so."""

    def __init__(self, settings: dict[str, str], folder: Path, name: str, concurrency: int = 1) -> None:
        log = folder / f"{name}.log"
        log.touch()
        args = ["worker", f"--concurrency={concurrency}", "--name", f"{name}@%h"]
        super().__init__(args, {**os.environ, **settings}, log, lambda: b" ready." in log.read_bytes())

    def parts_made(self) -> int:
        return self.log.read_text(errors="replace").count(f"{PART}[")


@pytest.fixture
def workers(settings, tmp_path):
    started: list[Worker] = []

    def start(name: str, concurrency: int = 1) -> Worker:
        worker = Worker(settings, tmp_path, name, concurrency)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def expected_request(body: dict) -> dict:
    header = PackOrderSchema().load_header(body)
    return ReimbursementRequestSchema().load(
        request_input(header, body["agreements"], body["lines"], attachments=[])
    )


def pack_lines(data: bytes) -> tuple[dict, Counter]:
    """The manifest and the delivery lines of summary.xlsx as (agreement, service, date, units)."""
    pack = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(pack.read("manifest.json"))
    sheet = load_workbook(io.BytesIO(pack.read("summary.xlsx")))["Rindas"]
    lines = Counter(
        (row[0], row[2], row[3].date().isoformat(), Decimal(str(row[4])))
        for row in sheet.iter_rows(min_row=2, values_only=True)
        if row[0] and row[2]
    )
    return manifest, lines


def sent_lines(body: dict) -> Counter:
    return Counter(
        (line["agreement"], line["code"], line["date"], Decimal(line["units"])) for line in body["lines"]
    )


def test_a_pack_is_made_across_two_celery_workers_with_the_municipality_s_template(client, workers):
    first, second = workers("first"), workers("second")
    detail = first_in(BODY, paragraph(run(OWN_DETAIL)), standard(KINDS["client-detail"]))
    upload = client.post(
        "/api/v1/municipality-templates/client-detail",
        data={"file": (io.BytesIO(detail), "izklasts.docx"), "effective_from": "01.01.2020."},
    )
    assert upload.status_code == 201, upload.json
    body = pack_order(20)
    response = client.post("/api/v1/packs", json=body)
    assert response.status_code == 202, response.json
    job = finished(client, response.json["url"], timeout_s=180)
    assert job["state"] == "succeeded", job
    assert first.parts_made() > 0 and second.parts_made() > 0
    data = client.get(job["result"]["url"]).data
    manifest, lines = pack_lines(data)
    assert lines == sent_lines(body)
    expected = expected_request(body)
    assert manifest["counts"]["clients"] == 20 and manifest["counts"]["lines"] == len(body["lines"])
    assert Decimal(manifest["totals"]["amount"]) == expected["totals"]["amount"]
    pack = zipfile.ZipFile(io.BytesIO(data))
    assert len(pack.namelist()) == 2 + 20 + 2
    details = [name for name in pack.namelist() if name.endswith("/Izklasts.docx")]
    assert len(details) == 20 and all(OWN_DETAIL in docx_text(pack.read(name)) for name in details)
    assert manifest["made_with"]["templates"]["client-detail"] == 1


def test_a_worker_killed_in_the_middle_of_a_pack_and_the_pack_still_has_every_line_once(client, app, workers):
    doomed = workers("doomed", concurrency=2)
    body = pack_order(120)
    response = client.post("/api/v1/packs", json=body)
    assert response.status_code == 202, response.json
    url = response.json["url"]
    deadline = time.monotonic() + 120
    while (job := client.get(url).json)["done"] < 10:
        assert job["state"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["done"] < job["total"], "the pack finished before the worker could be killed"
    doomed.kill()
    workers("rescuer", concurrency=2)
    job = finished(client, url, timeout_s=240)
    assert job["state"] == "succeeded", job
    assert job["done"] == job["total"] == 2 + 120

    manifest, lines = pack_lines(client.get(job["result"]["url"]).data)
    expected = expected_request(body)
    assert manifest["counts"]["lines"] == len(body["lines"]) == 600
    assert Decimal(manifest["totals"]["amount"]) == expected["totals"]["amount"]
    assert lines == sent_lines(body)
    with database(app).session() as session:
        parts = session.scalar(select(func.count()).select_from(JobPart).where(JobPart.job_id == job["id"]))
    assert parts == (122 + 1) // 2


def test_a_part_message_lost_on_the_way_is_sent_again_by_the_watch(client, app, workers, redis, monkeypatch):
    """Redis hands a message out before kombu records it as unacknowledged: a worker killed in between
    loses it. The job's watch sends the missing part again once nothing has moved for a while."""
    response = client.post("/api/v1/packs", json=pack_order(6))
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    Redis.from_url(redis.url).delete(celery_app.QUEUE)  # the queued prepare: it is run here instead
    celery = celery_app.make_celery(app.config)
    monkeypatch.setattr(celery_app, "runner", Runner.from_settings(jobs.settings(app)))
    lost = []

    def send_losing_the_first_part(name, args=None, **options):
        if name == celery_app.PART and not lost:
            lost.append(args)
            return None
        return celery.send_task(name, args=args, **options)

    celery_app._prepare(
        SimpleNamespace(app=SimpleNamespace(send_task=send_losing_the_first_part, conf=celery.conf)), job_id
    )
    assert lost == [[job_id, 0]]
    rescuer = workers("rescuer", concurrency=2)
    job = finished(client, response.json["url"], timeout_s=120)
    assert job["state"] == "succeeded", job
    assert job["done"] == job["total"] == 2 + 6
    assert "1 part(s) sent again" in rescuer.log.read_text(errors="replace")
