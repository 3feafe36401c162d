"""The embedded backend: jobs run one at a time in a background thread of the service, their documents
made by a pool of worker processes started for the job (each with its own LibreOffice converter).

The pool lives only while a job runs, so an idle service holds no extra memory. One service process
owns the local jobs (``make run`` starts one): when it starts, it picks up the jobs a stopped or killed
predecessor left unfinished (:meth:`LocalBackend.resume`).
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from functools import cached_property
from multiprocessing.util import Finalize
from typing import Any

from sqlalchemy import select

from service.jobs import runner
from service.store.models import Job

log = logging.getLogger(__name__)

_tools: runner.Tools | None = None


def _start_worker(settings: dict[str, Any]) -> None:
    global _tools
    _tools = runner.Tools.from_settings(settings)
    # A pool process ends with os._exit, past atexit: multiprocessing's finalizers still run.
    Finalize(_tools, _tools.close, exitpriority=10)


def _prepare(job_id: str) -> list[int] | None:
    return runner.prepare(_tools, job_id)


def _make_part(job_id: str, part: int) -> bool:
    return runner.make_part(_tools, job_id, part)


def _assemble(job_id: str) -> bool:
    return runner.assemble(_tools, job_id)


class LocalBackend:
    """Jobs in this process's background thread, documents in a pool of ``workers`` processes."""

    name = "local"

    def __init__(self, settings: dict[str, Any], workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self._queue = ThreadPoolExecutor(max_workers=1, thread_name_prefix="veidlapas-jobs")

    @cached_property
    def tools(self) -> runner.Tools:
        return runner.Tools.from_settings(self.settings)

    def submit(self, job_id: str) -> None:
        self._queue.submit(self._run, job_id)

    def resume(self) -> list[str]:
        """Queue again every unfinished local job (a restart); the ids, oldest first."""
        with self.tools.database.session() as session:
            unfinished = list(
                session.scalars(
                    select(Job.id)
                    .where(Job.backend == self.name, Job.state.in_(runner.ACTIVE))
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
        try:
            context = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_start_worker, initargs=(self.settings,)
            ) as pool:
                parts = pool.submit(_prepare, job_id).result()
                if parts is None:
                    return
                for future in as_completed([pool.submit(_make_part, job_id, part) for part in parts]):
                    future.result()
                pool.submit(_assemble, job_id).result()
        except Exception as error:  # a worker died, storage failed …: the job fails, the service goes on
            log.error("job %s stopped: %s", job_id, type(error).__name__)
            runner.fail(self.tools, job_id, "job.failed_document", document="-", reason=type(error).__name__)
