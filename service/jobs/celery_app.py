"""The scale-out backend: Celery workers on any number of machines, Redis as the broker.

A pack is three kinds of task, all idempotent (see ``runner``): ``prepare`` sends one ``part`` task per
part, so the documents of one pack are made in parallel across workers; the part that finds every part
made sends ``assemble``. Tasks are acknowledged late and given back when their worker dies
(``acks_late``, ``reject_on_worker_lost``), their hard time limit is shorter than Redis's visibility
timeout (checked in ``config``), one task is taken at a time, and messages are JSON only. No result
backend: the job's state lives in the database.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init

from service.jobs import runner

log = logging.getLogger(__name__)

QUEUE = "veidlapas"
PREPARE = "veidlapas.pack.prepare"
PART = "veidlapas.pack.part"
ASSEMBLE = "veidlapas.pack.assemble"
ASSEMBLY_RETRIES = 600

#: Set by ``veidlapas worker`` before the worker forks its processes.
tools: runner.Tools | None = None


def make_celery(config: dict[str, Any]) -> Celery:
    """A Celery application for the service's configuration, with the pack tasks registered."""
    celery = Celery("veidlapas", broker=config["BROKER_URL"], set_as_current=False)
    limit = config["TASK_TIME_LIMIT_S"]
    celery.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_time_limit=limit,
        task_soft_time_limit=max(1, limit - min(30, limit // 10)),
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        # A dead worker's tasks come back once older than the visibility timeout; kombu looks for them
        # every 10 s, but by default only on every 10th look — every look here.
        broker_transport_options={
            "visibility_timeout": config["VISIBILITY_TIMEOUT_S"],
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    celery.task(name=PREPARE, bind=True)(_prepare)
    celery.task(name=PART, bind=True)(_part)
    celery.task(name=ASSEMBLE, bind=True, max_retries=ASSEMBLY_RETRIES)(_assemble)
    return celery


class CeleryBackend:
    """Jobs sent to Celery workers through the broker."""

    name = "celery"

    def __init__(self, config: dict[str, Any]) -> None:
        self.celery = make_celery(config)

    def submit(self, job_id: str) -> None:
        self.celery.send_task(PREPARE, args=[job_id])


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked worker process opens its own database connections."""
    if tools is not None:
        tools.database.engine.dispose(close=False)


def _guarded(job_id: str, step: str, action) -> Any:
    """Run a step; anything unexpected fails the job (a task that raised is not given back)."""
    try:
        return action()
    except runner.NotReady:
        raise
    except Exception as error:
        log.error("job %s: %s failed: %s", job_id, step, type(error).__name__)
        runner.fail(tools, job_id, "job.failed_document", document=step, reason=type(error).__name__)
        return None


def _prepare(task: Task, job_id: str) -> None:
    parts = _guarded(job_id, "prepare", lambda: runner.prepare(tools, job_id))
    if parts is None:
        return
    for part in parts:
        task.app.send_task(PART, args=[job_id, part])
    if not parts:
        task.app.send_task(ASSEMBLE, args=[job_id])


def _part(task: Task, job_id: str, part: int) -> None:
    if _guarded(job_id, f"part {part}", lambda: runner.make_part(tools, job_id, part)):
        task.app.send_task(ASSEMBLE, args=[job_id])


def _assemble(task: Task, job_id: str) -> None:
    try:
        _guarded(job_id, "assemble", lambda: runner.assemble(tools, job_id))
    except runner.NotReady:
        raise task.retry(countdown=2) from None
