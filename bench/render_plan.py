"""Benchmark: a support plan with 20 service rows — validate, render, and both through the HTTP API.

Prints the median and 95th percentile per document over N runs (default 300) and the process's peak
RSS; then, for comparison, the same template rendered the plain docxtpl way (parse, compile, save
each time).
Run with `make bench`; record the figures in bench/README.md.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from docxtpl import DocxTemplate

from schemas.plan import SupportPlanSchema
from service import create_app
from service.documents import KINDS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "support-plan-adult-support-person.json"
CODES = ("APLP", "SDARB", "SK-PSIH", "ATBG", "SK-ERGO", "SK-SOCD", "MUZT", "SK-FIZ", "DAC", "SK-LOG")


def plan_with_rows(rows: int) -> dict:
    """The sample plan with ``rows`` service lines and a budget large enough for them."""
    plan = json.loads(SAMPLE.read_text(encoding="utf-8"))
    template = plan["services"][0]
    plan["services"] = []
    for index in range(rows):
        code = CODES[index % len(CODES)]
        line = copy.deepcopy(template)
        line.update(code=code, quantity="2", goal="M1.1", provider=f"Pakalpojumu sniedzējs Nr. {index + 1}")
        line["unit"] = {"SDARB": "diena", "ATBG": "reize", "DAC": "diena"}.get(code, "stunda")
        plan["services"].append(line)
    plan["budget"]["monthly"] = "100000.00"
    return plan


def measure(name: str, runs: int, action: Callable[[], object]) -> None:
    action()  # warm-up: first-use compilation is not what we measure
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"{name:<42} median {statistics.median(timings):7.2f} ms   p95 {p95:7.2f} ms   ({runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()

    raw = plan_with_rows(args.rows)
    body = json.dumps(raw, ensure_ascii=False)
    app = create_app()
    kind = KINDS["support-plan"]
    templates = app.extensions["veidlapas.templates"]
    values = SupportPlanSchema().load(raw)
    client = app.test_client()
    environment = templates.environment

    def naive_docxtpl() -> bytes:
        document = DocxTemplate(templates.folder / kind.template)
        document.render({"plan": values}, jinja_env=environment, autoescape=True)
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()

    def through_api() -> bytes:
        response = client.post("/api/v1/documents/support-plan", data=body, content_type="application/json")
        assert response.status_code == 200
        return response.data

    size = len(templates.render(kind, values))
    print(f"Support plan with {len(raw['services'])} service rows; {size:,} B DOCX")
    measure("validate (schema load + rules)", args.runs, lambda: SupportPlanSchema().load(raw))
    measure("render (compiled template)", args.runs, lambda: templates.render(kind, values))
    measure("POST /api/v1/documents/support-plan", args.runs, through_api)
    print(f"peak RSS so far (service code only): {peak_rss_mib():.0f} MiB")
    measure("render, plain docxtpl (for comparison)", max(args.runs // 3, 50), naive_docxtpl)
    print(f"peak RSS after the docxtpl comparison: {peak_rss_mib():.0f} MiB")


def peak_rss_mib() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
