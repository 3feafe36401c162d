"""Benchmark: reading an uploaded pack order's lines table, and listing its repeated problems.

Reads N delivery lines (the Bauska sample's, repeated) with ``service.packs.tables.read_table_files`` as
four files: a CSV with ISO dates and decimal points, the same as Latvian Excel's CSV export (";", dates
15.09.2020, decimal commas, UTF-8 with BOM), the input template's XLSX (date and number cells), and an
XLSX whose every cell is text typed the Latvian way. Then groups N copies of one problem (a wrong period
on every line) and writes them as the API's ``errors`` items. Prints the median over R runs and this
process's peak RSS.

    python -m bench.read_tables --lines 60000 --runs 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

from schemas.errors import problem
from schemas.problem_groups import group_problems
from service.api.problems import error_item
from service.forms.uploads import UploadLimits
from service.packs.tables import LINES, input_template, read_table_files, table_rows

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "reimbursement-request-bauska-2020-09.json"
LIMITS = UploadLimits(max_bytes=200_000_000)


def latvian(kind: str, value: str | None) -> str:
    if value is None:
        return ""
    if kind == "date":
        return dt.date.fromisoformat(value).strftime("%d.%m.%Y")
    return value.replace(".", ",") if kind == "number" else value


def csv_file(lines: list[dict], typed: Callable[[str, str | None], str], separator: str) -> bytes:
    rows = [separator.join(column.header for column in LINES.columns)]
    for row in table_rows(LINES, lines):
        rows.append(separator.join(typed(c.kind, v) for c, v in zip(LINES.columns, row, strict=True)))
    return ("\r\n".join(rows) + "\r\n").encode("utf-8-sig")


def text_xlsx(lines: list[dict]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(LINES.sheet)
    sheet.append([column.header for column in LINES.columns])
    for row in table_rows(LINES, lines):
        sheet.append([latvian(c.kind, v) for c, v in zip(LINES.columns, row, strict=True)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def median_ms(runs: int, work: Callable[[], object]) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=60_000, help="delivery lines in each file")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))["lines"]
    lines = [sample[index % len(sample)] for index in range(args.lines)]
    files = {
        "CSV, ISO dates, decimal points (,)": csv_file(lines, lambda _, v: v or "", ","),
        "CSV as Latvian Excel (;, 15.09.2020, 2,5)": csv_file(lines, latvian, ";"),
        "XLSX template, date and number cells": input_template(None, lines),
        "XLSX, every cell Latvian text": text_xlsx(lines),
    }
    print(f"{args.lines} lines, median of {args.runs} runs")
    for name, data in files.items():
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            table = read_table_files({"lines": data}, LIMITS, max_lines=args.lines)
            timings.append((time.perf_counter() - started) * 1000)
            assert table.lines == lines and not table.unread, name
        print(f"| read {name:<42} | {len(data) / 1e6:6.1f} MB | {statistics.median(timings):9.0f} ms |")
    wrong = problem("reimbursement.outside_period", start=dt.date(2020, 10, 1), end=dt.date(2020, 10, 31))
    problems = [(("lines", index, "date"), wrong) for index in range(args.lines)]
    places = [{"sheet": "Rindas", "row": index + 2, "column": "Datums"} for index in range(args.lines)]

    def listed() -> list[dict]:
        return [error_item(group, "lv") for group in group_problems(problems, places)]

    [item] = listed()
    assert item["count"] == args.lines
    took = median_ms(args.runs, listed)
    print(f"| group and list {args.lines} equal problems{'':<20} | {'':>9} | {took:9.0f} ms |")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
