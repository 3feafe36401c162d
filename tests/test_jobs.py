"""jobs/ is generic: a kind of its own (tests/toy_job.py, no pack in it) runs through the same runner,
loop and local backend as a pack, and nothing in service/jobs imports service.packs."""

from __future__ import annotations

import ast
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.auth import Principal
from service.jobs import runner
from service.jobs.execution import execute
from service.jobs.local import LocalBackend
from service.jobs.records import new_job
from service.jobs.runner import Runner
from service.store import database
from service.store.models import Job, JobPart
from tests.toy_job import ToyJob

WORDS = ["viens", "divi", "trīs", "četri", "pieci"]
JOBS_PACKAGE = Path(__file__).resolve().parent.parent / "service" / "jobs"


@pytest.fixture
def settings(app, tmp_path):
    return runner.settings(app.config, database(app).url, tmp_path / "toy-jobs", [ToyJob])


def toy_job(app, settings, **changes) -> str:
    """A queued toy job's id."""
    data = json.dumps({"words": WORDS, "per_part": 2, **changes}).encode()
    with database(app).session() as session:
        job = new_job(
            session,
            Principal(0, "test", "administrator", "bauska"),
            kind=ToyJob.name,
            backend="local",
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            jobs_dir=Path(settings["jobs_dir"]),
            title="toy",
            result_name="toy.json",
            detail={},
        )
        return job.id


def on_local_backend(settings, job_id: str) -> None:
    backend = LocalBackend(settings, workers=2)
    backend.submit(job_id)
    backend.wait()


def stored(app, job_id: str) -> Job:
    with database(app).session() as session:
        return session.get(Job, job_id)


def test_a_kind_of_its_own_runs_end_to_end_on_the_local_backend_without_pack_code(app, settings):
    job_id = toy_job(app, settings)
    on_local_backend(settings, job_id)
    job = stored(app, job_id)
    assert (job.state, job.error_code, job.done, job.total, job.parts) == ("succeeded", None, 5, 5, 3)
    result = Path(settings["jobs_dir"]) / job_id / "toy.json"
    made = json.loads(result.read_text())
    assert made == {"text": "viens divi trīs četri pieci", "pack_modules": []}
    assert job.result_sha256 == hashlib.sha256(result.read_bytes()).hexdigest()
    assert not (result.parent / "parts").exists() and not (result.parent / "input.json").exists()
    with database(app).session() as session:
        parts = session.scalar(select(func.count()).select_from(JobPart).where(JobPart.job_id == job_id))
    assert parts == 3


@pytest.mark.parametrize(
    ("how", "params"),
    [
        ("known", {"document": "toy 1", "reason": "test"}),
        ("crash", {"document": "part 1", "reason": "RuntimeError"}),
    ],
)
def test_a_failing_part_fails_the_job_with_its_coded_reason_and_leaves_no_files(app, settings, how, params):
    job_id = toy_job(app, settings, fail={"part": 1, "how": how})
    on_local_backend(settings, job_id)
    job = stored(app, job_id)
    assert job.state == "failed" and job.error_code == "job.failed_document"
    assert json.loads(job.error_params) == params
    assert not (Path(settings["jobs_dir"]) / job_id).exists()


def test_the_loop_on_threads_reports_progress_through_assembly(app, settings):
    job_id = toy_job(app, settings)
    seen: list[tuple[str, int, int]] = []
    steps = Runner.from_settings(settings)
    with ThreadPoolExecutor(2) as pool:
        execute(pool, steps, job_id, threads=True, progress=lambda *stage: seen.append(stage))
    assert stored(app, job_id).state == "succeeded"
    assert seen[0] == ("parts", 0, 5) and seen[-2:] == [("assemble", 5, 5), ("end", 5, 5)]
    after_parts = [done for stage, done, _ in seen[1:] if stage == "parts"]
    assert len(after_parts) == 3 and after_parts == sorted(after_parts) and after_parts[-1] == 5


def test_a_job_whose_parts_were_all_made_goes_straight_to_assembly(app, settings):
    job_id = toy_job(app, settings)
    steps = Runner.from_settings(settings)
    assert steps.prepare(job_id) == [0, 1, 2]
    assert [steps.make_part(job_id, part) for part in (0, 1, 2, 2)] == [False, False, True, True]
    with database(app).session() as session:
        session.get(Job, job_id).state = "queued"  # as a killed service leaves it, to be resumed
    on_local_backend(settings, job_id)
    job = stored(app, job_id)
    assert (job.state, job.done, job.attempts) == ("succeeded", 5, 2)


def test_nothing_in_service_jobs_imports_service_packs():
    imported = set()
    for path in JOBS_PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add((path.name, node.module))
            elif isinstance(node, ast.Import):
                imported.update((path.name, alias.name) for alias in node.names)
    assert len(imported) > 20
    assert {(name, module) for name, module in imported if module.startswith("service.packs")} == set()
