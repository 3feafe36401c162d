"""The scale-out backend: Celery workers on any number of machines, Redis as the broker.

A job of any kind is three tasks, all idempotent (see ``runner``): ``prepare`` sends one ``part`` task
per part, so the parts of one job are made in parallel across workers; the part that finds every part
made sends ``assemble``. Each step runs under the same guard as in the local loop (``execution``).

A message can still be lost: Redis hands a message to a worker before kombu files it among the
unacknowledged ones, so a worker killed in that instant takes it with it (and a Redis without persistence
loses every queued message when it restarts). So ``prepare`` also starts a ``watch`` of the job, a small
task that comes back every few seconds while the job runs: when no part has been made for longer than a
part may take and a lost one may take to come back (the task time limit plus the visibility timeout, and
a margin), it sends every missing part again — or the assembly, when only that is left. Parts are
idempotent, so a part sent twice is made once; a job whose parts merely wait behind another job's may be
sent again for nothing, at the cost of a few quick no-op tasks.
Tasks are acknowledged late and given back when their worker dies (``acks_late``,
``reject_on_worker_lost``), their hard time limit is shorter than Redis's visibility timeout (checked in
``config``), one task is taken at a time, and messages are JSON only. No result backend: the job's state
lives in the database, its kind in the job's row.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init

from service.jobs.execution import guarded
from service.jobs.runner import NotReady, Runner

QUEUE = "veidlapas"
PREPARE = "veidlapas.job.prepare"
PART = "veidlapas.job.part"
ASSEMBLE = "veidlapas.job.assemble"
WATCH = "veidlapas.job.watch"
ASSEMBLY_RETRIES = 600
#: Beyond the task time limit and the visibility timeout: kombu looks for lost tasks every 10 s.
STALL_MARGIN_S = 10

log = logging.getLogger(__name__)

#: Set by ``veidlapas worker`` before the worker forks its processes.
runner: Runner | None = None


def make_celery(config: dict[str, Any]) -> Celery:
    """A Celery application for the service's configuration, with the job tasks registered."""
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
    celery.task(name=WATCH, bind=True)(_watch)
    # A countdown longer than the visibility timeout would bring the watch back twice: it looks often.
    celery.conf.veidlapas_watch = {
        "every_s": max(1, min(30, config["VISIBILITY_TIMEOUT_S"] // 2)),
        "stall_s": limit + config["VISIBILITY_TIMEOUT_S"] + STALL_MARGIN_S,
    }
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
    if runner is not None:
        runner.database.engine.dispose(close=False)


def _prepare(task: Task, job_id: str) -> None:
    parts = guarded(runner, job_id, "prepare", lambda: runner.prepare(job_id))
    if parts is None:
        return
    for part in parts:
        task.app.send_task(PART, args=[job_id, part])
    if not parts:
        task.app.send_task(ASSEMBLE, args=[job_id])
    _watch_again(task, job_id, None, time.time())


def _part(task: Task, job_id: str, part: int) -> None:
    if guarded(runner, job_id, f"part {part}", lambda: runner.make_part(job_id, part)):
        task.app.send_task(ASSEMBLE, args=[job_id])


def _assemble(task: Task, job_id: str) -> None:
    try:
        guarded(runner, job_id, "assemble", lambda: runner.assemble(job_id))
    except NotReady:
        raise task.retry(countdown=2) from None


def _watch(task: Task, job_id: str, missing: int | None, since: float) -> None:
    """See that a running job moves on; send its missing parts again when it has stalled (see above)."""
    left = runner.missing_parts(job_id)
    if left is None:
        return  # finished, failed or cancelled: nothing more to watch
    now = time.time()
    if len(left) != missing:
        missing, since = len(left), now
    elif now - since > task.app.conf.veidlapas_watch["stall_s"]:
        log.warning("job %s: nothing made for %d s; %d part(s) sent again", job_id, now - since, len(left))
        for part in left:
            task.app.send_task(PART, args=[job_id, part])
        if not left:
            task.app.send_task(ASSEMBLE, args=[job_id])
        since = now
    _watch_again(task, job_id, missing, since)


def _watch_again(task: Task, job_id: str, missing: int | None, since: float) -> None:
    every = task.app.conf.veidlapas_watch["every_s"]
    task.app.send_task(WATCH, args=[job_id, missing, since], countdown=every)
