"""Benchmark: the support plan sample as PDF, cold (one soffice per file) and warm (the pool).

- **cold** — ``convert_cold``: one ``soffice --convert-to pdf`` per document, each with a fresh profile;
- **warm, pool of 1** — ``ConversionPool(size=1)``, one caller converting one document after another;
- **warm, pool of 2** — ``ConversionPool(size=2)``, two threads converting at once; the per-document
  figure is the wall time per document (total / documents), next to the median latency of one call.

Prints the median and 95th percentile in milliseconds. Run: ``.venv/bin/python -m bench.convert_pdf``
(``--cold-runs``, ``--warm-runs``).

``--split`` instead shows where one pack document's time goes — a client's detail from the Bauska request,
as a pack has a thousand of them — converted ``--documents`` times by one converter, each setting in
turn (the lead setting first, then each change on its own):

- **LibreOffice's own** — the worker's figures for loading (import and layout) and exporting the PDF,
  and the CPU seconds of the converter's processes (``/proc``) per document;
- **restarts amortised** — the measured start of a converter (wall and CPU, its first document's extra
  cost included) divided by the documents between restarts: ``restart_after``, or fewer when the
  converter's memory (``rss_limit_mb``) is reached first — the memory after each document is printed
  as it grows;
- **this side** — the caller's CPU per document: slimming the DOCX (``service.documents.slim``) and
  rewriting the PDF without dates (``service.packs.fixed_pdf``), beside the rendering of the DOCX.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

from service.documents import KINDS, Templates
from service.documents.pdf import ConversionPool, convert_cold
from service.documents.slim import slim_docx
from service.packs.fixed_pdf import fixed_pdf

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "support-plan-adult-support-person.json"
REQUEST = ROOT / "samples" / "reimbursement-request-bauska-2020-09.json"
TICKS = os.sysconf("SC_CLK_TCK")
#: name → the pool's settings for --split: today's, then each change on its own
SETTINGS = {
    "now (jemalloc, slim DOCX, restart after 500 or 250 MiB)": {"restart_after": 500, "rss_limit_mb": 250},
    "on glibc's allocator": {"restart_after": 500, "rss_limit_mb": 250, "allocator": "system"},
    "without slimming the DOCX": {"restart_after": 500, "rss_limit_mb": 250, "slim": False},
    "restart after 50 (before issue 14)": {"restart_after": 50, "slim": False},
}


def support_plan_docx() -> bytes:
    kind = KINDS["support-plan"]
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return Templates.of(ROOT / "templates_lv").render(kind, kind.schema().load(data))


def percentiles(timings: list[float]) -> str:
    timings = sorted(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    return f"median {statistics.median(timings):8.1f} ms   p95 {p95:8.1f} ms   (n={len(timings)})"


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def cold(docx: bytes, runs: int) -> None:
    timings = [timed(lambda: convert_cold(docx)) for _ in range(runs)]
    print(f"cold (soffice --convert-to, fresh profile) {percentiles(timings)}")


def warm_single(docx: bytes, runs: int) -> None:
    with ConversionPool(size=1, restart_after=10_000) as pool:
        started = time.perf_counter()
        pool.start(wait=True)
        print(f"pool start (1 office)                      {(time.perf_counter() - started) * 1000:8.1f} ms")
        pool.convert(docx)  # warm-up: the first document also loads the Writer and PDF filters
        timings = [timed(lambda: pool.convert(docx)) for _ in range(runs)]
    print(f"warm, pool of 1, 1 caller                  {percentiles(timings)}")


def warm_pair(docx: bytes, runs: int) -> None:
    with ConversionPool(size=2, restart_after=10_000) as pool:
        pool.start(wait=True)
        for _ in range(2):
            pool.convert(docx)
        timings: list[float] = []
        lock = threading.Lock()

        def caller(count: int) -> None:
            for _ in range(count):
                took = timed(lambda: pool.convert(docx))
                with lock:
                    timings.append(took)

        threads = [
            threading.Thread(target=caller, args=(runs // 2 + index * (runs % 2),)) for index in range(2)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = (time.perf_counter() - started) * 1000
    print(f"warm, pool of 2, 2 callers, one call       {percentiles(timings)}")
    print(f"warm, pool of 2, 2 callers, per document   {wall / len(timings):8.1f} ms wall time")


def client_details(count: int) -> list[bytes]:
    """``count`` clients' details, each from one agreement of the Bauska request, as a pack makes them."""
    raw = json.loads(REQUEST.read_text(encoding="utf-8"))
    kind, templates = KINDS["client-detail"], Templates.of(ROOT / "templates_lv")
    documents = []
    for index in range(count):
        agreement = raw["agreements"][index % len(raw["agreements"])]
        lines = [line for line in raw["lines"] if line["agreement"] == agreement["number"]]
        documents.append(
            templates.render(kind, kind.schema().load({**raw, "agreements": [agreement], "lines": lines}))
        )
    return documents


def office_cpu_s() -> float:
    """CPU seconds of this process's children, the converters: those gone (reaped, with what they
    waited for) and those running (with everything under them), from getrusage and /proc."""
    from service.documents.uno_worker import descendants

    gone = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = 0
    for pid in descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime and of its reaped children
    return gone.ru_utime + gone.ru_stime + total / TICKS


def start_cost(settings: dict) -> tuple[float, float]:
    """Wall and CPU seconds of starting one converter and its first document's extra over the next."""
    document = client_details(1)[0]
    before = office_cpu_s()
    with ConversionPool(size=1, **settings) as pool:
        started = time.perf_counter()
        pool.start(wait=True)
        pool.convert(document)
        first, cpu_first = time.perf_counter() - started, office_cpu_s() - before
        started = time.perf_counter()
        pool.convert(document)
        second, cpu_second = time.perf_counter() - started, office_cpu_s() - before - cpu_first
    return first - second, cpu_first - cpu_second


def split(count: int) -> None:
    documents = client_details(count)
    started = time.process_time()
    client_details(count)
    render_ms = (time.process_time() - started) * 1000 / count
    started = time.process_time()
    for docx in documents:
        slim_docx(docx)
    slim_ms = (time.process_time() - started) * 1000 / count
    print(
        f"{count} clients' details ({len(documents[0]):,} B DOCX each); CPU for one: rendering "
        f"{render_ms:.1f} ms, slimming for LibreOffice {slim_ms:.1f} ms"
    )
    for name, settings in SETTINGS.items():
        start_wall, start_cpu = start_cost(settings)
        figures: list[dict[str, float]] = []
        fixing = 0.0
        with ConversionPool(size=1, **settings) as pool:
            pool.start(wait=True)
            pool.convert(documents[0])  # the first document loads the filters: counted in the start
            cpu_before, ours_before = office_cpu_s(), time.process_time()
            for docx in documents:
                pdf, measured = pool.convert_measured(docx)
                figures.append(measured)
                fix_started = time.process_time()
                fixed_pdf(pdf)
                fixing += time.process_time() - fix_started
            ours_ms = (time.process_time() - ours_before) * 1000 / count
            office_ms = (office_cpu_s() - cpu_before) * 1000 / count
            state = pool.state()
        restarts = state["restarts"]
        office_ms -= restarts * start_cpu * 1000 / count  # the restarts are counted below, amortised
        # documents between restarts: as happened, or (none here) as the settings and the growth imply
        interval = (
            count / restarts if restarts else min(settings["restart_after"], _until_limit(figures, settings))
        )
        restart_ms = start_cpu * 1000 / interval
        load, export = (statistics.median(f[key] for f in figures) for key in ("load_ms", "export_ms"))
        rss = [f["rss_kib"] / 1024 for f in figures]
        print(f"\n{name}:")
        print(
            f"  LibreOffice a document: load {load:.1f} + export {export:.1f} ms wall, {office_ms:.1f} ms CPU"
        )
        print(
            f"  restarts: {restarts} in {count} ({state['memory_restarts']} on memory); one costs "
            f"{start_wall * 1000:.0f} ms wall, {start_cpu * 1000:.0f} ms CPU; one every {interval:.0f} "
            f"documents: {restart_ms:.1f} ms CPU a document"
        )
        print(
            f"  soffice's memory after documents 1, {count // 2}, {count}: "
            + " / ".join(f"{rss[i]:.0f}" for i in (0, count // 2 - 1, -1))
            + " MiB"
        )
        print(
            f"  this side a document: {ours_ms:.1f} ms CPU (fixed_pdf {fixing * 1000 / count:.1f} ms, "
            "the slimming, the protocol)"
        )
        total = office_ms + restart_ms + ours_ms + render_ms
        print(f"  CPU a pack document, rendering included: {total:.0f} ms")


def _until_limit(figures: list[dict[str, float]], settings: dict) -> float:
    """Documents until soffice would reach its memory limit at the growth measured (no limit: infinite)."""
    limit = settings.get("rss_limit_mb", 0) * 1024
    growth = (figures[-1]["rss_kib"] - figures[0]["rss_kib"]) / max(1, len(figures) - 1)
    if not limit or growth <= 0:
        return float("inf")
    return max(1.0, (limit - figures[0]["rss_kib"]) / growth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=10)
    parser.add_argument("--warm-runs", type=int, default=30)
    parser.add_argument("--split", action="store_true", help="where a pack document's time goes, by setting")
    parser.add_argument("--documents", type=int, default=100, help="with --split: documents per setting")
    args = parser.parse_args()
    if args.split:
        split(args.documents)
        return
    docx = support_plan_docx()
    print(f"support plan sample: {len(docx):,} B DOCX → PDF")
    cold(docx, args.cold_runs)
    warm_single(docx, args.warm_runs)
    warm_pair(docx, args.warm_runs)


if __name__ == "__main__":
    main()
