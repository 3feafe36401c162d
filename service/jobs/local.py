"""The embedded backend: jobs run one at a time in a background thread of the service, their documents
made by a pool of worker processes started for the job (each with its own LibreOffice converter).

The pool lives only while a job runs, so an idle service holds no extra memory. One service process
owns the local jobs (``make run`` starts one): when it starts, it picks up the jobs a stopped or killed
predecessor left unfinished (:meth:`LocalBackend.resume`).
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import cached_property
from typing import Any

from sqlalchemy import select

from service import forking
from service.jobs import execution
from service.jobs.records import ACTIVE
from service.jobs.runner import Runner
from service.store.models import Job

log = logging.getLogger(__name__)


class LocalBackend:
    """Jobs in this process's background thread, their steps in a pool of ``workers`` processes."""

    name = "local"

    def __init__(self, settings: dict[str, Any], workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self._queue = ThreadPoolExecutor(max_workers=1, thread_name_prefix="veidlapas-jobs")

    @cached_property
    def runner(self) -> Runner:
        """The runner of this process: it records failures (the steps run in the pool's processes)."""
        return Runner.from_settings(self.settings)

    def submit(self, job_id: str) -> None:
        self._queue.submit(self._run, job_id)

    def resume(self) -> list[str]:
        """Queue again every unfinished local job (a restart); the ids, oldest first."""
        with self.runner.database.session() as session:
            unfinished = list(
                session.scalars(
                    select(Job.id)
                    .where(Job.backend == self.name, Job.state.in_(ACTIVE))
                    .order_by(Job.created_at)
                )
            )
        for job_id in unfinished:
            log.info("resuming job %s", job_id)
            self.submit(job_id)
        return unfinished

    def wait(self) -> None:
        """Block until every queued job has run (the CLI and tests)."""
        self._queue.submit(lambda: None).result()

    def _run(self, job_id: str) -> None:
        """One job on a pool of its own; a pool that cannot start fails the job, the service goes on."""
        execution.guarded(self.runner, job_id, "-", lambda: self._in_pool(job_id))

    def _in_pool(self, job_id: str) -> None:
        context = forking.context(*self.settings["modules"])
        with ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=execution.start_process, initargs=(self.settings,)
        ) as pool:
            execution.execute(pool, self.runner, job_id, threads=False)
