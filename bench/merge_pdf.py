"""Benchmark: merging a pack's PDFs into ``pack.pdf`` — wall time and peak RSS, each run in a fresh process.

Inputs are real pack documents as LibreOffice and ``fixed_pdf`` make them (``bench/merge_inputs/``: a cover
letter and a client's detail of the Bauska sample, with their fonts, structure trees and all). A part of
``--pages`` pages is one of them with pages of the others appended (by pikepdf, before any timing); every
part is then made unique (a marker key in each of its objects), so nothing can be shared between parts —
the worst case for the streaming writer's reuse of identical fonts. Three ways, run alternately, ``--runs``
times each:

- **streaming** — ``service.packs.merge.merge_pdfs`` (one source open at a time, written as it goes);
- **pypdf (before)** — the merge as it was before issue 14: one ``PdfWriter`` holding every page;
- **pikepdf** — ``Pdf.new()``, ``pages.extend`` per source (all kept open), ``save`` (comparison).

Each run imports pikepdf, pypdf and the merge, then times the merge alone (wall and CPU time); peak RSS
is the process's ``ru_maxrss`` at the end (the figure after the imports is printed beside it). Medians;
the load average is printed too: on a busy machine the CPU time is the steadier figure.
Run: ``.venv/bin/python -m bench.merge_pdf --parts 200 --pages 1`` (``--runs``, ``--ways``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = Path(__file__).resolve().parent / "merge_inputs"
ONE_PAGE = ("cover-letter.pdf", "client-detail.pdf")
WAYS = ("streaming", "pypdf", "pikepdf")


def make_parts(directory: Path, parts: int, pages: int) -> list[tuple[list[str], str]]:
    """``parts`` unique PDFs of ``pages`` pages each in ``directory``; their title paths and files."""
    import pikepdf

    sources = [pikepdf.open(INPUTS / name) for name in ONE_PAGE]
    made = []
    for index in range(parts):
        pdf = pikepdf.open(INPUTS / ONE_PAGE[index % len(sources)])  # with its structure tree and all
        for page in range(1, pages):
            pdf.pages.append(sources[(index + page) % len(sources)].pages[0])
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream) and "/Type" not in obj:
                obj[pikepdf.Name("/VeidlapasBench")] = index  # no object equals another part's
        path = directory / f"{index:05d}.pdf"
        pdf.save(path, deterministic_id=True)
        titles = [f"Klients {index // 2 + 1}", "Izklāsts" if index % 2 else "Akts 2020-09"]
        made.append((titles, str(path)))
    return made


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(way: str, listing: Path, target: Path) -> None:
    """One merge in this (fresh) process; prints a JSON line with its figures."""
    import pikepdf  # noqa: F401 - imported before the clock starts, as the service has it
    import pypdf  # noqa: F401

    parts = [(titles, Path(path)) for titles, path in json.loads(listing.read_text(encoding="utf-8"))]
    if way == "streaming":
        from service.packs.merge import merge_pdfs

        merge = merge_pdfs
    elif way == "pypdf":
        merge = pypdf_merge
    else:
        merge = pikepdf_merge
    imported = peak_mib()
    started, cpu = time.perf_counter(), time.process_time()
    merge(parts, target)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    figures = {"ms": took * 1000, "cpu": cpu * 1000, "peak": peak_mib(), "imported": imported}
    figures["size"] = target.stat().st_size
    print(json.dumps(figures))


def pypdf_merge(parts: list[tuple[list[str], Path]], target: Path) -> None:
    """The merge before issue 14, for comparison: pypdf's writer with a bookmark per part."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    stack: list = []
    for titles, source in parts:
        reader = PdfReader(source)
        first = len(writer.pages)
        writer.append(reader, import_outline=False)
        shared = 0
        while shared < len(titles) - 1 and shared < len(stack) and stack[shared][0] == titles[shared]:
            shared += 1
        del stack[shared:]
        for title in titles[shared:]:
            parent = stack[-1][1] if stack else None
            stack.append((title, writer.add_outline_item(title, first, parent=parent, is_open=False)))
    writer.metadata = {"/Producer": "Veidlapas"}
    writer.page_mode = "/UseOutlines"
    with open(target, "wb") as out:
        writer.write(out)


def pikepdf_merge(parts: list[tuple[list[str], Path]], target: Path) -> None:
    """pikepdf (qpdf) alone, every source open until the save; no bookmarks (comparison)."""
    import pikepdf

    out = pikepdf.new()
    sources = [pikepdf.open(source) for _, source in parts]
    for source in sources:
        out.pages.extend(source.pages)
    out.save(target, deterministic_id=True)
    for source in sources:
        source.close()


def run_child(way: str, listing: Path, target: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.merge_pdf", "--child", way, str(listing), str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{way} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=200)
    parser.add_argument("--pages", type=int, default=1, help="pages in each part")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ways", default=",".join(WAYS), help=f"comma-separated, of {', '.join(WAYS)}")
    parser.add_argument("--child", nargs=3, metavar=("WAY", "LISTING", "TARGET"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        way, listing, target = options.child
        child(way, Path(listing), Path(target))
        return
    ways = [way for way in options.ways.split(",") if way]
    if not ways or set(ways) - set(WAYS):
        parser.error(f"--ways takes {', '.join(WAYS)}")
    with tempfile.TemporaryDirectory(prefix="veidlapas-bench-merge-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        listing = directory / "parts.json"
        listing.write_text(json.dumps(make_parts(directory, options.parts, options.pages)), encoding="utf-8")
        made = time.perf_counter() - started
        print(f"{options.parts} parts of {options.pages} page(s) made in {made:.1f} s")
        results: dict[str, list[dict]] = {way: [] for way in ways}
        for _ in range(options.runs):
            for way in ways:
                results[way].append(run_child(way, listing, directory / f"{way}.pdf"))
                (directory / f"{way}.pdf").unlink()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "| way | parts × pages | wall (median) | wall (min–max) | CPU | peak RSS | after imports | output |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for way, runs in results.items():
        ms = [run["ms"] for run in runs]
        print(
            f"| {way} | {options.parts} × {options.pages} | {statistics.median(ms):.0f} ms "
            f"| {min(ms):.0f}–{max(ms):.0f} ms | {statistics.median(r['cpu'] for r in runs):.0f} ms "
            f"| {statistics.median(r['peak'] for r in runs):.0f} MiB "
            f"| {statistics.median(r['imported'] for r in runs):.0f} MiB "
            f"| {statistics.median(r['size'] for r in runs) / 2**20:.1f} MiB |"
        )


if __name__ == "__main__":
    main()
