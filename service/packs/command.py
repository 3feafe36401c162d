"""``veidlapas pack``: the same order, validation and job steps as the API, run here with a progress bar.

The job is recorded like any other (backend ``cli``), its documents are made by as many threads as there
are PDF converters, and the finished pack is copied to the output file atomically.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from marshmallow import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from schemas.errors import Problem, problem
from schemas.fields import PeriodField
from service import jobs
from service.auth import Principal
from service.files import atomic_file
from service.jobs.execution import execute
from service.jobs.problems import read_back
from service.jobs.runner import Runner
from service.packs.job import PackJob, new_pack_job
from service.packs.order import OrderInput, OrderLimits, OrderRejected, read_order
from service.store import database, sealer
from service.store.models import Job

MAX_JSON_BYTES = 20_000_000
#: What the progress bar says at each stage of the job.
STAGES = {"parts": "Dokumenti", "assemble": "Kopsavilkums, pack.pdf, ZIP", "end": "Gatavs"}


@dataclass
class PackCommandError(Exception):
    """The order cannot be taken: one problem, or every problem with its place."""

    source: Path | str
    problem: Problem | None = None
    problems: list = field(default_factory=list)
    places: list | None = None

    @classmethod
    def of(cls, source: Path | str, rejected: OrderRejected) -> PackCommandError:
        """Problems of the order's content as a table; an input that cannot be read as one line."""
        if rejected.status == 422:
            return cls(source, problems=rejected.problems, places=rejected.places)
        return cls(source, rejected.problems[0][1])


def make_pack(app: Flask, files: tuple[Path, ...], output: Path, options: dict[str, Any]) -> Path:
    """Validate the order, make the pack and write it to ``output``."""
    source = ", ".join(str(f) for f in files) or "--from-acts"
    inputs = _read_inputs(app, files, source)
    inputs.body.update(_header(options))
    operator = Principal(0, "cli", "administrator", options["municipality"])
    with database(app).session() as session:
        try:
            order = inputs.take(session, sealer(app))
        except OrderRejected as rejected:
            raise PackCommandError.of(source, rejected) from None
        job = new_pack_job(session, operator, "cli", order, jobs.folder(app))
    converters = app.config["PDF_CONVERTERS"]
    pack_settings = PackJob.settings(app.config, converters=converters)
    runner = Runner.from_settings({**jobs.settings(app), "kinds": {PackJob.name: pack_settings}})
    try:
        _run(runner, job.id, converters)
    finally:
        runner.close()
    with database(app).session() as session:
        finished = session.get(Job, job.id)
        if finished.state != "succeeded":
            if kept := finished.problems():  # an order its job validated: its problems, as a table
                problems, places = read_back(kept)
                raise PackCommandError(source, problems=problems, places=places)
            raise PackCommandError(source, finished.error() or problem("job.cancelled"))
    files_of_job = runner.files(job.id, PackJob.name)
    _copy_atomically(files_of_job.result, output)
    files_of_job.remove()
    return output


def _run(runner: Runner, job_id: str, threads: int) -> None:
    """The job's steps in ``threads`` threads (one per converter), its progress as a bar."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(STAGES["parts"], total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=STAGES[stage], completed=done, total=total)

        with ThreadPoolExecutor(threads) as pool:
            execute(pool, runner, job_id, threads=True, progress=progress)


def _read_inputs(app: Flask, files: tuple[Path, ...], source: str) -> OrderInput:
    """A JSON order file, or table files (XLSX, CSV); both checked like uploads."""
    limits = OrderLimits.of(app.config, json_bytes=MAX_JSON_BYTES)
    json_files = [f for f in files if f.suffix.lower() == ".json"]
    if json_files and len(files) > 1:
        raise PackCommandError(json_files[0], problem("pack.lines_twice"))
    try:
        if json_files:
            inputs = read_order(_head(json_files[0], MAX_JSON_BYTES + 1), {}, limits)
        else:
            inputs = read_order(None, {f.name: _head(f, limits.table_bytes + 1) for f in files}, limits)
    except OrderRejected as rejected:
        raise PackCommandError.of(source, rejected) from None
    if not isinstance(inputs.body, dict):
        raise PackCommandError(source, problem("type.object"))
    return inputs


def _head(path: Path, size: int) -> bytes:
    """At most ``size`` bytes of a file: enough to tell it is too large without reading it all."""
    with open(path, "rb") as source:
        return source.read(size)


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
