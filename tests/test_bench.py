"""The document benchmark runs, at a tiny size, in every suite run: so it cannot rot unnoticed.

It is run as ``make bench`` runs it (``python -m bench.render_documents``), in a process of its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service.documents import KINDS

ROOT = Path(__file__).resolve().parent.parent


def test_the_document_benchmark_runs_at_a_tiny_size():
    done = subprocess.run(
        [sys.executable, "-m", "bench.render_documents", "--runs", "2", "--rows", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    for kind in ("support-plan", "service-agreement", "delivery-act", "reimbursement-request"):
        assert kind in KINDS
        assert f"POST /api/v1/documents/{kind}" in done.stdout
    assert "plain docxtpl (comparison)" in done.stdout and "peak RSS" in done.stdout
