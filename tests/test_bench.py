"""Every benchmark runs, at a tiny size, in every suite run: so none can rot unnoticed.

Each is run as ``make bench`` runs it (``python -m bench.<name>``), in a process of its own, and its
output is read for the figures it exists to print.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.national import country, orders
from service.config import UploadLimits
from service.documents import KINDS
from service.packs.tables import read_table_files

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


@pytest.mark.parametrize("sent", [(), ("--tables",)], ids=["json", "tables"])
def test_the_pack_benchmark_makes_a_tiny_pack_and_prints_its_row(sent):
    output = run_bench("bench.pack", "--clients", "3", "--lines-per-client", "2", "--timeout", "120", *sent)
    row = next(line for line in output.splitlines() if line.startswith("| docx-3 |"))
    assert "| 3 | 6 | 5 |" in row  # clients, lines, documents
    assert "left running {'worker': 0, 'office': 0}" in output
    assert ("as CSV" if sent else "as JSON") in output


def test_the_pdf_benchmark_converts_cold_and_warm():
    output = run_bench("bench.convert_pdf", "--cold-runs", "1", "--warm-runs", "1")
    assert "cold (soffice" in output and "warm, pool of 2" in output


def test_the_pdf_benchmark_splits_a_pack_documents_time_by_setting():
    output = run_bench("bench.convert_pdf", "--split", "--documents", "2")
    assert output.count("LibreOffice a document: load") == 4  # jemalloc, glibc, unslimmed, restart after 50
    assert "on glibc's allocator" in output and "without slimming the DOCX" in output
    assert "restarts:" in output and "soffice's memory" in output


def test_the_form_reading_benchmark_reads_a_pdf_and_a_docx():
    output = run_bench("bench.read_forms", "--runs", "1", "--warmup", "1")
    for kind in ("PDF", "DOCX"):
        assert f"| POST /api/v1/forms, {kind}, a new file (201)" in output
        assert f"| parse alone, {kind} (in this process)" in output
    assert "load average before" in output and "peak RSS" in output


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


def test_the_merge_benchmark_merges_real_pack_pdfs_three_ways():
    output = run_bench("bench.merge_pdf", "--parts", "3", "--pages", "2", "--runs", "1")
    assert "3 parts of 2 page(s) made" in output
    for way in ("streaming", "pypdf", "pikepdf"):
        row = next(line for line in output.splitlines() if line.startswith(f"| {way} |"))
        assert "| 3 × 2 |" in row and " MiB |" in row


def test_the_national_benchmark_makes_a_city_s_and_a_small_municipality_s_packs_on_celery():
    """Two municipalities, a few clients, DOCX only, with its own PostgreSQL, Redis and two workers
    (a missing one fails the run, as in the Celery tests). The city's order goes as CSV tables."""
    output = run_bench("bench.national", "--scale", "0.001", "--municipalities", "2", "--timeout", "240")
    assert "2 municipalities, 9 clients (seed 14, scale 0.001)" in output
    assert "2 orders (1 as CSV tables), 45 lines" in output
    assert "capital: 1 × 8–8 clients" in output and "small: 1 × 1–1 clients" in output
    row = next(line for line in output.splitlines() if line.startswith("| DOCX at 0.001 on 2×1 |"))
    assert "| 2 | 9 | 45 | 13 |" in row  # orders, clients, lines, documents (clients + 2 per pack)
    assert "by parts made:" in output and "largest pool process" in output


def test_the_national_country_is_seeded_and_a_municipality_over_the_order_limit_orders_several_packs():
    full = country()
    assert len(full) == 40 and sum(m.clients for m in full) == 30_000 and full[0].clients == 8000
    by_tier = {
        tier: [m.clients for m in full if m.tier == tier] for tier in ("capital", "city", "town", "small")
    }
    assert [len(sizes) for sizes in by_tier.values()] == [1, 2, 10, 27]
    assert all(800 <= n <= 1400 for n in by_tier["town"]) and all(100 <= n <= 400 for n in by_tier["small"])
    assert country() == full and country(seed=15) != full

    made = orders(
        country(scale=0.001, count=2),
        lines_per_client=2,
        pdf=False,
        max_order_clients=3,
        max_json_bytes=4_000_000,
        max_json_items=20_000,
    )
    assert [(o.municipality.tier, o.clients, o.lines, o.as_tables) for o in made] == [
        ("capital", 3, 6, True),
        ("capital", 3, 6, True),
        ("capital", 2, 4, True),
        ("small", 1, 2, False),
    ]
    assert [o.code for o in made] == ["bauska", "liepaja", "bauska", "liepaja"]
    numbers, codes = [], []
    for order in made[:3]:
        files = {key: value for key, value in order.form.items() if key != "order"}
        table = read_table_files(files, UploadLimits())
        assert len(table.lines) == order.lines and len(table.agreements) == order.clients
        numbers += [agreement["number"] for agreement in table.agreements]
        codes += [agreement["client"]["personal_code"] for agreement in table.agreements]
    assert len(set(numbers)) == len(set(codes)) == 8  # every order its own agreements and clients


def test_the_table_reading_benchmark_reads_every_file_and_groups_the_problems():
    output = run_bench("bench.read_tables", "--lines", "50", "--runs", "1")
    for name in ("CSV, ISO dates", "CSV as Latvian Excel", "XLSX template", "XLSX, every cell Latvian text"):
        assert f"| read {name}" in output
    assert "| group and list 50 equal problems" in output and "peak RSS" in output


def test_the_request_layout_benchmark_converts_both_layouts_and_measures_the_summary_and_render():
    output = run_bench(
        "bench.request_layout",
        "--rows",
        "3",
        "--runs",
        "1",
        "--summary-lines",
        "20",
        "--render-clients",
        "20",
    )
    rendered = next(line for line in output.splitlines() if line.startswith("| 20 | 120 |"))
    assert rendered.count(" MiB |") == 3 and " B |" in rendered and "load average" in rendered
    row = next(line for line in output.splitlines() if line.startswith("| 3 |"))
    assert row.count(" s |") == 2 and "load average" in row
    assert "summary.xlsx of 20 lines" in output
    assert "lines as a list" in output and "lines as a generator" in output
    assert output.count("peak RSS added") == 2


def test_the_request_layout_benchmark_converts_the_request_whole_and_in_pieces():
    output = run_bench(
        "bench.request_layout",
        "--no-request",
        "--summary-lines",
        "0",
        "--pieces",
        "30",
        "--piece-rows",
        "10",
        "--runs",
        "1",
    )
    row = next(line for line in output.splitlines() if line.startswith("| 30 |"))
    assert row.count(" s |") == 2 and row.count(" MiB |") == 2 and "load average" in row
    assert row.split("|")[7].strip() == "3"  # the summary, then the rows' table and the rest
