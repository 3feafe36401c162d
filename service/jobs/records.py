"""Jobs in the database: a new one for an input, or the one the same input made before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.auth import Principal
from service.jobs.storage import JobFiles
from service.store.models import Job

ACTIVE = ("queued", "running")
GONE = ("failed", "cancelled")


def existing_job(session: Session, municipality: str, key: str | None, sha256: str) -> Job | None:
    """The job an order made before: by its idempotency key, else the same input's still usable job."""
    statement = select(Job).where(Job.municipality == municipality)
    if key:
        return session.scalar(statement.where(Job.idempotency_key == key))
    return session.scalar(
        statement.where(Job.input_sha256 == sha256, Job.state.not_in(GONE), Job.deleted_at.is_(None))
        .order_by(Job.created_at.desc())
        .limit(1)
    )


def new_job(
    session: Session,
    user: Principal,
    *,
    kind: str,
    backend: str,
    data: bytes,
    sha256: str,
    jobs_dir: Path,
    title: str,
    result_name: str,
    detail: dict[str, Any],
    key: str | None = None,
) -> Job:
    """A queued job of ``kind`` with ``data`` as its input in the job folder, its creation audited."""
    job = Job(
        kind=kind,
        municipality=user.municipality,
        user_id=user.id or None,
        backend=backend,
        input_sha256=sha256,
        idempotency_key=key,
        title=title,
        result_name=result_name,
    )
    session.add(job)
    session.flush()
    JobFiles(jobs_dir, job.id).write_input(data)
    audit.record(session, user, "created", kind, job.id, sha256=sha256, detail=detail)
    return job
