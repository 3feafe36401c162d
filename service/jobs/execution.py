"""Running a job's steps: one loop for a pool of processes (the local backend) or threads (``veidlapas
pack``), and the guard every step runs under — there and in the Celery tasks.

The loop does what the Celery tasks do across machines: prepare, every part still to make in parallel,
and assembly once a part finds every part made. Whatever a step raises (other than :class:`NotReady`)
fails the job with its coded reason; nothing is retried here, a restarted service resumes the job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, as_completed
from multiprocessing.util import Finalize
from typing import Any, TypeVar

from service.jobs.kinds import StepFailed
from service.jobs.runner import NotReady, Runner

log = logging.getLogger(__name__)

T = TypeVar("T")
#: progress(stage, done, total): stage "parts" after prepare and after each part, then "assemble", "end".
Progress = Callable[[str, int, int], None]

_runner: Runner | None = None


def start_process(settings: dict[str, Any]) -> None:
    """Set up a worker process of a process pool: its runner (kinds' modules imported) from ``settings``."""
    global _runner
    _runner = Runner.from_settings(settings)
    # A pool process ends with os._exit, past atexit: multiprocessing's finalizers still run.
    Finalize(_runner, _runner.close, exitpriority=10)


def guarded(runner: Runner, job_id: str, step: str, action: Callable[[], T]) -> T | None:
    """Run a step; if it fails, fail the job (a known reason as it is coded, anything else named by its
    type and the step) and give None. :class:`NotReady` is raised: the step may be asked for again."""
    try:
        return action()
    except NotReady:
        raise
    except StepFailed as failure:
        runner.fail(job_id, failure.code, **failure.params)
    except Exception as error:
        if runner.fail(job_id, "job.failed_document", document=step, reason=type(error).__name__):
            log.error("job %s: %s failed: %s", job_id, step, type(error).__name__)
    return None


def execute(
    pool: Executor, runner: Runner, job_id: str, *, threads: bool, progress: Progress | None = None
) -> None:
    """Run a job on ``pool`` from prepare to assembly.

    ``threads``: the pool's workers share this process and ``runner``; otherwise they are processes set
    up by :func:`start_process`. ``runner`` guards the steps here either way.
    """

    def submit(name: str, *args: Any) -> Future:
        return pool.submit(_step, runner if threads else None, name, job_id, *args)

    def report(stage: str) -> None:
        if progress is not None:
            progress(stage, *runner.progress(job_id))

    parts = guarded(runner, job_id, "prepare", submit("prepare").result)
    if parts is None:
        return
    report("parts")
    futures = {submit("make_part", part): part for part in parts}
    complete = not parts  # made before: straight to assembly
    for future in as_completed(futures):
        complete = bool(guarded(runner, job_id, f"part {futures[future]}", future.result)) or complete
        report("parts")
    if complete:
        report("assemble")
        guarded(runner, job_id, "assemble", submit("assemble").result)
    report("end")


def _step(runner: Runner | None, name: str, job_id: str, *args: Any) -> Any:
    """A step in a pool's worker: on the given runner (threads) or this process's (processes)."""
    return getattr(runner or _runner, name)(job_id, *args)
