"""A warm pool of limited parser processes for uploaded forms.

Starting a child for every upload (``uploads.run_limited``) costs a fork server round trip, the child's
start and its exit — about a third of reading a filled act. The pool keeps up to ``size`` children
(``uploads.Worker``: forked from the fork server, their memory, CPU and core limits set once) waiting for
files, and sends each upload to an idle one, under the same wall-clock timeout.

A child is used again only after a clean read. It is retired — stopped, and a fresh one started in its
place — after ``recycle_after`` files, when its resident memory passes half its address-space limit,
and after anything else: a refusal of the file (encrypted, unreadable, a limit), a timeout (it is
killed) or its death. So a file that made a parser misbehave never meets the next upload's parser, and
what one child could leak or grow is bounded by ``recycle_after`` files. When every pooled child is busy
an upload gets a child of its own for one file, as before the pool: the pool bounds the processes kept
waiting, never how many uploads are read at once.

One pool per process and settings (:func:`pool`; tests and the benchmarks make many applications), closed
at exit; a process forked from the one that made a pool makes its own.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from functools import cache
from typing import Any

from service.config import UploadLimits
from service.forms import uploads
from service.forms.uploads import Worker, WorkerGone

#: The name of a pooled child (a one-off child is ``veidlapas-upload-parser``).
POOLED = "veidlapas-form-parser"


class ParserPool:
    """Up to ``size`` warm parser children with ``memory_bytes`` of address space each, each retired after
    ``recycle_after`` files (see the module's docstring)."""

    def __init__(self, size: int, recycle_after: int, memory_bytes: int, timeout_s: float) -> None:
        self.size = size
        self.recycle_after = recycle_after
        self.memory_bytes = memory_bytes
        self._cpu_budget_s = uploads.cpu_budget_s(timeout_s, recycle_after)
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._pooled = 0  # children of the pool, idle or busy
        self._closed = False

    def run(self, function: Callable[[bytes], Any], data: bytes, *, timeout_s: float) -> Any:
        """``function(data)`` in a warm child: what ``uploads.run_limited`` returns or raises."""
        payload = uploads.pickled(function)
        for attempt in (1, 2):
            worker, pooled = self._take(timeout_s)
            try:
                outcome = worker.run(payload, data, timeout_s)
            except WorkerGone:  # it died idle (killed from outside): not the file's doing, try a fresh one
                self._retire(worker, pooled)
                if attempt == 2:
                    raise
                continue
            except BaseException:
                self._retire(worker, pooled)
                raise
            if pooled and self._reusable(worker, outcome):
                self._give_back(worker)
            else:
                self._retire(worker, pooled)
            return uploads.result(outcome)
        raise AssertionError("unreachable")

    def workers(self) -> list[int]:
        """The process ids of the idle children, the next one to be used last (for tests)."""
        with self._lock:
            return [worker.process.pid for worker in self._idle]

    def close(self) -> None:
        """Stop every idle child; a busy one is stopped when its file is done."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._pooled -= len(idle)
        for worker in idle:
            worker.stop()

    def _take(self, timeout_s: float) -> tuple[Worker, bool]:
        """An idle child, or a new pooled one while the pool has room (the first use starts them all),
        or else a one-off child; and whether it belongs to the pool."""
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
            room = 0 if self._closed else self.size - self._pooled
            self._pooled += max(room, 0)
        if room <= 0:
            return Worker(self.memory_bytes, uploads.cpu_budget_s(timeout_s, 1)), False
        worker = self._start()
        for left in range(room - 1, 0, -1):
            try:
                self._give_back(self._start())
            except OSError:  # the others start when needed
                with self._lock:
                    self._pooled -= left - 1
                break
        return worker, True

    def _start(self) -> Worker:
        try:
            return Worker(self.memory_bytes, self._cpu_budget_s, name=POOLED)
        except BaseException:
            with self._lock:
                self._pooled -= 1
            raise

    def _reusable(self, worker: Worker, outcome: tuple) -> bool:
        return (
            outcome[0] == "ok"
            and worker.files < self.recycle_after
            and worker.resident_bytes() <= self.memory_bytes // 2
        )

    def _give_back(self, worker: Worker) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                return
            self._pooled -= 1
        worker.stop()

    def _retire(self, worker: Worker, pooled: bool) -> None:
        """Stop ``worker``; a pooled one is replaced by a fresh child, waiting for the next upload (or, if
        none can be started now, when an upload needs one)."""
        worker.stop()
        if not pooled:
            return
        with self._lock:
            closed = self._closed
            if closed:
                self._pooled -= 1
        if closed:
            return
        try:
            replacement = Worker(self.memory_bytes, self._cpu_budget_s, name=POOLED)
        except OSError:
            with self._lock:
                self._pooled -= 1
            return
        self._give_back(replacement)


def pool(limits: UploadLimits) -> ParserPool:
    """The process's pool for ``limits`` (its ``parsers``, ``parser_recycle_after`` and parse limits)."""
    return _pool(
        os.getpid(),
        limits.parsers,
        limits.parser_recycle_after,
        limits.parse_memory_bytes,
        limits.parse_timeout_s,
    )


@cache
def _pool(pid: int, size: int, recycle_after: int, memory_bytes: int, timeout_s: float) -> ParserPool:
    made = ParserPool(size, recycle_after, memory_bytes, timeout_s)
    atexit.register(made.close)
    return made
