"""PDF output: DOCX bytes become PDF bytes through a supervised, warm, bounded pool of LibreOffice converters.

The shape follows Carbone's converter (a pool of LibreOffice "factories" with a job queue, restarted when
one dies) and Gotenberg's LibreOffice module (explicit timeout, restart after N conversions, queue limit,
errors named after their cause). Why each piece is there:

- **Warm processes.** Starting LibreOffice costs about a second per file (``convert_cold``, kept for the
  benchmark); a running one converts a few-page document in a fraction of that. Each worker is a small
  script, ``uno_worker.py``, run by the system interpreter that has LibreOffice's ``uno`` module (the
  service's own virtual environment has none); it owns one headless ``soffice`` and talks to the pool over
  its stdin/stdout, one JSON line per request and answer.
- **Own profile per worker.** Concurrent ``soffice`` runs sharing one user profile collide on its lock
  (docling#3819), so every worker gets a fresh profile folder, removed when the worker ends.
- **Bounded.** ``size`` workers convert at once; at most ``queue_limit`` callers wait (first come, first
  served). One more gets :class:`PoolBusy` at once, with a ``retry_after`` estimate for a 503 answer,
  instead of piling up threads behind a slow office (docassemble serialised everything behind one lock).
- **Supervised.** A conversion that outlives ``timeout_s`` gets its worker's whole process group killed —
  the worker, ``oosplash`` and ``soffice.bin`` — and a fresh worker started in its place; so does a worker
  whose office died. Every ``restart_after`` conversions a worker is retired and replaced, as Gotenberg
  restarts LibreOffice every N conversions, so leaks and state cannot pile up; and so is a worker whose
  soffice holds more than ``rss_limit_mb`` of resident memory after a conversion (the worker reads it
  from /proc and reports it with each answer). soffice grows by about 0.7 MiB a document and by far
  more on a long one; a start costs about 1.3 s of CPU, so the memory limit, not a small N, is what
  keeps it in bounds (``bench/convert_pdf.py --split`` shows both). A retired worker is stopped before
  its replacement starts, so two offices never hold their memory side by side in one slot.
- **jemalloc.** soffice runs on jemalloc when it is installed (``LD_PRELOAD`` of Debian's libjemalloc2,
  ``allocator``): LibreOffice's many small allocations cost it less CPU than on glibc's malloc, and it
  grows less from one document to the next.
- **No fsync.** soffice flushes every file it writes to the disk (the PDF and two of its own temporary
  files a conversion): a conversion then waits for the disk whenever the machine writes (the pack's own
  files), about a tenth of LibreOffice's time in a pack. Nothing it writes has to survive a crash — the
  pool reads the PDF and deletes it at once, a lost conversion is made again — so soffice runs with
  Debian's libeatmydata preloaded too, which turns those calls into no-ops (``NO_FSYNC_LIBRARY``).
- **Counting pages.** :meth:`ConversionPool.pages` loads a document, reads its page count (layout is done
  while loading) and closes it, with the same queue, timeout and supervision as a conversion: a long
  document converted in pieces (:mod:`service.packs.pieces`) needs every piece's pages before it converts
  the first, for "Lapa X no Y".
- **Slim input.** The copy of a DOCX LibreOffice is given leaves out the style definitions nothing in it
  uses (:mod:`service.documents.slim`): importing them was about 40 % of LibreOffice's time.
- **Hardened.** LibreOffice as installed fetches what a document links to: converting a DOCX with an
  external image requests it over HTTP, and a ``file://`` image link copies a local file into the PDF
  (Gotenberg's GHSA-rm4c-xj6x-49mw; LibreOffice's own URL handling had exfiltration CVEs too,
  CVE-2024-12426 and CVE-2025-1080). ``UpdateDocMode`` NO_UPDATE alone does not stop it. Each profile sets
  ``BlockUntrustedRefererLinks`` (with no trusted locations, linked content is never loaded) and points
  LibreOffice's proxy at a closed local port; documents are opened hidden, read-only, with the DOCX filter
  only, ``MacroExecutionMode`` NEVER_EXECUTE and ``UpdateDocMode`` NO_UPDATE; macros are disabled in the
  profile and VBA projects not even imported. ``tests/test_pdf_conversion.py`` checks this with a canary
  HTTP server. Still: run the service where LibreOffice has no network reach it does not need.

Nothing here keeps document content: inputs and outputs live in a private temporary folder for the length
of one conversion; :meth:`ConversionPool.state` reports counts and the last error's kind only.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import json
import math
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.documents import uno_worker
from service.documents.slim import slim_docx

__all__ = [
    "ConversionError",
    "ConversionFailed",
    "ConversionPool",
    "ConversionTimeout",
    "ConverterUnavailable",
    "PoolBusy",
    "convert_cold",
]

WORKER_SCRIPT = Path(uno_worker.__file__).resolve()
SYSTEM_PYTHON = "/usr/bin/python3"
INSTALL_HINT = (
    "run `make test` or `make run` as root: they install the Debian packages libreoffice-writer-nogui "
    "and python3-uno"
)
#: the allocators soffice may run on: glibc's own, or jemalloc (Debian's libjemalloc2) when installed
ALLOCATORS = ("jemalloc", "system")
#: the library that makes soffice's fsync calls no-ops (Debian's libeatmydata1), preloaded when installed
NO_FSYNC_LIBRARY = "eatmydata"
_MAX_LINE = 1 << 20  # a protocol line longer than this means the worker is broken
_LOG_TAIL = 1500


class ConversionError(Exception):
    """A document could not be converted to PDF; the subclass says why, as far as it is known, and its
    ``code`` names the problem (``schemas.errors``) a user is shown."""

    code = "pdf.failed"


class ConverterUnavailable(ConversionError):
    """No converter can run: ``soffice``, the interpreter or its ``uno`` module is missing, or LibreOffice
    did not start (the message carries the end of its log). Not the document's fault; retrying the same
    request is pointless until the machine is fixed, or the pool was closed."""

    code = "pdf.unavailable"


class ConversionTimeout(ConversionError):
    """The conversion outlived the timeout; its LibreOffice was killed and a fresh one started. The
    document may be pathological (huge, or hitting a LibreOffice bug) or the machine overloaded; which of
    the two is not known."""

    code = "pdf.timeout"


class ConversionFailed(ConversionError):
    """LibreOffice reported an error for this document, produced no PDF, or crashed while converting it.
    The message carries LibreOffice's own words, which rarely say more than that loading or export failed;
    whether the document or LibreOffice is at fault is not known."""


class PoolBusy(ConversionError):
    """Every converter is busy and ``queue_limit`` callers are already waiting (or the wait for a free
    converter outlasted ``queue_timeout_s``). Nothing was started; ``retry_after`` is a rough estimate,
    in whole seconds (at least 1), of when a retry may succeed — for a 503 answer's Retry-After header."""

    code = "pdf.busy"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"all PDF converters are busy; retry in about {retry_after} s")
        self.retry_after = retry_after


class _Timeout(Exception):
    """The worker did not answer before the deadline (internal)."""


class _Worker:
    """One ``uno_worker.py`` process (and its soffice) in its own process group and temporary folder."""

    def __init__(self, python: str, soffice: str, start_timeout_s: float, preload: str | None = None) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="veidlapas-office-"))
        self.log = self.home / "worker.log"
        self.conversions = 0
        self.ready = False
        self._ready_lock = threading.Lock()  # start(wait=True) and a caller may wait for the same greeting
        self.pipe = f"veidlapas-{os.getpid()}-{uuid.uuid4().hex}"
        self._buffer = b""
        command = [
            python,
            "-I",
            str(WORKER_SCRIPT),
            "--soffice",
            soffice,
            "--profile",
            str(self.home / "profile"),
            "--pipe",
            self.pipe,
            "--start-timeout",
            str(start_timeout_s),
            *(("--preload", preload) if preload else ()),
        ]
        try:
            with self.log.open("wb") as log:
                self.process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    cwd=self.home,
                    start_new_session=True,  # its own process group: one killpg takes soffice down too
                )
        except OSError as error:
            shutil.rmtree(self.home, ignore_errors=True)
            raise ConverterUnavailable(f"cannot run {python}: {error}; {INSTALL_HINT}") from None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self) -> str:
        try:
            with self.log.open("rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - _LOG_TAIL))
                return log.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def _read_line(self, deadline: float) -> dict[str, Any] | None:
        """The next protocol message, None at end of file; ``_Timeout`` after ``deadline``."""
        descriptor = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout
            readable, _, _ = select.select([descriptor], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(descriptor, 65536)
            if not chunk:
                return None
            self._buffer += chunk
            if len(self._buffer) > _MAX_LINE:
                raise ConversionFailed("the LibreOffice worker sent an overlong answer")
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            raise ConversionFailed("the LibreOffice worker sent an unreadable answer") from None
        return message if isinstance(message, dict) else {}

    def started(self) -> bool:
        """Whether the worker has greeted (or has something to say), without waiting."""
        if self.ready or b"\n" in self._buffer:
            return True
        readable, _, _ = select.select([self.process.stdout.fileno()], [], [], 0)
        return bool(readable)

    def wait_ready(self, deadline: float) -> None:
        """Wait for the worker's greeting; :class:`ConverterUnavailable` when it cannot start."""
        with self._ready_lock:
            if not self.ready:
                self._read_greeting(deadline)

    def _read_greeting(self, deadline: float) -> None:
        try:
            greeting = self._read_line(deadline)
        except _Timeout:
            raise ConverterUnavailable("LibreOffice did not start in time") from None
        if greeting is None:
            tail = self.log_tail()
            message = f"the LibreOffice worker exited at start: {tail[-500:]}"
            raise ConverterUnavailable(f"{message}; {INSTALL_HINT}")
        if not greeting.get("ready"):
            hint = f"; {INSTALL_HINT}" if greeting.get("kind") == "unavailable" else ""
            raise ConverterUnavailable(f"LibreOffice did not start: {greeting.get('error')}{hint}")
        self.ready = True

    def request(self, message: dict[str, Any], deadline: float) -> dict[str, Any] | None:
        """Send one request and wait for its answer (None when the worker died)."""
        try:
            self.process.stdin.write(json.dumps(message).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            return None
        return self._read_line(deadline)

    def kill(self) -> None:
        """Kill the whole process group at once and clean up."""
        # The group leader is not reaped yet, so its id cannot have been reused by another group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._finish()

    def stop(self, grace_s: float = 10.0) -> None:
        """Close stdin (the worker then quits soffice and exits); kill what is left after ``grace_s``."""
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.close()
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and self.process.returncode is None:
            # WNOWAIT: see the exit without reaping, so the group id stays ours for the killpg below.
            try:
                if os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                    break
            except ChildProcessError:  # already reaped (by poll)
                break
            time.sleep(0.05)
        self.kill()

    def _finish(self) -> None:
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError, ValueError):
                stream.close()
        shutil.rmtree(self.home, ignore_errors=True)
        for path in uno_worker.office_sockets(self.pipe, str(self.home / "profile")):  # left when killed
            with contextlib.suppress(OSError):
                os.unlink(path)


@dataclass(eq=False)
class _Slot:
    """A place for one worker in the pool; the worker in it may be replaced."""

    index: int
    worker: _Worker | None = None


@dataclass(eq=False)
class _Waiter:
    event: threading.Event = field(default_factory=threading.Event)
    slot: _Slot | None = None


class ConversionPool:
    """A bounded pool of warm LibreOffice converters; thread-safe.

    ``size`` workers convert at once; ``timeout_s`` bounds one conversion (not the office's start, which
    ``start_timeout_s`` bounds); a worker is replaced after ``restart_after`` conversions, or after the
    one that left its soffice using more than ``rss_limit_mb`` MiB of memory (0: no limit); at most
    ``queue_limit`` callers wait, each at most ``queue_timeout_s`` (default: ``timeout_s``). Workers start
    on first use, or all at once with :meth:`start`. Close with :meth:`close` (or use ``with``).
    """

    def __init__(
        self,
        size: int = 2,
        *,
        timeout_s: float = 60.0,
        restart_after: int = 500,
        rss_limit_mb: int = 0,
        queue_limit: int = 8,
        python: str = SYSTEM_PYTHON,
        soffice: str | None = None,
        start_timeout_s: float = 60.0,
        queue_timeout_s: float | None = None,
        slim: bool = True,
        allocator: str = "jemalloc",
    ) -> None:
        if size < 1 or restart_after < 1 or queue_limit < 0 or timeout_s <= 0 or start_timeout_s <= 0:
            raise ValueError("size and restart_after must be ≥ 1, queue_limit ≥ 0, timeouts > 0")
        if rss_limit_mb < 0:
            raise ValueError("rss_limit_mb must be ≥ 0 (0: no limit)")
        self.size = size
        self.timeout_s = timeout_s
        self.restart_after = restart_after
        self.rss_limit_kib = rss_limit_mb * 1024
        self.slim = slim  # off only to measure what it saves (bench/convert_pdf.py)
        self.allocator = allocator_library(allocator)
        no_fsync = ctypes.util.find_library(NO_FSYNC_LIBRARY)
        self.preload = ":".join(library for library in (self.allocator, no_fsync) if library) or None
        self.queue_limit = queue_limit
        self.python = python
        self.soffice = soffice or shutil.which("soffice") or shutil.which("libreoffice")
        self.start_timeout_s = start_timeout_s
        self.queue_timeout_s = timeout_s if queue_timeout_s is None else queue_timeout_s
        self._lock = threading.Lock()
        self._slots = [_Slot(index) for index in range(size)]
        self._idle: deque[_Slot] = deque(self._slots)
        self._waiters: deque[_Waiter] = deque()
        self._busy = 0
        self._closed = False
        self._retiring: list[threading.Thread] = []
        self._durations: deque[float] = deque(maxlen=20)
        counted = ("conversions", "failures", "timeouts", "rejected", "restarts", "memory_restarts")
        self._counts = dict.fromkeys((*counted, "replacements"), 0)
        self._last_error: str | None = None
        self._peak_kib = 0  # the largest peak memory any of its soffice processes reached

    # -- public ---------------------------------------------------------------------------------------

    def convert(
        self, docx: bytes, *, pdfa: bool = False, timeout_s: float | None = None, slimmed: bool = False
    ) -> bytes:
        """The PDF of ``docx`` (PDF/A-2b when ``pdfa``); waits for a free converter if the queue allows.
        ``slimmed``: the caller has slimmed ``docx`` already (:func:`~service.documents.slim.slim_docx`),
        say while the converter was busy with its previous document.

        Raises :class:`PoolBusy`, :class:`ConversionTimeout`, :class:`ConversionFailed` or
        :class:`ConverterUnavailable` (all :class:`ConversionError`).
        """
        return self._serve(docx, pdfa, timeout_s, count=False, slimmed=slimmed)[0]

    def convert_measured(
        self, docx: bytes, *, pdfa: bool = False, timeout_s: float | None = None
    ) -> tuple[bytes, dict[str, float]]:
        """:meth:`convert`, with where the time went: ``load_ms`` and ``export_ms`` (LibreOffice's own
        figures), ``wait_ms`` (for a free converter, its start included), ``pages``, and ``rss_kib`` and
        ``peak_kib`` (the converter's memory afterwards, and its peak since it started) — for the
        benchmark."""
        return self._serve(docx, pdfa, timeout_s, count=False)

    def pages(self, docx: bytes, *, timeout_s: float | None = None) -> int:
        """How many pages LibreOffice lays ``docx`` out on: loaded (layout is done while loading), counted
        and closed, not exported — with the same queue, timeout and supervision as :meth:`convert`."""
        return int(self._serve(docx, False, timeout_s, count=True)[1]["pages"])

    def _serve(
        self, docx: bytes, pdfa: bool, timeout_s: float | None, *, count: bool, slimmed: bool = False
    ) -> tuple[bytes, dict[str, float]]:
        self._check_installed()
        if self.slim and not slimmed:
            docx = slim_docx(docx)  # before taking a converter: it waits for no one
        queued = time.monotonic()
        slot = self._acquire(queued + self.queue_timeout_s)
        try:
            return self._convert_in(
                slot, docx, pdfa, self.timeout_s if timeout_s is None else timeout_s, queued, count
            )
        except ConversionError as error:
            with self._lock:
                self._counts["failures"] += 1
                self._counts["timeouts"] += isinstance(error, ConversionTimeout)
                self._last_error = type(error).__name__
            raise
        finally:
            self._release(slot)

    def start(self, *, wait: bool = False) -> None:
        """Start every worker now (in the background); with ``wait``, until each is ready or failed."""
        self._check_installed()
        with self._lock:
            idle = list(self._idle)
            for slot in idle:
                if not self._closed and (slot.worker is None or not slot.worker.alive):
                    slot.worker = self._spawn()
        if wait:
            deadline = time.monotonic() + self.start_timeout_s
            for slot in idle:
                if slot.worker is not None:
                    slot.worker.wait_ready(deadline)

    def state(self) -> dict[str, Any]:
        """Counts for the health endpoint: no document data, no paths."""
        with self._lock:
            durations = sorted(self._durations)
            return {
                "installed": bool(self.soffice) and os.access(self.python, os.X_OK),
                "allocator": self.allocator or "system",
                "preloaded": self.preload.split(":") if self.preload else [],
                "size": self.size,
                "workers": sum(1 for slot in self._slots if slot.worker is not None and slot.worker.alive),
                "busy": self._busy,
                "waiting": len(self._waiters),
                "queue_limit": self.queue_limit,
                **self._counts,
                "median_ms": round(durations[len(durations) // 2] * 1000) if durations else None,
                "peak_kib": self._peak_kib,
                "last_error": self._last_error,
                "closed": self._closed,
            }

    def close(self) -> None:
        """Stop every worker and refuse new conversions; waiting callers get ConverterUnavailable."""
        with self._lock:
            self._closed = True
            waiters, self._waiters = list(self._waiters), deque()
            workers = [slot.worker for slot in self._idle if slot.worker is not None]
            for slot in self._idle:
                slot.worker = None
            retiring = list(self._retiring)
        for waiter in waiters:
            waiter.event.set()
        stoppers = [threading.Thread(target=worker.stop, args=(5.0,)) for worker in workers]
        for thread in stoppers:
            thread.start()
        for thread in stoppers + retiring:
            thread.join()

    def __enter__(self) -> ConversionPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the queue -------------------------------------------------------------------------------------

    def _acquire(self, deadline: float) -> _Slot:
        with self._lock:
            if self._closed:
                raise ConverterUnavailable("the PDF converter pool is closed")
            if self._idle:  # never while others wait: _release hands slots to waiters first
                self._busy += 1
                return self._take_idle()
            if len(self._waiters) >= self.queue_limit:
                self._counts["rejected"] += 1
                raise PoolBusy(self._retry_after())
            waiter = _Waiter()
            self._waiters.append(waiter)
        waiter.event.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            if waiter.slot is not None:
                return waiter.slot
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            if self._closed:
                raise ConverterUnavailable("the PDF converter pool is closed")
            self._counts["rejected"] += 1
            raise PoolBusy(self._retry_after())

    def _take_idle(self) -> _Slot:
        """The first idle slot whose office is up, else the first idle slot (under the lock)."""
        for slot in self._idle:
            if slot.worker is not None and slot.worker.alive and slot.worker.started():
                self._idle.remove(slot)
                return slot
        return self._idle.popleft()

    def _release(self, slot: _Slot) -> None:
        with self._lock:
            if self._closed and slot.worker is not None:
                worker, slot.worker = slot.worker, None
                self._retire(worker)
            if self._waiters and not self._closed:
                waiter = self._waiters.popleft()
                waiter.slot = slot  # stays busy: handed straight to the first in line
                waiter.event.set()
            else:
                self._busy -= 1
                self._idle.append(slot)

    def _retry_after(self) -> int:
        """Seconds until the queue has likely moved on (under the lock)."""
        typical = sorted(self._durations)[len(self._durations) // 2] if self._durations else 2.0
        ahead = self._busy + len(self._waiters) + 1
        return max(1, math.ceil(typical * ahead / self.size))

    # -- the workers -----------------------------------------------------------------------------------

    def _check_installed(self) -> None:
        if not self.soffice:
            raise ConverterUnavailable(f"LibreOffice (soffice) is not installed; {INSTALL_HINT}")
        if not os.access(self.python, os.X_OK):
            message = f"{self.python} (the interpreter with LibreOffice's uno module) is missing"
            raise ConverterUnavailable(f"{message}; {INSTALL_HINT}")

    def _spawn(self) -> _Worker:
        return _Worker(self.python, self.soffice, self.start_timeout_s, self.preload)

    def _retire(self, worker: _Worker) -> None:
        """Stop ``worker`` gracefully in the background (under the lock)."""
        self._retiring = [thread for thread in self._retiring if thread.is_alive()]
        thread = threading.Thread(target=worker.stop, name="retire-office", daemon=True)
        thread.start()
        self._retiring.append(thread)

    def _replace(self, slot: _Slot, *, kill: bool, planned: bool = False) -> None:
        """Put a fresh worker (starting now) in ``slot`` once the old one is gone: killed, or stopped
        gracefully (about 0.1 s) — never both offices in memory at once."""
        old, slot.worker = slot.worker, None
        if old is not None:
            if kill:
                old.kill()
            else:
                old.stop(5.0)
        with self._lock:
            self._counts["restarts" if planned else "replacements"] += 1
            if self._closed:
                return
        with contextlib.suppress(ConverterUnavailable):  # the next caller tries again and reports it
            slot.worker = self._spawn()

    def _convert_in(
        self, slot: _Slot, docx: bytes, pdfa: bool, timeout_s: float, queued: float, count: bool
    ) -> tuple[bytes, dict[str, float]]:
        if slot.worker is not None and not slot.worker.alive:
            self._replace(slot, kill=True)  # it died while idle
        if slot.worker is None:
            slot.worker = self._spawn()
        worker = slot.worker
        try:
            # a little longer than the worker's own start deadline, so that it can say what went wrong
            worker.wait_ready(time.monotonic() + self.start_timeout_s + 5)
        except ConverterUnavailable:
            worker.kill()
            slot.worker = None
            raise
        with tempfile.TemporaryDirectory(prefix="veidlapas-pdf-") as job:
            source, target = Path(job) / "document.docx", Path(job) / "document.pdf"
            source.write_bytes(docx)
            started = time.monotonic()
            try:
                request = (
                    {"input": str(source), "count": True}
                    if count
                    else {"input": str(source), "output": str(target), "pdfa": pdfa}
                )
                answer = worker.request(request, started + timeout_s)
            except _Timeout:
                self._replace(slot, kill=True)
                raise ConversionTimeout(f"the PDF conversion took longer than {timeout_s:g} s") from None
            except ConversionFailed:
                self._replace(slot, kill=True)
                raise
            if answer is None:
                self._replace(slot, kill=True)
                raise ConversionFailed("LibreOffice stopped while converting (it crashed or was killed)")
            if not answer.get("ok"):
                if answer.get("fatal"):
                    self._replace(slot, kill=True)
                raise ConversionFailed(f"LibreOffice could not convert the document: {answer.get('error')}")
            pdf = target.read_bytes() if target.is_file() else b""
        if count and not (isinstance(answer.get("pages"), int) and answer["pages"] > 0):
            raise ConversionFailed("LibreOffice loaded the document but could not count its pages")
        if not count and not pdf.startswith(b"%PDF-"):
            raise ConversionFailed("LibreOffice reported success but wrote no PDF")
        worker.conversions += 1
        figures = {
            key: answer.get(key, 0) for key in ("load_ms", "export_ms", "pages", "rss_kib", "peak_kib")
        }
        figures["wait_ms"] = round((started - queued) * 1000, 1)
        over_memory = bool(self.rss_limit_kib) and figures["rss_kib"] > self.rss_limit_kib
        with self._lock:
            self._counts["conversions"] += 1
            self._counts["memory_restarts"] += over_memory
            self._peak_kib = max(self._peak_kib, int(figures["peak_kib"]))
            self._durations.append(time.monotonic() - started)
        if over_memory or worker.conversions >= self.restart_after:
            self._replace(slot, kill=False, planned=True)
        return pdf, figures


def allocator_library(name: str) -> str | None:
    """The shared library of the memory allocator ``name`` for soffice to preload: None for "system" (glibc's
    own) or when it is not installed.

    >>> allocator_library("system") is None
    True
    """
    if name not in ALLOCATORS:
        raise ValueError(f"allocator must be one of {', '.join(ALLOCATORS)}")
    return ctypes.util.find_library(name) if name != "system" else None


def convert_cold(docx: bytes, *, timeout_s: float = 120.0, soffice: str | None = None) -> bytes:
    """The PDF of ``docx`` from one ``soffice --convert-to pdf`` run with its own fresh, hardened profile.

    The slow way (a whole LibreOffice start per file), for comparison in ``bench/convert_pdf.py``.
    """
    soffice = soffice or shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise ConverterUnavailable(f"LibreOffice (soffice) is not installed; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="veidlapas-cold-") as job:
        profile, source, out = Path(job) / "profile", Path(job) / "document.docx", Path(job) / "out"
        uno_worker.write_profile(str(profile))
        source.write_bytes(docx)
        command = uno_worker.soffice_command(
            soffice, str(profile), "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(out), str(source)
        )
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=uno_worker.office_environment(),
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ConversionTimeout(f"the PDF conversion took longer than {timeout_s:g} s") from None
        target = out / "document.pdf"
        pdf = target.read_bytes() if target.is_file() else b""
    if process.returncode != 0 or not pdf.startswith(b"%PDF-"):
        message = output.decode("utf-8", "replace").strip()[-500:]
        raise ConversionFailed(f"soffice --convert-to failed (status {process.returncode}): {message}")
    return pdf
