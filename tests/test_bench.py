"""The pack benchmark still runs: a tiny pack through the same path as its real scenarios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_pack_benchmark_makes_a_tiny_pack_and_prints_its_row():
    done = subprocess.run(
        [sys.executable, "-m", "bench.pack", "--clients", "3", "--lines-per-client", "2", "--timeout", "120"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    row = next(line for line in done.stdout.splitlines() if line.startswith("| docx-3 |"))
    assert "| 3 | 6 | 5 |" in row  # clients, lines, documents
    assert "left running {'worker': 0, 'office': 0}" in done.stdout
