"""Background jobs: one interface (``submit``), two backends running the same steps (``runner``) of
whatever kinds the application runs (``kinds``; a reimbursement pack is one, in ``service.packs.job``).

``local`` (the default) runs jobs inside the service with a pool of worker processes, SQLite and files
in the instance folder; ``celery`` sends them to Celery workers through Redis, with PostgreSQL and a job
folder every machine mounts. Choose with ``VEIDLAPAS_JOBS``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

from service.jobs import kinds, runner
from service.jobs.kinds import JobKind
from service.jobs.storage import JobFiles
from service.store import database
from service.store.models import Job

_BACKEND = "veidlapas.jobs"
_FOLDER = "veidlapas.jobs_dir"
_SETTINGS = "veidlapas.job_settings"


class Backend(Protocol):
    name: str

    def submit(self, job_id: str) -> None: ...


def init_app(app: Flask, job_kinds: Sequence[type[JobKind]]) -> None:
    """The backend the configuration names, the job folder, and the settings to run ``job_kinds``."""
    jobs_dir = Path(app.config["JOBS_DIR"] or Path(app.instance_path) / "jobs")
    os.makedirs(jobs_dir, mode=0o700, exist_ok=True)
    app.extensions[_FOLDER] = jobs_dir
    step_settings = runner.settings(app.config, database(app).url, jobs_dir, job_kinds)
    app.extensions[_SETTINGS] = step_settings
    if app.config["JOBS"] == "celery":
        from service.jobs.celery_app import CeleryBackend

        app.extensions[_BACKEND] = CeleryBackend(app.config)
    else:
        frozen = json.dumps(step_settings, sort_keys=True)
        app.extensions[_BACKEND] = _local(frozen, app.config["JOB_WORKERS"])


@cache
def _local(frozen_settings: str, workers: int):
    """One local backend per process and settings (tests make many applications)."""
    from service.jobs.local import LocalBackend

    return LocalBackend(json.loads(frozen_settings), workers)


def backend(app: Flask | None = None) -> Backend:
    """The job backend of ``app`` (the current application when not given)."""
    return (app or current_app).extensions[_BACKEND]


def folder(app: Flask | None = None) -> Path:
    """Where the jobs of ``app`` (or the current application) keep their files."""
    return (app or current_app).extensions[_FOLDER]


def settings(app: Flask | None = None) -> dict:
    """The plain settings a job step needs in any process (``runner.Runner.from_settings``)."""
    return (app or current_app).extensions[_SETTINGS]


def files(job: Job, app: Flask | None = None) -> JobFiles:
    """The folder of ``job`` in the job storage, its result named as the job's kind names it."""
    return JobFiles(folder(app), job.id, kinds.get(job.kind).result_file)


def media_type(job: Job) -> str:
    """How the result of ``job`` is served."""
    return kinds.get(job.kind).media_type
