"""Taking a pack order: the order's header, its agreements and lines from wherever they come, and the
accepted delivery acts of the period — all validated before any job starts.

The lines come from the order's body, from uploaded CSV/XLSX tables, or from the accepted delivery acts
(submissions) of the period — acts matched to their stored agreements and accepted against the budget.
The acts of the pack's agreements always go into the pack. The result is the job's input: plain JSON,
hashed so that the same order finds the same job.

The API (a JSON body, or multipart with tables) and ``veidlapas pack`` (a JSON file, or table files)
read their raw inputs with the one :func:`read_order`, and take the order with :meth:`OrderInput.take`;
every refusal is an :class:`OrderRejected` with the status the API answers.

Sizes: a JSON body holds at most the schema's ``MAX_AGREEMENTS`` (5 000) and ``MAX_LINES`` (20 000); an
order from tables or from the accepted acts up to the configured ``PACK_MAX_AGREEMENTS`` and
``PACK_MAX_LINES``. An order within the JSON limits (more exactly: with at most ``PACK_JOB_CHECK_LINES``
lines, 20 000 by default, and 5 000 agreements) is validated in full here, before the job starts (a few
seconds at 20 000 lines; 60 000 would keep the request waiting half a minute); a larger one has only its
header and its lists' lengths checked here, and is validated inside its job (:attr:`Order.request`
None), whose failure lists the same problems with their places.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.delivery import DeliveryActSchema
from schemas.errors import flatten, problem
from schemas.fields import Period
from schemas.lines import month_keys
from schemas.pack import PackOrderSchema, request_input
from schemas.reimbursement import MAX_AGREEMENTS, MAX_LINES, ReimbursementRequestSchema
from service.config import UploadLimits, upload_limits
from service.documents import KINDS
from service.documents.inputs import template_on
from service.documents.municipal import MunicipalSettings, settings_on
from service.jsondata import InvalidJson, parse_json
from service.packs.contents import KINDS_IN_PACK
from service.packs.tables import TableInput, TableRejected, read_table_files
from service.store.models import Submission
from service.store.sealing import Sealer
from service.submissions import pack_part
from service.tables.reading import PlacedRefusal

ATTACHMENTS = ("Klientu pakalpojumu izklāsti", "Pakalpojumu sniegšanas akti", "Kopsavilkums (summary.xlsx)")


@dataclass(frozen=True)
class Order:
    """An accepted order: the job's input (``raw``), its hash and the request it makes — None when the
    order is larger than a JSON body may be and is validated inside its job, which then needs the uploaded
    ``tables`` (by field name) to place its problems."""

    raw: dict[str, Any]
    sha256: str
    request: dict[str, Any] | None
    tables: Mapping[str, bytes] | None = None


@dataclass(frozen=True)
class OrderLimits:
    """The bounds an order's raw inputs are read within; ``json_bytes`` None when the caller bounded the
    order's JSON itself (a request's size limit)."""

    json_bytes: int | None
    json_depth: int
    json_items: int
    uploads: UploadLimits
    #: An order from tables or from the accepted acts (a JSON body: the schema's own limits).
    max_agreements: int = MAX_AGREEMENTS
    max_lines: int = MAX_LINES
    #: Such an order with more lines (or more than ``MAX_AGREEMENTS`` agreements) is validated in its job.
    job_check_lines: int = MAX_LINES

    @classmethod
    def of(cls, config: Mapping[str, Any], json_bytes: int | None = None) -> OrderLimits:
        return cls(
            json_bytes,
            config["MAX_JSON_DEPTH"],
            config["MAX_JSON_ITEMS"],
            upload_limits(config),
            config["PACK_MAX_AGREEMENTS"],
            config["PACK_MAX_LINES"],
            config["PACK_JOB_CHECK_LINES"],
        )

    @property
    def table_bytes(self) -> int:
        """The largest table file."""
        return self.uploads.max_bytes


class OrderRejected(PlacedRefusal):
    """An order that cannot be taken: the status the API answers it with, every problem with its path,
    and — for table files — each problem's place (sheet, row, column)."""


@dataclass(frozen=True)
class OrderInput:
    """An order as read: its body (the header, maybe the lists) and the tables of its files, if any."""

    body: Any
    table: TableInput | None = None
    #: The limits it was read within (None: a JSON body's, and every order validated here).
    limits: OrderLimits | None = None
    #: The uploaded tables' bytes by field name, kept for a job that validates the order itself.
    files: Mapping[str, bytes] | None = None

    def take(self, session: Session, sealer: Sealer) -> Order:
        """:func:`take_order`; every problem as an :class:`OrderRejected` (422), placed in the tables (a
        table's value that could not be read by its own problem, in place of the schema's)."""
        try:
            order = take_order(self.body, session, sealer, self.table, self.limits)
            if not (self.table and self.table.unread):
                return order if order.request is not None else replace(order, tables=self.files)
            messages = {}
        except ValidationError as error:
            messages = error.messages
        problems = flatten(self.table.with_unread(messages) if self.table else messages)
        places = [self.table.place(path) for path, _ in problems] if self.table else None
        raise OrderRejected(422, problems, places) from None


def read_order(text: str | bytes | None, tables: Mapping[str, bytes], limits: OrderLimits) -> OrderInput:
    """An order from its raw inputs: the order's JSON (None: no JSON at all) and the table files by
    name (XLSX or CSV, each read to at most ``limits.table_bytes`` + 1).

    Raises :class:`OrderRejected`: 413 for JSON over its limit, 400 for JSON that is not UTF-8 or not
    JSON, 422 for tables that cannot be read (every problem with its place).
    """
    body = {} if text is None else _parse(text, limits)
    if not tables:
        return OrderInput(body, limits=limits)
    try:
        table = read_table_files(tables, limits.uploads, max_lines=limits.max_lines)
        return OrderInput(body, table, limits, tables)
    except TableRejected as rejected:
        raise OrderRejected(422, *rejected.listed()) from None


def _parse(text: str | bytes, limits: OrderLimits) -> Any:
    if limits.json_bytes is not None and len(text) > limits.json_bytes:
        raise OrderRejected(413, [((), problem("body.too_large", max=limits.json_bytes))])
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
    except UnicodeDecodeError:
        raise OrderRejected(400, [((), problem("body.encoding"))]) from None
    try:
        return parse_json(decoded, limits.json_depth, limits.json_items)
    except InvalidJson as error:
        raise OrderRejected(400, [(error.path, error.problem)]) from None


def canonical(raw: dict[str, Any]) -> bytes:
    """The input as bytes that are the same whenever the input is."""
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def input_sha256(raw: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(raw)).hexdigest()


def take_order(
    body: dict[str, Any],
    session: Session,
    sealer: Sealer,
    table: TableInput | None = None,
    limits: OrderLimits | None = None,
) -> Order:
    """Validate an order (its ``municipality`` already set) and everything it rests on (accepted acts
    opened with ``sealer``).

    ``table`` holds the agreements and lines of uploaded files, if any; ``limits`` the sizes an order
    from tables or acts may have (None: a JSON body's, and no order left to its job to validate). Raises
    ``ValidationError`` with every problem and its path.
    """
    agreements, lines = (table.agreements, table.lines) if table else (None, None)
    header = PackOrderSchema().load_header(body)
    from_files = agreements is not None or lines is not None
    in_body = "agreements" in body or "lines" in body
    if (header["source"] == "submissions" and (from_files or in_body)) or (from_files and in_body):
        raise ValidationError({"source": [problem("pack.lines_twice")]})
    if in_body:
        agreements, lines = body.get("agreements"), body.get("lines")
    acts = accepted_acts(session, sealer, header["municipality"], header["period"], header["project"])
    if header["source"] == "submissions":
        if not acts:
            raise ValidationError({"source": [problem("pack.no_submissions")]})
        agreements, lines = _from_parts(acts)
    elif agreements is None and acts:
        agreements = _from_parts(acts)[0]
    if not lines:
        raise ValidationError({"lines": [problem("pack.no_lines")]})
    day = header.get("date") or dt.date.today()
    settings = settings_on(session, header["municipality"], day)
    raw_request = request_input(
        header, agreements or [], lines, attachments=list(ATTACHMENTS), municipality=settings.municipality
    )
    sizes = None
    if limits is not None and (from_files or header["source"] == "submissions"):
        sizes = {"max_agreements": limits.max_agreements, "max_lines": limits.max_lines}
    schema = ReimbursementRequestSchema(**(sizes or {}))
    request: dict[str, Any] | None = None
    if sizes and in_job(raw_request, limits.job_check_lines):
        schema.check_sizes(raw_request)
        numbers = {str(a.get("number")).strip() for a in raw_request["agreements"] if isinstance(a, dict)}
    else:
        request = schema.load(raw_request)
        numbers = {a["number"] for a in request["agreements"]}
    raw = {
        "municipality": header["municipality"],
        "pdf": header["pdf"],
        "request": raw_request,
        "acts": [raw_act for raw_act, part in acts if part["agreement"]["number"] in numbers],
        "made_with": made_with(session, settings, day),
    }
    if request is None:
        raw["limits"] = sizes
    return Order(raw, input_sha256(raw), request)


def in_job(raw_request: dict[str, Any], check_lines: int = MAX_LINES) -> bool:
    """True when an order has more lines than ``check_lines`` (by default, than a JSON body may hold) or
    more agreements than a JSON body may hold: its job validates it.

    >>> in_job({"agreements": [{}], "lines": [{}] * 20_001}), in_job({"agreements": [{}], "lines": [{}]})
    (True, False)
    """
    agreements, lines = raw_request.get("agreements"), raw_request.get("lines")
    return (isinstance(agreements, list) and len(agreements) > MAX_AGREEMENTS) or (
        isinstance(lines, list) and len(lines) > check_lines
    )


def made_with(session: Session, settings: MunicipalSettings, day: dt.date) -> dict[str, Any]:
    """The settings and the municipality's template versions in force on the request's date, as the job's
    input carries them: the same order with other versions is another input, with another hash."""
    found = {name: template_on(session, settings.code, KINDS[name], day) for name in KINDS_IN_PACK}
    templates = {name: template.as_input() for name, template in found.items() if template}
    return {"settings": settings.as_input(), "templates": templates}


def accepted_acts(
    session: Session, sealer: Sealer, municipality: str, period: Period, project: str
) -> list[tuple[dict, dict]]:
    """The accepted delivery acts of the project in the period's months, each matched to its stored
    agreement (only matched acts can be accepted): (raw act, its pack part) in month and agreement order.

    The pack part (``service.submissions.pack_part``) was derived when the act was accepted, so nothing
    is validated again here; an act accepted before parts were kept is loaded to derive it.
    """
    months = month_keys(period.start, period.end)
    submissions = session.scalars(
        select(Submission)
        .where(
            Submission.municipality == municipality,
            Submission.status == "accepted",
            Submission.agreement_id.is_not(None),
            Submission.month.in_(months),
        )
        .order_by(Submission.month, Submission.agreement_number, Submission.received_at, Submission.id)
    )
    acts = []
    for index, submission in enumerate(submissions):
        raw = sealer.open_json(submission.sealed, submission.seal_context())
        if submission.part is not None:
            part = sealer.open_json(submission.part, submission.seal_context("part"))
        else:
            try:
                part = pack_part(DeliveryActSchema().load(raw))
            except ValidationError as error:
                raise ValidationError({"acts": {index: error.messages}}) from None
        if part["project"] == project:
            acts.append((raw, part))
    return acts


def _from_parts(acts: list[tuple[dict, dict]]) -> tuple[list[dict], list[dict]]:
    """The acts' agreements (once each) and delivered lines, as the request's raw input."""
    agreements: dict[str, dict] = {}
    lines = []
    for _, part in acts:
        agreements.setdefault(part["agreement"]["number"], part["agreement"])
        lines.extend(part["lines"])
    return list(agreements.values()), lines
