"""A ``veidlapas`` command run as a real process in its own process group, for the tests that kill one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

VEIDLAPAS = str(Path(sys.executable).parent / "veidlapas")


class VeidlapasProcess:
    """``veidlapas ARGS`` with ``env``, its output appended to ``log``; started and waited for until
    ``ready()`` is true (a dead process or a timeout fails the test with the log's tail)."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        log: Path,
        ready: Callable[[], bool],
        timeout_s: float = 60,
    ) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [VEIDLAPAS, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while not ready():
            assert self.process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, f"veidlapas {args[0]} did not get ready"
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the process and its children at once: nothing is acknowledged or cleaned up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self, grace_s: float = 30) -> None:
        """SIGTERM, then SIGKILL after ``grace_s``."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.kill()
