"""Benchmark: the support plan sample as PDF, cold (one soffice per file) and warm (the pool).

- **cold** — ``convert_cold``: one ``soffice --convert-to pdf`` per document, each with a fresh profile;
- **warm, pool of 1** — ``ConversionPool(size=1)``, one caller converting one document after another;
- **warm, pool of 2** — ``ConversionPool(size=2)``, two threads converting at once; the per-document
  figure is the wall time per document (total / documents), next to the median latency of one call.

Prints the median and 95th percentile in milliseconds. Run: ``.venv/bin/python -m bench.convert_pdf``
(``--cold-runs``, ``--warm-runs``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

from service.documents import KINDS, Templates
from service.documents.pdf import ConversionPool, convert_cold

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "support-plan-adult-support-person.json"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=10)
    parser.add_argument("--warm-runs", type=int, default=30)
    args = parser.parse_args()
    docx = support_plan_docx()
    print(f"support plan sample: {len(docx):,} B DOCX → PDF")
    cold(docx, args.cold_runs)
    warm_single(docx, args.warm_runs)
    warm_pair(docx, args.warm_runs)


if __name__ == "__main__":
    main()
