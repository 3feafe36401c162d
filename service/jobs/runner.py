"""The one code path of every job, whichever backend runs it: prepare, make the parts, assemble.

A job's input lies in its folder (``input.json``); its state and progress in the database; what its
steps do is its kind's (:mod:`service.jobs.kinds`). Every step may run more than once — a worker killed
before it acknowledged its task gets the task again, a restarted server starts its unfinished jobs
again — so every step is idempotent:

* :meth:`Runner.prepare` counts the job's attempts, asks the kind for the job's size and says which
  parts are still to make;
* :meth:`Runner.make_part` has the kind make one part and records the part once (a primary key on job
  and part), so progress counts each unit once however often a part ran;
* :meth:`Runner.assemble` has the kind build the result from the parts once every part is recorded,
  and records its hash and size.

A step that fails raises; :func:`service.jobs.execution.guarded` fails the job with the reason, and the
job's files are removed, so no partial result is ever left to download.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.jobs import kinds
from service.jobs.kinds import JobKind, StepFailed
from service.jobs.records import ACTIVE
from service.jobs.storage import JobFiles
from service.store import Database
from service.store.models import Job, JobPart, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class NotReady(Exception):
    """Assembly was asked for before every part was made (a task delivered early or twice)."""


def settings(
    config: Mapping[str, Any], database_url: str, jobs_dir: Path, job_kinds: Sequence[type[JobKind]]
) -> dict[str, Any]:
    """The plain settings :meth:`Runner.from_settings` takes (they travel to worker processes)."""
    return {
        "database_url": database_url,
        "jobs_dir": str(jobs_dir),
        "modules": sorted({kind.__module__ for kind in job_kinds}),
        "kinds": {kind.name: kind.settings(config) for kind in job_kinds},
    }


class Runner:
    """The steps of jobs, in whatever process runs them, with the kinds' instances made on first use."""

    def __init__(self, database: Database, jobs_dir: Path, kind_settings: dict[str, dict[str, Any]]) -> None:
        self.database = database
        self.jobs_dir = jobs_dir
        self.kind_settings = kind_settings
        self._kinds: dict[str, JobKind] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Runner:
        """A runner from :func:`settings`, the kinds' modules imported."""
        kinds.load(settings["modules"])
        return cls(Database(settings["database_url"]), Path(settings["jobs_dir"]), settings["kinds"])

    def kind(self, name: str) -> JobKind:
        with self._lock:
            if name not in self._kinds:
                self._kinds[name] = kinds.get(name)(self.kind_settings[name])
            return self._kinds[name]

    def close(self) -> None:
        """Stop what the kinds started in this process (converters), if anything."""
        with self._lock:
            for kind in self._kinds.values():
                kind.close()
            self._kinds.clear()

    def files(self, job_id: str, kind: str | None = None) -> JobFiles:
        """A job's folder; with its kind, the result named as the kind names it."""
        return JobFiles(self.jobs_dir, job_id, kinds.get(kind).result_file if kind else "result")

    # -- steps ---------------------------------------------------------------------------------------------

    def prepare(self, job_id: str) -> list[int] | None:
        """Start (or start again) a job: the parts still to make, or None when the job is not to run."""
        with self.database.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.state not in ACTIVE:
                return None
            if job.attempts >= MAX_ATTEMPTS:
                job.stop("failed", "job.interrupted", times=job.attempts)
                self.files(job_id).remove()
                return None
            kind = self.kind(job.kind)
            job.attempts += 1
            job.state, job.step = "running", kind.parts_step
            job.started_at = job.started_at or utcnow()
            files = self.files(job_id, job.kind)
        try:
            plan = kind.plan(files)
        except StepFailed:
            raise
        except Exception as error:
            raise StepFailed(
                "job.failed_document", document=files.input.name, reason=type(error).__name__
            ) from error
        with self.database.session() as session:
            job = session.get(Job, job_id)
            job.total, job.parts = plan
            finished = set(session.scalars(select(JobPart.part).where(JobPart.job_id == job_id)))
        return [index for index in range(plan.parts) if index not in finished]

    def missing_parts(self, job_id: str) -> list[int] | None:
        """The parts of a running job not yet recorded (``[]``: only its assembly is left); None when the
        job is finished, failed, cancelled or gone."""
        with self.database.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.state not in ACTIVE:
                return None
            made = set(session.scalars(select(JobPart.part).where(JobPart.job_id == job_id)))
            return [index for index in range(job.parts) if index not in made]

    def make_part(self, job_id: str, part: int) -> bool:
        """Make one part and record it; True when every part of the job is made."""
        with self.database.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.state not in ACTIVE:
                return False
            files = self.files(job_id, job.kind)
            kind = self.kind(job.kind)
        units = kind.make_part(files, part)
        try:
            with self.database.session() as session:
                session.add(JobPart(job_id=job_id, part=part, documents=units))
        except IntegrityError:
            pass  # made before by a task that ran twice: counted once
        with self.database.session() as session:
            made = select(func.coalesce(func.sum(JobPart.documents), 0)).where(JobPart.job_id == job_id)
            session.execute(update(Job).where(Job.id == job_id).values(done=made.scalar_subquery()))
            count = _parts_made(session, job_id)
            job = session.get(Job, job_id)
            if job.state not in ACTIVE:
                _discard_unless_succeeded(job, files)  # cancelled while this part was made
                return False
            return count >= job.parts

    def assemble(self, job_id: str) -> bool:
        """Build the result from the parts; True when the job succeeded now or before.

        Raises :class:`NotReady` when a part is still missing.
        """
        with self.database.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.state == "succeeded":
                return job is not None
            if job.state not in ACTIVE:
                return False
            if _parts_made(session, job_id) < job.parts or job.parts == 0:
                raise NotReady(job_id)
            files = self.files(job_id, job.kind)
            kind = self.kind(job.kind)
        kind.assemble(files, lambda step: self._step(job_id, step))
        digest, size = _hash_file(files.result)
        with self.database.session() as session:
            job = session.get(Job, job_id)
            if job.state not in ACTIVE:
                _discard_unless_succeeded(job, files)
                return job.state == "succeeded"
            kind.record(session, job, files)
            job.state, job.step, job.finished_at = "succeeded", "", utcnow()
            job.result_sha256, job.result_size = digest, size
            job.done = job.total
        files.remove_parts()
        files.input.unlink(missing_ok=True)
        return True

    def fail(self, job_id: str, code: str, **params: Any) -> bool:
        """Fail an unfinished job with a coded reason and remove its files; True when it failed now."""
        with self.database.session() as session:
            job = session.get(Job, job_id)
            failed_now = job is not None and job.state in ACTIVE
            if failed_now:
                job.stop("failed", code, **params)
        if failed_now:  # a late duplicate of a step that already succeeded must not touch the result
            log.warning("job %s failed: %s", job_id, code)
            self.files(job_id).remove()
        return failed_now

    def progress(self, job_id: str) -> tuple[int, int]:
        """The units done and the job's total."""
        with self.database.session() as session:
            job = session.get(Job, job_id)
            return job.done, job.total

    def _step(self, job_id: str, step: str) -> None:
        with self.database.session() as session:
            session.execute(update(Job).where(Job.id == job_id).values(step=step))


def _parts_made(session: Session, job_id: str) -> int:
    return session.scalar(select(func.count()).select_from(JobPart).where(JobPart.job_id == job_id))


def _discard_unless_succeeded(job: Job, files: JobFiles) -> None:
    """Remove the files of a cancelled or failed job; a finished result stays."""
    if job.state != "succeeded":
        files.remove()


def _hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
