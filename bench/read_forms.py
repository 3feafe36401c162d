"""Benchmark: reading and validating an uploaded filled delivery act (the whole path of POST /forms
without HTTP): size and type checks, parsing in a limited child process, the schema.

Uses samples/delivery-act-filled.pdf (filled by pdftk) and the same act as a DOCX form. Prints the
median and p95 over N runs (default 50) and the peak RSS of this process (the child's is separate).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from service import submissions
from service.forms import fields as form_fields
from service.forms.docx_form import make_docx_form
from service.forms.pdf_form import read_pdf_form
from service.forms.uploads import DEFAULT_LIMITS

ROOT = Path(__file__).resolve().parent.parent


def measure(name: str, runs: int, data: bytes) -> None:
    # warm-up: the fork server starts once
    submissions.validate(submissions.read_upload(data, DEFAULT_LIMITS))
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        submissions.validate(submissions.read_upload(data, DEFAULT_LIMITS))
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"{name:<36} median {statistics.median(timings):7.1f} ms   p95 {p95:7.1f} ms   ({runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    pdf = (ROOT / "samples" / "delivery-act-filled.pdf").read_bytes()
    parsed = read_pdf_form(pdf)
    docx = make_docx_form(form_fields.from_fields(parsed["fields"], parsed["agreement"]).act)
    measure(f"filled PDF form ({len(pdf):,} B)", args.runs, pdf)
    measure(f"filled DOCX form ({len(docx):,} B)", args.runs, docx)
    print(f"peak RSS (parent): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
