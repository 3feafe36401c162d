"""Benchmark: every document kind — validate, render, and both through the HTTP API.

The support plan has 20 service rows; the other kinds use their samples (the reimbursement request:
a month of 96 delivery lines for 7 clients). Prints the median and 95th percentile per document over
N runs (default 300) and the process's peak RSS; then, for comparison, the support plan rendered the
plain docxtpl way (parse, compile, save each time). The service has a temporary database and blob folder
and the requests carry an administrator's token. Run with `make bench`; record the figures in
bench/README.md (``--runs 2 --rows 2`` is the suite's smoke run).
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import logging
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from docxtpl import DocxTemplate

from bench.client import signed_in
from service import create_app
from service.documents import KINDS
from service.documents import templates as compiled_templates
from service.documents.inputs import DocumentInputs, TemplateRef, inputs_on
from service.documents.municipal import settings_on
from service.store import database

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "support-plan-adult-support-person.json"
SAMPLES = {
    "service-agreement": "service-agreement-adult-aplp.json",
    "delivery-act": "delivery-act-adult-aplp.json",
    "reimbursement-request": "reimbursement-request-bauska-2020-09.json",
}
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
    parser.add_argument("--rows", type=int, default=20, help="service rows of the support plan")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="veidlapas-bench-documents-") as folder:
        run(args, Path(folder))


def run(args: argparse.Namespace, folder: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "BLOBS_DIR": folder / "blobs"})
    logging.getLogger("service.requests").setLevel(logging.WARNING)  # not a line per request
    templates = compiled_templates(app)
    client = signed_in(app)
    bodies = {"support-plan": plan_with_rows(args.rows)}
    for kind, sample in SAMPLES.items():
        bodies[kind] = json.loads((ROOT / "samples" / sample).read_text(encoding="utf-8"))
    for name, raw in bodies.items():
        if name not in KINDS:
            continue
        kind = KINDS[name]
        values = kind.schema().load(raw)
        body = json.dumps(raw, ensure_ascii=False)
        size = len(templates.render(kind, values))
        print(f"\n{kind.title} ({name}): {size:,} B DOCX")
        measure("validate (schema load + rules)", args.runs, lambda k=kind, r=raw: k.schema().load(r))
        measure("render (compiled template)", args.runs, lambda k=kind, v=values: templates.render(k, v))
        measure(f"POST /api/v1/documents/{name}", args.runs, lambda n=name, b=body: post(client, n, b))
    print(f"\npeak RSS so far (service code only): {peak_rss_mib():.0f} MiB")
    own_template(app, templates, args.runs, KINDS["service-agreement"], bodies["service-agreement"])

    plan = KINDS["support-plan"]
    plan_values = plan.schema().load(bodies["support-plan"])

    def naive_docxtpl() -> bytes:
        document = DocxTemplate(templates.folder / plan.template)
        # The standard settings, as a document without a settings version has them: no logo, no clauses.
        context = {"plan": plan_values, "municipality": {"logo": "", "clauses": {}}}
        document.render(context, jinja_env=templates.environment, autoescape=True)
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()

    measure("support plan, plain docxtpl (comparison)", max(args.runs // 3, 1), naive_docxtpl)
    print(f"peak RSS after the docxtpl comparison: {peak_rss_mib():.0f} MiB")


def own_template(app, templates, runs: int, kind, raw: dict) -> None:
    """A municipality's own template version: finding the inputs in force (two indexed queries), the
    first render of a version (compiled then) and later renders (compiled once per content hash)."""
    values = kind.schema().load(raw)
    content = (templates.folder / kind.template).read_bytes()
    with database(app).session() as session:
        settings = settings_on(session, "bauska", values["date"])
        measure(
            "find the inputs in force (settings, template)",
            runs,
            lambda: inputs_on(session, "bauska", kind, values["date"]),
        )
    print(f"\n{kind.title}, the municipality's own version of its template:")
    started = time.perf_counter()
    templates.render(kind, values, DocumentInputs(settings, TemplateRef("bench", 1, "first", content)))
    print(f"{'first render of a version (compiles it)':<42} {(time.perf_counter() - started) * 1000:7.2f} ms")
    cached = DocumentInputs(settings, TemplateRef("bench", 1, "cached", content))
    measure("render (version compiled, from the cache)", runs, lambda: templates.render(kind, values, cached))


def post(client, name: str, body: str) -> bytes:
    response = client.post(f"/api/v1/documents/{name}", data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.data


def peak_rss_mib() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
