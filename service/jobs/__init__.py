"""Background jobs: one interface (``submit``), two backends running the same steps (``runner``).

``local`` (the default) runs jobs inside the service with a pool of worker processes, SQLite and files
in the instance folder; ``celery`` sends them to Celery workers through Redis, with PostgreSQL and a job
folder every machine mounts. Choose with ``VEIDLAPAS_JOBS``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

from service.jobs import runner


class Backend(Protocol):
    name: str

    def submit(self, job_id: str) -> None: ...


def init_app(app: Flask) -> None:
    """The backend the configuration names, and the job folder."""
    jobs_dir = Path(app.config["JOBS_DIR"] or Path(app.instance_path) / "jobs")
    os.makedirs(jobs_dir, mode=0o700, exist_ok=True)
    app.extensions["veidlapas.jobs_dir"] = jobs_dir
    settings = runner.settings(app.config, app.extensions["veidlapas.db"].url, jobs_dir)
    app.extensions["veidlapas.job_settings"] = settings
    if app.config["JOBS"] == "celery":
        from service.jobs.celery_app import CeleryBackend

        app.extensions["veidlapas.jobs"] = CeleryBackend(app.config)
    else:
        app.extensions["veidlapas.jobs"] = _local(
            json.dumps(settings, sort_keys=True), app.config["JOB_WORKERS"]
        )


@cache
def _local(settings: str, workers: int):
    """One local backend per process and settings (tests make many applications)."""
    from service.jobs.local import LocalBackend

    return LocalBackend(json.loads(settings), workers)


def backend() -> Backend:
    return current_app.extensions["veidlapas.jobs"]
