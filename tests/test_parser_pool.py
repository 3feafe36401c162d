"""The warm pool of parser processes: a file that breaks a limit is answered as a one-off child answers it,
a child is reused only after a clean read and retired after N files, a dead child does not break the
next upload, and no child outlives its pool or its program.

The parsing functions are module level, so the children can import them by reference; the timeouts are
small so the file stays quick. Nothing is timed.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from service.config import ROOT, UploadLimits
from service.forms import parsers
from service.forms.parsers import POOLED, ParserPool
from service.forms.pdf_form import read_pdf_form
from service.forms.uploads import ParseLimit, ParseRejected, ParseTimeout, run_limited
from tests.helpers import upload
from tests.test_upload_safety import die, spin

MiB = 1024 * 1024
SAMPLE = (ROOT / "samples" / "delivery-act-filled.pdf").read_bytes()


def pid(data: bytes) -> int:
    return os.getpid()


def allocate(data: bytes) -> int:
    """Far more memory than the limit allows."""
    return len(bytearray(1024 * MiB))


def refuse(data: bytes) -> None:
    raise ValueError(f"cannot read {data[:20]!r}")


@pytest.fixture(scope="module", autouse=True)
def fork_server():
    """The fork server started before any test's timeout counts (it imports the readers: seconds, on a
    busy machine)."""
    run_limited(pid, b"x", timeout_s=120)


@pytest.fixture
def pool():
    made = ParserPool(size=1, recycle_after=3, memory_bytes=512 * MiB, timeout_s=5)
    yield made
    made.close()


def alive(process_id: int) -> bool:
    """Whether a process runs (a zombie waiting for a reaper counts as gone)."""
    try:
        state = Path(f"/proc/{process_id}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def gone(process_ids, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while any(alive(process_id) for process_id in process_ids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def code_of(call, *args, **kwargs) -> tuple[type, str]:
    with pytest.raises((ParseLimit, ParseTimeout, ParseRejected)) as caught:
        call(*args, **kwargs)
    return type(caught.value), caught.value.code


def test_a_child_is_reused_after_clean_reads_and_retired_after_n_files(pool):
    first = [pool.run(pid, b"x", timeout_s=5) for _ in range(3)]
    assert len(set(first)) == 1 and first[0] != os.getpid()
    fourth = pool.run(pid, b"x", timeout_s=5)
    assert fourth != first[0]  # retired after its third file, a fresh child in its place
    assert gone([first[0]])
    assert pool.workers() == [fourth]


def test_the_pool_reads_the_sample_as_a_child_of_its_own_does(pool):
    assert pool.run(read_pdf_form, SAMPLE, timeout_s=5) == run_limited(read_pdf_form, SAMPLE, timeout_s=5)


@pytest.mark.parametrize(
    ("function", "timeout_s", "expected"),
    [
        (allocate, 5, (ParseLimit, "upload.parse_limit")),
        (spin, 1, (ParseTimeout, "upload.parse_timeout")),
        (die, 5, (ParseLimit, "upload.parse_limit")),
        (refuse, 5, (ParseRejected, "upload.unreadable")),
    ],
    ids=["memory", "time", "crash", "refusal"],
)
def test_a_child_that_breaks_a_limit_dies_or_refuses_is_answered_as_before_and_replaced(
    pool, function, timeout_s, expected
):
    before = pool.run(pid, b"x", timeout_s=5)
    assert code_of(pool.run, function, b"%PDF-1.7", timeout_s=timeout_s) == expected
    assert (
        code_of(run_limited, function, b"%PDF-1.7", timeout_s=timeout_s, memory_bytes=512 * MiB) == expected
    )
    assert gone([before])  # killed (time) or retired (the rest): never used again
    replacement = pool.workers()
    assert len(replacement) == 1 and replacement[0] != before
    assert pool.run(read_pdf_form, SAMPLE, timeout_s=5)["fields"]["number"]  # the next upload is read
    assert pool.workers() == replacement


def test_a_child_killed_while_idle_is_replaced_without_failing_the_upload(pool):
    idle = pool.run(pid, b"x", timeout_s=5)
    os.kill(idle, signal.SIGKILL)
    assert gone([idle])
    assert pool.run(pid, b"x", timeout_s=5) not in (idle, os.getpid())


def test_when_every_pooled_child_is_busy_an_upload_gets_a_child_of_its_own(pool):
    busy = threading.Thread(target=lambda: code_of(pool.run, spin, b"x", timeout_s=2))
    busy.start()
    while not any(child.name == POOLED for child in multiprocessing.active_children()):
        time.sleep(0.01)
    time.sleep(0.2)
    own = pool.run(pid, b"x", timeout_s=5)  # not queued behind the spinning one
    busy.join()
    assert own not in pool.workers()
    assert gone([own])  # a one-off child ends after its file


def test_closing_the_pool_ends_its_children(pool):
    child = pool.run(pid, b"x", timeout_s=5)
    pool.close()
    assert gone([child])
    assert pool.workers() == []
    assert pool.run(pid, b"x", timeout_s=5) != child  # a closed pool still reads, with one-off children
    assert pool.workers() == []


PROGRAM = textwrap.dedent(
    """
    from service import submissions
    from service.config import ROOT, DEFAULT_LIMITS
    from service.forms import parsers

    if __name__ == "__main__":
        sample = (ROOT / "samples" / "delivery-act-filled.pdf").read_bytes()
        form = submissions.read_upload(sample, DEFAULT_LIMITS)
        print(form.act["number"] or "-", *parsers.pool(DEFAULT_LIMITS).workers())
    """
)


def test_no_child_outlives_the_program_that_started_the_pool(tmp_path):
    (tmp_path / "program.py").write_text(PROGRAM, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "program.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    _, *children = done.stdout.split()
    assert len(children) == UploadLimits().parsers
    assert gone([int(child) for child in children])


def test_the_pool_of_a_process_follows_its_settings():
    limits = UploadLimits(parsers=3, parser_recycle_after=7)
    made = parsers.pool(limits)
    assert (made.size, made.recycle_after, made.memory_bytes) == (3, 7, limits.parse_memory_bytes)
    assert parsers.pool(limits) is made and parsers.pool(UploadLimits()) is not made


def test_an_upload_whose_parser_runs_out_of_memory_gets_the_clean_problem(app, client):
    """Through the API, with a memory limit the reader cannot work in: the problem every hostile file
    over the limit gets, a 422 with ``upload.parse_limit``; with the ordinary limit the same file reads."""
    app.config["PARSE_MEMORY_BYTES"] = 64 * MiB
    response = upload(client, SAMPLE)
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert [error["code"] for error in response.json["errors"]] == ["upload.parse_limit"]
    app.config["PARSE_MEMORY_BYTES"] = UploadLimits().parse_memory_bytes
    assert upload(client, SAMPLE).status_code == 201
