"""Benchmark: reading and validating an uploaded filled delivery act, PDF and DOCX.

``POST /api/v1/forms`` end to end (Flask's test client, a Bauska administrator's token, SQLite): a new
file each run (201: read, checked, kept, audited) and a file sent before (200); then its parts in this
process: the checks before any parser (size, real type, inspection), the parse alone (the reader called
here, no child), and the read in its limited process with the checks (``submissions.read_upload``) and
with the schema (``validate``). The sample is samples/delivery-act-filled.pdf (filled by pdftk, 413
fields) and the same act as a DOCX form. Medians and p95 of ``--runs`` runs after ``--warmup`` runs,
with the load average beside them (the machine is often shared)::

    python -m bench.read_forms --runs 50
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import resource
import statistics
import time
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench.cases import bench_app
from bench.client import signed_in
from service import submissions
from service.forms import fields as form_fields
from service.forms import uploads
from service.forms.docx_form import make_docx_form, read_docx_form
from service.forms.pdf_form import read_pdf_form
from service.forms.uploads import DEFAULT_LIMITS

ROOT = Path(__file__).resolve().parent.parent


def timed(function: Callable[[int], object], runs: int, warmup: int) -> tuple[float, float]:
    """Median and p95 in milliseconds of ``function(run)`` over ``runs`` runs after ``warmup``."""
    for run in range(warmup):
        function(-1 - run)
    timings = []
    for run in range(runs):
        started = time.perf_counter()
        function(run)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(0, round(len(timings) * 0.95) - 1)]


def row(name: str, figures: tuple[float, float], runs: int) -> None:
    median, p95 = figures
    print(f"| {name:<52} | {median:7.1f} ms | {p95:7.1f} ms | {runs} |")


def variant(data: bytes, kind: str, number: int) -> bytes:
    """The same form as another file (another SHA-256): a PDF comment after ``%%EOF``, a ZIP comment."""
    if kind == "pdf":
        return data + b"\n%" + str(number).encode() + b"\n"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.comment = str(number).encode()
    return out.getvalue()


def upload(client, data: bytes, expected: int) -> None:
    response = client.post(
        "/api/v1/forms", data={"file": (io.BytesIO(data), "akts")}, content_type="multipart/form-data"
    )
    assert response.status_code == expected, response.get_data(as_text=True)[:500]


def measure(client, label: str, kind: str, data: bytes, runs: int, warmup: int) -> None:
    """The rows of one file type."""
    reader = read_pdf_form if kind == "pdf" else read_docx_form
    fresh = {number: variant(data, kind, number) for number in range(-warmup, runs)}
    upload(client, data, 201)
    row(
        f"POST /api/v1/forms, {label}, a new file (201)",
        timed(lambda run: upload(client, fresh[run], 201), runs, warmup),
        runs,
    )
    row(
        f"POST /api/v1/forms, {label}, sent before (200)",
        timed(lambda run: upload(client, data, 200), runs, warmup),
        runs,
    )
    row(f"checks before parsing, {label}", timed(lambda run: uploads.check(data), runs, warmup), runs)
    row(f"parse alone, {label} (in this process)", timed(lambda run: reader(data), runs, warmup), runs)
    row(
        f"checks + limited parse, {label} (read_upload)",
        timed(lambda run: submissions.read_upload(data, DEFAULT_LIMITS), runs, warmup),
        runs,
    )
    row(
        f"read_upload + validate, {label}",
        timed(lambda run: submissions.validate(submissions.read_upload(data, DEFAULT_LIMITS)), runs, warmup),
        runs,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    pdf = (ROOT / "samples" / "delivery-act-filled.pdf").read_bytes()
    parsed = read_pdf_form(pdf)
    docx = make_docx_form(form_fields.from_fields(parsed["fields"], parsed["agreement"]).act)
    print(f"the filled act: PDF {len(pdf):,} B, DOCX {len(docx):,} B")
    print(f"load average before: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print("| what | median | p95 | runs |\n|---|---:|---:|---:|")
    logging.getLogger("service.requests").setLevel(logging.WARNING)  # a line per request: not here
    with ExitStack() as stack:
        client = signed_in(bench_app(stack))
        measure(client, "PDF", "pdf", pdf, args.runs, args.warmup)
        measure(client, "DOCX", "docx", docx, args.runs, args.warmup)
    print(f"load average after: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print(f"peak RSS (parent): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
