"""Benchmark: the printed request's layout, and the memory of the pack's summary workbook.

- **request** — the reimbursement request of ``--rows`` rows (one client, one delivery line and one row
  each; made from the Bauska sample by ``bench.pack_data``) converted to PDF by one warm LibreOffice, in
  the standard layout (consecutive tables of at most 200 rows, ``reimbursement.tables``) and in the layout
  before issue 14 (every row in one table: the same template given one part). The two alternate, ``--runs``
  times each, after a warm-up conversion at each size (``--no-warm-up``); the medians are printed with
  the load, and a conversion past ``--timeout`` seconds as timed out.
- **pieces** — the request of ``--pieces`` rows (standard layout) converted whole and in pieces of
  ``--piece-rows`` table rows (:func:`service.packs.pieces.convert_in_pieces`, as a pack makes it), each
  run by a fresh pool of one converter started before the clock and restarted, as a pack's, once its
  soffice holds more than ``--rss-limit`` MiB after a document: the wall time, the largest peak resident
  memory (``VmHWM``) of any soffice it ran and the restarts, alternating, medians of ``--runs``.
- **summary** — ``summary.xlsx`` for ``--summary-lines`` delivery lines (the lines of a loaded request of
  up to 2 000 clients, 5 lines each, repeated), each measured in a fresh process: the peak RSS the build
  adds (``VmHWM`` after it, reset through ``/proc/self/clear_refs`` before it, less ``VmRSS`` before it)
  and its wall time; once with the lines as a list and once as a generator. ``--summary-code DIR``
  measures the code of another checkout instead (e.g. the commit before: ``git worktree add ../before
  <commit>``), whose ``summary_xlsx`` returned bytes.
- **render** — the memory of rendering the request DOCX as a pack's worker does, for ``--render-clients``
  clients of ``--render-lines`` lines each (made by ``bench.pack_data``, as ``bench.pack``'s scenarios:
  5 000 clients, 30 000 lines), each size in a fresh process: the order's input read from JSON, then the
  peak RSS the request's schema load adds and the peak its render to a file adds (as for the summary),
  the process's peak (``VmHWM``) and the render's wall time. ``--render-code DIR`` measures another
  checkout (one without ``Templates.render_to``, before issue 14, renders to bytes and writes them).

Run: ``.venv/bin/python -m bench.request_layout --rows 500 1000 2000 4000 --runs 3 --summary-lines 60000
--render-clients 1000 5000 10000`` (``--no-request``, ``--summary-lines 0`` or ``--render-clients`` with
no size leave a part out); the pieces alone:
``.venv/bin/python -m bench.request_layout --no-request --summary-lines 0 --pieces 2000 6400 12850 --runs 3``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def request_of(clients: int, lines_per_client: int = 1) -> dict[str, Any]:
    """A loaded request of ``clients`` clients; with one line each, one row each."""
    from bench.pack_data import pack_order
    from schemas.pack import PackOrderSchema, request_input
    from schemas.reimbursement import ReimbursementRequestSchema

    order = pack_order(clients, lines_per_client=lines_per_client)
    header = PackOrderSchema().load_header(order)
    raw = request_input(header, order["agreements"], order["lines"], attachments=[])
    limit = max(clients * lines_per_client, 20_000)  # a pack of any size sets its own limits
    return ReimbursementRequestSchema(max_agreements=limit, max_lines=limit).load(raw)


def load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


# --- the request ----------------------------------------------------------------------------------------


def request_layouts(sizes: list[int], runs: int, timeout: int, warm_up: bool) -> None:
    import pypdfium2

    from service.documents import KINDS, Templates
    from service.documents.pdf import ConversionPool, ConversionTimeout

    kind = KINDS["reimbursement-request"]
    templates = Templates.of(ROOT / "templates_lv")
    print("| rows | tables | one table (before) | pages |")
    print("|---:|---:|---:|---:|")
    with ConversionPool(size=1, restart_after=10_000, timeout_s=timeout) as pool:
        pool.start(wait=True)
        for rows in sizes:
            values = request_of(rows)
            layouts = {
                "tables": templates.render(kind, values),
                "one table": templates.render(kind, {**values, "tables": [values["rows"]]}),
            }
            if warm_up:
                pool.convert(layouts["tables"], timeout_s=timeout)
            timings: dict[str, list[float]] = {name: [] for name in layouts}
            pages = 0
            for _ in range(runs):
                for name, docx in layouts.items():
                    started = time.perf_counter()
                    try:
                        pdf = pool.convert(docx, timeout_s=timeout)
                    except ConversionTimeout:
                        timings[name].append(float("inf"))
                        continue
                    timings[name].append(time.perf_counter() - started)
                    pages = len(pypdfium2.PdfDocument(pdf))
            tables, one = (_seconds(statistics.median(timings[name]), timeout) for name in layouts)
            row = f"| {len(values['rows'])} | {tables} | {one} | {pages} |"
            print(f"{row}  ({load()})", flush=True)


# --- the request in pieces ------------------------------------------------------------------------------


def request_pieces(sizes: list[int], runs: int, timeout: int, piece_rows: int, rss_limit_mb: int) -> None:
    import pypdfium2

    from service.documents import KINDS, Templates
    from service.documents.pdf import ConversionPool
    from service.packs.pieces import convert_in_pieces

    kind = KINDS["reimbursement-request"]
    templates = Templates.of(ROOT / "templates_lv")
    columns = f"whole: wall | soffice peak | pieces of {piece_rows}: wall | soffice peak | restarts"
    print(f"| rows | {columns} | pieces | pages |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench-pieces-") as folder:
        for rows in sizes:
            values = request_of(rows)
            docx = Path(folder) / "request.docx"
            docx.write_bytes(templates.render(kind, values))
            figures: dict[str, list[tuple[float, int, int]]] = {"whole": [], "pieces": []}
            count = pages = 0
            for _ in range(runs):
                for mode in figures:
                    target = Path(folder) / f"{mode}.pdf"
                    # as a pack's converter: restarted once its soffice holds more than 250 MiB
                    with ConversionPool(size=1, timeout_s=timeout, rss_limit_mb=rss_limit_mb) as pool:
                        pool.start(wait=True)
                        started = time.perf_counter()
                        if mode == "whole":
                            target.write_bytes(pool.convert(docx.read_bytes(), timeout_s=timeout))
                        else:
                            count = convert_in_pieces(pool, docx, target, lambda rows: timeout, piece_rows)
                        took = time.perf_counter() - started
                        state = pool.state()
                        figures[mode].append((took, state["peak_kib"], state["restarts"]))
                    pages = len(pypdfium2.PdfDocument(target))
            cells = []
            for mode in figures:
                wall = statistics.median(took for took, _, _ in figures[mode])
                peak = statistics.median(kib for _, kib, _ in figures[mode]) / 1024
                cells += [f"{wall:.1f} s", f"{peak:.0f} MiB"]
            cells.append(str(max(restarts for _, _, restarts in figures["pieces"])))
            print(
                f"| {len(values['rows'])} | {' | '.join(cells)} | {count} | {pages} |  ({load()})", flush=True
            )


def _seconds(value: float, timeout: int) -> str:
    return f"> {timeout} s (timed out)" if value == float("inf") else f"{value:.2f} s"


# --- the summary workbook -------------------------------------------------------------------------------


def summary_child(lines: int, streamed: bool) -> None:
    """In a fresh process: build the summary of ``lines`` lines and print its figures as JSON."""
    from service.packs import summary

    values = request_of(min(2000, max(1, lines // 5)), lines_per_client=5)
    loaded = values["lines"]
    copies = -(-lines // len(loaded))
    repeated = itertools.islice(itertools.chain.from_iterable(itertools.repeat(loaded, copies)), lines)
    values["lines"] = repeated if streamed else list(repeated)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "summary.xlsx"
        Path("/proc/self/clear_refs").write_text("5")  # the peak RSS starts again from here
        before = _status("VmRSS")
        started = time.perf_counter()
        if hasattr(summary, "write_summary"):
            summary.write_summary(values, target)
        else:  # the code before issue 14 returned the bytes
            target.write_bytes(summary.summary_xlsx(values))
        took = time.perf_counter() - started
        added = _status("VmHWM") - before
        print(json.dumps({"added_kib": added, "seconds": took, "bytes": target.stat().st_size}))


def _status(key: str) -> int:
    """A figure of /proc/self/status in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


def summary_memory(lines: int, code: Path) -> None:
    print(f"summary.xlsx of {lines:,} lines, code of {code}:")
    for streamed in (False, True):
        figures = _in_child(code, "--summary-child", str(lines), *(["--streamed"] if streamed else []))
        if isinstance(figures, str):
            print(f"  lines as a {'generator' if streamed else 'list'}: failed ({figures})")
            continue
        print(
            f"  lines as a {'generator' if streamed else 'list':9}  peak RSS added"
            f" {figures['added_kib'] / 1024:7.1f} MiB   {figures['seconds']:6.2f} s   {figures['bytes']:,} B"
            f"   ({load()})"
        )


# --- the request's render ------------------------------------------------------------------------------


def _in_child(code: Path, *arguments: str) -> dict[str, Any] | str:
    """This script run again with ``arguments`` in a fresh process, ``code`` first on PYTHONPATH (as a
    script, so that checkout comes before this one for every import): its JSON figures, or why it failed."""
    command = [sys.executable, str(Path(__file__).resolve()), *arguments]
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        return done.stderr.strip().splitlines()[-1]
    return json.loads(done.stdout.splitlines()[-1])


def render_child(clients: int, lines_per_client: int) -> None:
    """In a fresh process: load and render the request of ``clients`` clients as a pack's worker does, and
    print its figures as JSON."""
    from bench.pack_data import pack_order
    from schemas.pack import PackOrderSchema, request_input
    from schemas.reimbursement import ReimbursementRequestSchema
    from service.documents import KINDS, Templates

    kind = KINDS["reimbursement-request"]
    templates = Templates.of(ROOT / "templates_lv")
    templates.get(kind)
    order = pack_order(clients, lines_per_client=lines_per_client)
    header = PackOrderSchema().load_header(order)
    raw = json.loads(json.dumps(request_input(header, order["agreements"], order["lines"], attachments=[])))
    del order, header
    unlimited = {"max_agreements": 10**6, "max_lines": 10**6}
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    values = ReimbursementRequestSchema(**unlimited).load(raw)
    loaded = _status("VmHWM") - before
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "request.docx"
        Path("/proc/self/clear_refs").write_text("5")
        before = _status("VmRSS")
        started = time.perf_counter()
        if hasattr(templates, "render_to"):
            templates.render_to(kind, values, None, target)
        else:  # the code before issue 14 rendered to bytes
            target.write_bytes(templates.render(kind, values))
        took = time.perf_counter() - started
        rendered = _status("VmHWM") - before
        figures = {"lines": len(raw["lines"]), "rows": len(values["rows"]), "bytes": target.stat().st_size}
    print(
        json.dumps(
            {
                **figures,
                "load_kib": loaded,
                "render_kib": rendered,
                "seconds": took,
                "peak_kib": _status("VmHWM"),
            }
        )
    )


def render_memory(sizes: list[int], lines_per_client: int, code: Path) -> None:
    print(f"the request rendered as a pack's worker does, each size in a fresh process, code of {code}:")
    print("| clients | lines | rows | load adds | render adds | process peak | render | DOCX |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for clients in sizes:
        f = _in_child(code, "--render-child", str(clients), "--render-lines", str(lines_per_client))
        if isinstance(f, str):
            print(f"| {clients} | failed ({f}) |")
            continue
        print(
            f"| {clients:,} | {f['lines']:,} | {f['rows']:,} | {f['load_kib'] / 1024:.0f} MiB"
            f" | {f['render_kib'] / 1024:.0f} MiB | {f['peak_kib'] / 1024:.0f} MiB | {f['seconds']:.2f} s"
            f" | {f['bytes']:,} B |  ({load()})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[500, 1000, 2000, 4000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=900, help="seconds one conversion may take")
    parser.add_argument("--no-warm-up", action="store_true", help="no warm-up conversion at each size")
    parser.add_argument("--no-request", action="store_true")
    parser.add_argument("--pieces", type=int, nargs="*", default=[], help="request rows to convert in pieces")
    parser.add_argument("--piece-rows", type=int, default=1500, help="table rows a piece holds at most")
    parser.add_argument("--rss-limit", type=int, default=250, help="MiB: a converter over it is restarted")
    parser.add_argument("--summary-lines", type=int, default=60_000)
    parser.add_argument("--summary-code", type=Path, default=ROOT)
    parser.add_argument("--summary-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--streamed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--render-clients", type=int, nargs="*", default=[1000, 5000, 10000])
    parser.add_argument("--render-lines", type=int, default=6, help="delivery lines per client")
    parser.add_argument("--render-code", type=Path, default=ROOT)
    parser.add_argument("--render-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.summary_child:
        summary_child(args.summary_child, args.streamed)
        return
    if args.render_child:
        render_child(args.render_child, args.render_lines)
        return
    if not args.no_request:
        print(f"the reimbursement request as PDF, one warm LibreOffice, median of {args.runs}:")
        request_layouts(args.rows, args.runs, args.timeout, not args.no_warm_up)
    if args.pieces:
        print(f"the request as PDF, whole and in pieces, a fresh LibreOffice each, median of {args.runs}:")
        request_pieces(args.pieces, args.runs, args.timeout, args.piece_rows, args.rss_limit)
    if args.summary_lines:
        summary_memory(args.summary_lines, args.summary_code.resolve())
    if args.render_clients:
        render_memory(args.render_clients, args.render_lines, args.render_code.resolve())


if __name__ == "__main__":
    main()
