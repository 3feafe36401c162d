"""Every benchmark runs, at a tiny size, in every suite run: so none can rot unnoticed.

Each is run as ``make bench`` runs it (``python -m bench.<name>``), in a process of its own, and its
output is read for the figures it exists to print.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service.documents import KINDS

ROOT = Path(__file__).resolve().parent.parent


def run_bench(*arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_the_document_benchmark_runs_at_a_tiny_size():
    output = run_bench("bench.render_documents", "--runs", "2", "--rows", "2")
    for kind in ("support-plan", "service-agreement", "delivery-act", "reimbursement-request"):
        assert kind in KINDS
        assert f"POST /api/v1/documents/{kind}" in output
    assert "plain docxtpl (comparison)" in output and "peak RSS" in output


def test_the_pack_benchmark_makes_a_tiny_pack_and_prints_its_row():
    output = run_bench("bench.pack", "--clients", "3", "--lines-per-client", "2", "--timeout", "120")
    row = next(line for line in output.splitlines() if line.startswith("| docx-3 |"))
    assert "| 3 | 6 | 5 |" in row  # clients, lines, documents
    assert "left running {'worker': 0, 'office': 0}" in output


def test_the_pdf_benchmark_converts_cold_and_warm():
    output = run_bench("bench.convert_pdf", "--cold-runs", "1", "--warm-runs", "1")
    assert "cold (soffice" in output and "warm, pool of 2" in output


def test_the_form_reading_benchmark_reads_a_pdf_and_a_docx():
    output = run_bench("bench.read_forms", "--runs", "1")
    assert "filled PDF form" in output and "filled DOCX form" in output and "peak RSS" in output


def test_the_case_benchmark_finds_clients_and_opens_their_plans_budgets_and_due_work():
    output = run_bench(
        "bench.cases", "--clients", "30", "--versions", "2", "--requests", "5", "--pack-clients", "20"
    )
    assert "sqlite: 30 clients, 60 plan versions made" in output
    assert "30 agreements, 350 accepted acts made" in output  # 27 × 12 months, 3 × 9 (ended), 1 not accepted
    rows = ("client search by personal code", "client search by name prefix", "one client's plans")
    for row in (*rows, "one client's budget", "due work"):
        assert f"| {row}" in output
    assert "| a month's pack order from 20 accepted acts (80 lines) |" in output


def test_the_pages_benchmark_times_the_list_a_search_and_a_clients_page():
    output = run_bench("bench.pages", "--clients", "60", "--requests", "3", "--rows", "3")
    assert "sqlite: 60 clients, 60 agreements" in output
    assert "first list request" in output
    for row in ("a page of the client list (50 by name)", "a name search", "a client's page"):
        assert f"| {row}" in output
    assert "| the plan editor (3 service rows) |" in output


def test_the_request_layout_benchmark_converts_both_layouts_and_measures_the_summary():
    output = run_bench("bench.request_layout", "--rows", "3", "--runs", "1", "--summary-lines", "20")
    row = next(line for line in output.splitlines() if line.startswith("| 3 |"))
    assert row.count(" s |") == 2 and "load average" in row
    assert "summary.xlsx of 20 lines" in output
    assert "lines as a list" in output and "lines as a generator" in output
    assert output.count("peak RSS added") == 2
