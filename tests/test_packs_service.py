"""Packs outside the test client: the ``veidlapas pack`` command, and a real ``veidlapas serve`` killed in
the middle of a local job and started again — the job resumes and the pack holds every line once."""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
import urllib.request
import zipfile
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from bench.pack_data import pack_order
from service.cli import main
from tests.helpers import SAMPLES, load_sample
from tests.processes import VEIDLAPAS, VeidlapasProcess
from tests.redis_server import free_port
from tests.test_packs_celery import pack_lines, sent_lines

PACK_OPTIONS = ["pack", "--project", "IBM", "--municipality", "bauska", "--period", "2020-09"]


def service_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'veidlapas.db'}",
        "VEIDLAPAS_JOBS_DIR": str(tmp_path / "jobs"),
        "VEIDLAPAS_PACK_BATCH": "5",
    }


def test_the_pack_command_makes_the_pack_from_the_sample_workbook(tmp_path, monkeypatch):
    for key, value in service_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    target = tmp_path / "pack.zip"
    result = CliRunner().invoke(
        main,
        [
            *PACK_OPTIONS,
            "--date",
            "2020-10-08",
            "--no-pdf",
            str(SAMPLES / "pack-bauska-2020-09.xlsx"),
            "-o",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Gatavs" in result.output and "9/9" in result.output and str(target) in result.output
    manifest, lines = pack_lines(target.read_bytes())
    request = load_sample("pack-order-bauska-2020-09")
    assert lines == sent_lines(request)
    assert manifest["counts"] == {"clients": 7, "lines": 96, "acts": 0, "documents": 9}
    assert manifest["request"]["number"] == "KP-BNP-2020/09"


def test_the_pack_command_names_the_bad_row_and_writes_nothing(tmp_path, monkeypatch):
    for key, value in service_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    lines = (SAMPLES / "pack-lines-bauska-2020-09.csv").read_bytes().decode("utf-8-sig").splitlines()
    cells = lines[3].split(";")
    cells[1] = "NAV-TĀDA"
    lines[3] = ";".join(cells)
    bad = tmp_path / "rindas.csv"
    bad.write_text("\n".join(lines), encoding="utf-8")
    target = tmp_path / "pack.zip"
    agreements = str(SAMPLES / "pack-agreements-bauska-2020-09.csv")
    result = CliRunner().invoke(
        main, [*PACK_OPTIONS, "--lang", "en", str(bad), agreements, "-o", str(target)], catch_exceptions=False
    )
    assert result.exit_code == 1
    assert "/lines/2/code" in result.output and "Rindas, 4. rinda" in result.output
    assert not target.exists()


class Service(VeidlapasProcess):
    """``veidlapas serve``, ready when its health check answers."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        super().__init__(["serve", "--port", str(port)], env, log, self._answers)

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=2)
        except OSError:
            return False
        return True


def call(base: str, path: str, token: str, body: dict | None = None):
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read()
        return json.loads(data) if response.headers.get_content_type() == "application/json" else data


def test_a_service_killed_during_a_local_job_resumes_it_when_started_again(tmp_path):
    env = service_env(tmp_path)
    added = subprocess.run(
        [VEIDLAPAS, "users", "add", "fo", "--role", "finance_officer", "--municipality", "bauska"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = added.stdout.split("token (shown once):")[1].strip()
    port, log = free_port(), tmp_path / "serve.log"
    body = pack_order(300)
    service = Service(env, port, log)
    try:
        job = call(service.base, "/api/v1/packs", token, body)
        deadline = time.monotonic() + 120
        while (job := call(service.base, job["url"], token))["done"] < 20:
            assert job["state"] in ("queued", "running") and time.monotonic() < deadline, job
            time.sleep(0.05)
        assert job["done"] < job["total"], "the pack finished before the service could be killed"
        service.kill()
        service = Service(env, port, log)
        deadline = time.monotonic() + 240
        while (job := call(service.base, job["url"], token))["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["state"] == "succeeded", job
        assert job["done"] == job["total"] == 302
        data = call(service.base, job["result"]["url"], token)
    finally:
        service.stop()
    assert "Resuming 1 unfinished job(s)." in log.read_text(errors="replace")
    manifest, lines = pack_lines(data)
    assert lines == sent_lines(body) and sum(lines.values()) == 1500
    assert manifest["counts"]["clients"] == 300
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert sum(name.endswith("/Izklasts.docx") for name in names) == 300
    assert Decimal(manifest["totals"]["amount"]) > 0
