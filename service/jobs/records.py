"""Jobs in the database: a new one for an order, or the one the same order made before."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.auth import Principal
from service.jobs.storage import JobFiles
from service.packs.archive import safe_member_name
from service.packs.order import Order, canonical
from service.store.models import Job

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
    session: Session, user: Principal, backend: str, order: Order, jobs_dir: Path, key: str | None = None
) -> Job:
    """A queued job for ``order``, its input written to the job folder, the order audited."""
    number = order.request["number"]
    job = Job(
        municipality=user.municipality,
        user_id=user.id or None,
        backend=backend,
        input_sha256=order.sha256,
        idempotency_key=key,
        title=number,
        result_name=safe_member_name(f"Kompensacijas pieprasijums {number}.zip"),
    )
    session.add(job)
    session.flush()
    JobFiles(jobs_dir, job.id).write_input(canonical(order.raw))
    totals = order.request["totals"]
    audit.record(
        session,
        user,
        "created",
        "pack",
        job.id,
        sha256=order.sha256,
        detail={"lines": totals["lines"], "clients": totals["clients"]},
    )
    return job
