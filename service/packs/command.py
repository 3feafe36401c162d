"""``veidlapas pack``: the same order, validation and job steps as the API, run here with a progress bar.

The job is recorded like any other (backend ``cli``), its documents are made by as many threads as there
are PDF converters, and the finished pack is copied to the output file atomically.
"""

from __future__ import annotations

import contextlib
import shutil
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from marshmallow import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from schemas.errors import Problem, flatten, problem
from schemas.fields import PeriodField
from service import jobs
from service.auth import Principal
from service.config import upload_limits
from service.files import atomic_file
from service.jobs import runner
from service.jobs.records import new_job
from service.jsondata import InvalidJson, parse_json
from service.packs import tables
from service.packs.order import take_order
from service.store import database
from service.store.models import Job

MAX_JSON_BYTES = 20_000_000


@dataclass
class PackCommandError(Exception):
    """The order cannot be taken: one problem, or every problem with its place."""

    source: Path | str
    problem: Problem | None = None
    problems: list = field(default_factory=list)
    places: list | None = None


def make_pack(app: Flask, files: tuple[Path, ...], output: Path, options: dict[str, Any]) -> Path:
    """Validate the order, make the pack and write it to ``output``."""
    body, table = _read_inputs(app, files)
    body.update(_header(options))
    operator = Principal(0, "cli", "administrator", body["municipality"])
    db = database(app)
    source = ", ".join(str(f) for f in files) or "--from-acts"
    with db.session() as session:
        try:
            order = take_order(body, session, table)
        except ValidationError as error:
            problems = flatten(error.messages)
            places = [table.place(path) for path, _ in problems] if table else None
            raise PackCommandError(source, problems=problems, places=places) from None
        job = new_job(session, operator, "cli", order, jobs.folder(app))
    settings = dict(jobs.settings(app))
    settings["pdf"] = {**settings["pdf"], "size": app.config["PDF_CONVERTERS"]}
    tools = runner.Tools.from_settings(settings)
    _run(tools, job.id, app.config["PDF_CONVERTERS"])
    with db.session() as session:
        finished = session.get(Job, job.id)
        if finished.state != "succeeded":
            raise PackCommandError(source, finished.error() or problem("job.cancelled"))
    _copy_atomically(tools.files(job.id).result, output)
    tools.files(job.id).remove()
    return output


def _run(tools: runner.Tools, job_id: str, threads: int) -> None:
    parts = runner.prepare(tools, job_id) or []
    data = tools.data(job_id)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task("Dokumenti", total=len(data.documents))
        with ThreadPoolExecutor(threads) as pool:
            futures = {pool.submit(runner.make_part, tools, job_id, part): part for part in parts}
            for future in as_completed(futures):
                future.result()
                progress.advance(task, len(data.parts[futures[future]]))
        progress.update(task, description="Kopsavilkums, pack.pdf, ZIP")
        with contextlib.suppress(runner.NotReady):  # a document failed: the job says why
            runner.assemble(tools, job_id)
        progress.update(task, description="Gatavs")


def _read_inputs(app: Flask, files: tuple[Path, ...]) -> tuple[dict[str, Any], tables.TableInput | None]:
    """A JSON order file, or table files (XLSX, CSV); both checked like uploads."""
    limits = upload_limits(app.config)
    json_files = [f for f in files if f.suffix.lower() == ".json"]
    if json_files:
        if len(files) > 1:
            raise PackCommandError(json_files[0], problem("pack.lines_twice"))
        if json_files[0].stat().st_size > MAX_JSON_BYTES:
            raise PackCommandError(json_files[0], problem("body.too_large", max=MAX_JSON_BYTES))
        try:
            body = parse_json(json_files[0].read_text(encoding="utf-8"), app.config["MAX_JSON_DEPTH"])
        except (InvalidJson, UnicodeDecodeError) as error:
            raise PackCommandError(
                json_files[0], getattr(error, "problem", problem("body.encoding"))
            ) from None
        if not isinstance(body, dict):
            raise PackCommandError(json_files[0], problem("type.object"))
        return body, None
    if not files:
        return {}, None
    try:
        files_read = {f.name: f.read_bytes()[: limits.max_bytes + 1] for f in files}
        table = tables.read_table_files(files_read, limits)
    except tables.TableRejected as rejected:
        problems, places = rejected.listed()
        raise PackCommandError(", ".join(str(f) for f in files), problems=problems, places=places) from None
    return {}, table


def _header(options: dict[str, Any]) -> dict[str, Any]:
    header: dict[str, Any] = {
        "project": options["project"],
        "municipality": options["municipality"],
        "period": _period(options["period"]),
        "pdf": options["pdf"],
    }
    if options.get("date"):
        header["date"] = options["date"]
    if options.get("number"):
        header["number"] = options["number"]
    if options.get("from_acts"):
        header["source"] = "submissions"
    return header


def _period(text: str) -> Any:
    """``2020-09`` as it is; ``2020-07/2020-09`` as the span from the first month's first day to the last's
    last day.

    >>> _period("2020-07/2020-09")
    {'start': '2020-07-01', 'end': '2020-09-30'}
    """
    if "/" not in text:
        return text
    first, _, last = text.partition("/")
    try:
        start, end = PeriodField().deserialize(first).start, PeriodField().deserialize(last).end
    except ValidationError:
        return text
    return {"start": start.isoformat(), "end": end.isoformat()}


def _copy_atomically(source: Path, target: Path) -> None:
    with open(source, "rb") as reading, atomic_file(target) as writing:
        shutil.copyfileobj(reading, writing, 1 << 20)
