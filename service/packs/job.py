"""The pack as a job kind: its parts are batches of documents (DOCX, and PDF when asked), its assembly
``summary.xlsx``, ``pack.pdf`` and the ZIP with its manifest.

The runner (:mod:`service.jobs.runner`) keeps the state, the progress and the attempts; what is here
is idempotent on its own: a document already in the job folder is not made again, every file is written
atomically, and the same input gives the same ZIP, byte for byte.

A document that cannot be made fails its job with the document named and the reason.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import logging
import shutil
import threading
import zipfile
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from schemas.delivery import DeliveryActSchema
from schemas.errors import flatten
from schemas.reimbursement import MAX_LINES, ReimbursementRequestSchema
from service.auth import Principal
from service.config import MiB, UploadLimits, upload_limits
from service.documents import KINDS, TemplateFailed, Templates
from service.documents.inputs import DocumentInputs, TemplateRef
from service.documents.municipal import MunicipalSettings
from service.documents.pdf import (
    ConversionError,
    ConversionPool,
    ConversionTimeout,
    ConverterUnavailable,
    PoolBusy,
)
from service.documents.slim import slim_docx
from service.files import atomic_file, write_atomically
from service.jobs.kinds import JobKind, Plan, StepFailed, register
from service.jobs.problems import stored
from service.jobs.records import new_job
from service.jobs.storage import JobFiles
from service.packs import contents
from service.packs.archive import MANIFEST_NAME, PackWriter, safe_member_name
from service.packs.contents import KINDS_IN_PACK
from service.packs.fixed_pdf import fixed_pdf
from service.packs.merge import merge_pdfs
from service.packs.order import Order, canonical, input_sha256
from service.packs.pieces import convert_in_pieces
from service.packs.summary import write_summary
from service.packs.tables import read_table_files
from service.register import register_made
from service.store.models import Job

log = logging.getLogger(__name__)

T = TypeVar("T")
TRANSIENT = (PoolBusy, ConverterUnavailable, ConversionTimeout)
GENERATOR = "veidlapas 0.1.0"
DOCUMENTS_FILE = "documents.jsonl"
TABLES_FOLDER = "tables"


class PackData:
    """A job's input — the whole of it, or one part's slice (:func:`slice_input`) — with what each step
    needs loaded only when it is asked for.

    The whole request is loaded by the schema only where it is printed or summed (cover letter, request,
    summary, manifest): in ``plan``, in ``assemble`` and in the one part that holds the cover letter and
    the request, each time once and dropped after the step. A part of clients' details and acts reads only
    its slice, and a client's detail loads just that client's agreements and lines.
    """

    def __init__(self, raw: dict[str, Any], documents: list[contents.Document] | None = None) -> None:
        self.raw = raw
        self.pdf: bool = raw["pdf"]
        self._documents = documents

    @cached_property
    def request(self) -> dict[str, Any]:
        return ReimbursementRequestSchema(**(self.raw.get("limits") or {})).load(self.raw["request"])

    @cached_property
    def documents(self) -> list[contents.Document]:
        if self._documents is not None:
            return self._documents
        acts = [DeliveryActSchema().load(act) for act in self.raw["acts"]]
        return contents.documents(self.request, acts)

    @cached_property
    def _by_agreement(self) -> tuple[dict[str, list], dict[str, list]]:
        """The raw agreements and lines by agreement number."""
        agreements: dict[str, list] = defaultdict(list)
        lines: dict[str, list] = defaultdict(list)
        for agreement in self.raw["request"]["agreements"]:
            agreements[_number(agreement)].append(agreement)
        for line in self.raw["request"]["lines"]:
            lines[_number(line, "agreement")].append(line)
        return agreements, lines

    def values_for(self, document: contents.Document) -> dict[str, Any]:
        """The values a document is rendered from: the request, one client's part of it, or an act."""
        if document.act is not None:
            acts = self.raw["acts"]
            act = (
                acts[str(document.act)] if isinstance(acts, dict) else acts[document.act]
            )  # a slice's, or all
            return DeliveryActSchema().load(act)
        if not document.agreements:
            return self.request
        agreements, lines = self._by_agreement
        subset = {
            **self.raw["request"],
            "agreements": [a for number in document.agreements for a in agreements[number]],
            "lines": [line for number in document.agreements for line in lines[number]],
        }
        return ReimbursementRequestSchema().load(subset)

    def slice(self, documents: list[contents.Document]) -> dict[str, Any] | None:
        """The part of the input that the clients' details and acts of ``documents`` are made from: the
        request's header with just their agreements and lines, their acts by index; None when a document
        needs the whole request (the cover letter, the request itself)."""
        if any(not d.agreements and d.act is None for d in documents):
            return None
        agreements, lines = self._by_agreement
        numbers = list(dict.fromkeys(number for d in documents for number in d.agreements))
        request = self.raw["request"]
        return {
            **{key: value for key, value in self.raw.items() if key not in ("request", "acts")},
            "request": {
                **{key: value for key, value in request.items() if key not in ("agreements", "lines")},
                "agreements": [a for number in numbers for a in agreements[number]],
                "lines": [line for number in numbers for line in lines[number]],
            },
            "acts": {str(d.act): self.raw["acts"][d.act] for d in documents if d.act is not None},
        }

    def extensions(self) -> tuple[str, ...]:
        return ("docx", "pdf") if self.pdf else ("docx",)

    @cached_property
    def _made_with(self) -> dict[str, Any]:
        """The input's settings and template versions, as the order was taken (none for an input written
        before orders carried them: the standard ones)."""
        return self.raw.get("made_with") or {}

    @cached_property
    def settings(self) -> MunicipalSettings | None:
        sent = self._made_with.get("settings")
        return MunicipalSettings.from_input(sent) if sent else None

    @cached_property
    def templates(self) -> dict[str, TemplateRef]:
        """The municipality's template versions by kind (a kind not named uses the standard template)."""
        return {
            name: TemplateRef.from_input(sent) for name, sent in self._made_with.get("templates", {}).items()
        }

    def inputs(self, kind: str) -> DocumentInputs:
        """What documents of ``kind`` in this pack are made with besides their data."""
        return DocumentInputs(self.settings, self.templates.get(kind))


def _number(record: Any, key: str = "number") -> str:
    return str(record.get(key) if isinstance(record, dict) else None).strip()


class DocumentFailed(Exception):
    """A document of the pack could not be made."""

    def __init__(self, document: contents.Document, reason: str) -> None:
        super().__init__(document.key, reason)
        self.document = document
        self.reason = reason


@register
class PackJob(JobKind):
    """A reimbursement pack: the templates, the part size and (made on first use) a PDF converter pool."""

    name = "pack"
    result_file = "pack.zip"
    media_type = "application/zip"
    parts_step = "documents"

    @classmethod
    def settings(cls, config: Mapping[str, Any], converters: int = 1) -> dict[str, Any]:
        """The templates, the part size and the converters (one a worker process; the CLI's threads share
        ``converters``)."""
        return {
            "templates_dir": str(config["TEMPLATES_DIR"]),
            "batch_size": config["PACK_BATCH"],
            "disk": {
                "docx": config["PACK_DOCX_BYTES"],
                "pdf": config["PACK_PDF_BYTES"],
                "margin": config["JOB_DISK_MARGIN"],
            },
            "uploads": dataclasses.asdict(upload_limits(config)),
            "row_timeout_s": config["PDF_TIMEOUT_PER_1000_ROWS_S"] / 1000,
            "piece_rows": config["PDF_PIECE_ROWS"],
            "pdf": {
                "size": converters,
                "timeout_s": config["PDF_TIMEOUT_S"],
                "restart_after": config["PDF_RESTART_AFTER"],
                "rss_limit_mb": config["PDF_RSS_LIMIT_MB"],
                "allocator": config["PDF_ALLOCATOR"],
                "queue_limit": config["PDF_QUEUE"],
            },
        }

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self.templates = Templates.of(Path(settings["templates_dir"]))
        self._pdf: ConversionPool | None = None
        self._lock = threading.Lock()

    # -- the steps -----------------------------------------------------------------------------------------

    def plan(self, files: JobFiles) -> Plan:
        """Validate an order its job was left to check (failing with every problem, placed in its tables),
        work out the documents, check the disk has room for them, and write the documents' list and each
        part's slice of the input (:meth:`PackData.slice`) to the job folder; the whole request is then
        dropped."""
        data = self._whole(files)
        try:
            documents = data.documents
        except ValidationError as error:
            problems = flatten(error.messages)
            raise StepFailed(
                "pack.invalid_order",
                count=len(problems),
                problems=stored(problems, self._places(files, data.raw, problems)),
            ) from None
        shutil.rmtree(files.folder / TABLES_FOLDER, ignore_errors=True)
        self._check_disk(files, len(documents), data.pdf)
        parts = contents.batches(documents, self.settings["batch_size"])
        for index, part in enumerate(parts):
            piece = {"documents": [d.as_dict() for d in part], "input": data.slice(part)}
            write_atomically(_slice_path(files, index), json.dumps(piece).encode())
        with atomic_file(files.folder / DOCUMENTS_FILE) as out:
            for document in documents:  # one a line: the list is never one string
                out.write(json.dumps(document.as_dict()).encode() + b"\n")
        return Plan(len(documents), len(parts))

    def make_part(self, files: JobFiles, part: int) -> int:
        piece = json.loads(_slice_path(files, part).read_bytes())
        documents = [contents.Document.from_dict(d) for d in piece["documents"]]
        data = PackData(piece["input"] or _read_input(files), documents)
        try:
            if data.pdf:
                self._make_with_pdf(data, files, documents)
            else:
                for document in documents:
                    self._render(data, files, document)
        except DocumentFailed as failure:
            title = KINDS[failure.document.kind].title
            raise StepFailed(
                "job.failed_document", document=f"{title} ({failure.document.key})", reason=failure.reason
            ) from failure
        return len(documents)

    def assemble(self, files: JobFiles, step: Callable[[str], None]) -> None:
        """The ZIP: the documents (archived in a thread meanwhile: hashing and deflating mostly run
        without the interpreter's lock), then ``summary.xlsx`` and ``pack.pdf`` once they are made."""
        data = self._whole(files)
        summary, merged = files.part("summary.xlsx"), files.part("pack.pdf")
        with (
            PackWriter(files.result, date_time=data.request["date"], manifest=_manifest(data)) as pack,
            ThreadPoolExecutor(1, thread_name_prefix="archive") as archiving,
        ):
            documents = archiving.submit(self._archive_documents, pack, data, files)
            step("summary")
            write_summary(data.request, summary)
            if data.pdf:
                step("merging")
                merge_pdfs([(list(d.bookmarks), files.part(f"{d.key}.pdf")) for d in data.documents], merged)
            step("archive")
            documents.result()
            pack.add_file("summary.xlsx", summary)
            if data.pdf:
                pack.add_file("pack.pdf", merged)

    @staticmethod
    def _archive_documents(pack: PackWriter, data: PackData, files: JobFiles) -> None:
        for document in data.documents:
            for extension in data.extensions():
                pack.add_file(f"{document.member}.{extension}", files.part(f"{document.key}.{extension}"))

    def record(self, session: Session, job: Job, files: JobFiles) -> None:
        """Every document of the pack into the register, with the versions it was made with and the hash
        and size the pack's manifest gives it (hashed once, as the ZIP was written)."""
        data = self._whole(files)
        with zipfile.ZipFile(files.result) as pack:
            listed = {member["name"]: member for member in json.loads(pack.read(MANIFEST_NAME))["files"]}
        for document in data.documents:
            for extension in data.extensions():
                member = listed[f"{document.member}.{extension}"]
                name = f"{document.member.rsplit('/', 1)[-1]}.{extension}"
                made = (member["sha256"], member["size"], data.inputs(document.kind))
                register_made(session, job, document.kind, name, *made)

    def close(self) -> None:
        """Stop the converters (and remove their profiles), if any were started."""
        with self._lock:
            if self._pdf is not None:
                self._pdf.close()
                self._pdf = None

    # -- helpers -------------------------------------------------------------------------------------------

    def _whole(self, files: JobFiles) -> PackData:
        """The whole input, with the documents' list once :meth:`plan` has written it."""
        listed = files.folder / DOCUMENTS_FILE
        documents = None
        if listed.exists():
            with open(listed, "rb") as lines:
                documents = [contents.Document.from_dict(json.loads(line)) for line in lines]
        return PackData(_read_input(files), documents)

    def _places(
        self, files: JobFiles, raw: dict[str, Any], problems: list[tuple[tuple, Any]]
    ) -> list[dict[str, Any] | None] | None:
        """Where each problem sits in the order's uploaded tables (kept in the job folder), if it had any."""
        folder = files.folder / TABLES_FOLDER
        if not folder.is_dir():
            return None
        names = json.loads((folder / "names.json").read_text(encoding="utf-8"))
        tables = {name: (folder / str(index)).read_bytes() for index, name in enumerate(names)}
        limits = UploadLimits(**self.settings["uploads"])
        table = read_table_files(
            tables, limits, max_lines=(raw.get("limits") or {}).get("max_lines", MAX_LINES)
        )
        return [table.place(path) for path, _ in problems]

    def _check_disk(self, files: JobFiles, documents: int, pdf: bool) -> None:
        """Fail the job before it starts when its folder's disk is short of its estimated output."""
        needed = disk_estimate(documents, pdf, self.settings["disk"]) + files.input.stat().st_size
        free = shutil.disk_usage(files.folder).free
        if free - needed < self.settings["disk"]["margin"]:
            raise StepFailed("job.disk_short", needed=-(-needed // MiB), free=free // MiB)

    def pdf(self) -> ConversionPool:
        with self._lock:
            if self._pdf is None:
                self._pdf = ConversionPool(**self.settings["pdf"])
                atexit.register(self._pdf.close)
            return self._pdf

    def _make_with_pdf(self, data: PackData, files: JobFiles, documents: list[contents.Document]) -> None:
        """The documents and their PDFs, with LibreOffice kept busy: each document is rendered (and the
        copy LibreOffice is given slimmed) while the one before it converts, and that one's PDF rewritten
        (:func:`fixed_pdf`) once the next is in the converter — the worker's share of a document overlaps
        LibreOffice's instead of coming between two of its conversions."""
        with ThreadPoolExecutor(1, thread_name_prefix="pdf") as converting:
            converting_now: tuple[contents.Document, Future] | None = None
            for document in documents:
                made = self._render(data, files, document)
                prepared = self._prepared(*made) if made else None
                finished, converting_now = converting_now, None
                pdf = finished[1].result() if finished else None  # the converter is free from here
                if prepared:
                    future = converting.submit(self._convert_prepared, files, document, *prepared)
                    converting_now = (document, future)
                if finished:
                    self._keep_pdf(files, finished[0], pdf)
            if converting_now:
                self._keep_pdf(files, converting_now[0], converting_now[1].result())

    @staticmethod
    def _keep_pdf(files: JobFiles, document: contents.Document, pdf: bytes | None) -> None:
        """A document's PDF as LibreOffice wrote it, rewritten to its part file (None: written already)."""
        if pdf is not None:
            files.write_part(f"{document.key}.pdf", fixed_pdf(pdf))

    def _prepared(self, docx: Path, rows: int) -> tuple[Path | bytes, int]:
        """What a rendered document is converted from: its file when it prints more than ``piece_rows``
        rows (a long request, converted in pieces), else the slimmed copy LibreOffice is given."""
        return (docx if rows > self.settings["piece_rows"] else slim_docx(docx.read_bytes())), rows

    def _convert_prepared(
        self, files: JobFiles, document: contents.Document, docx: Path | bytes, rows: int
    ) -> bytes | None:
        """A prepared document's PDF as LibreOffice wrote it; a long one is converted in pieces straight
        to its part file (None)."""
        pool = self.pdf()
        if isinstance(docx, Path):
            target, most = files.part(f"{document.key}.pdf"), self.settings["piece_rows"]
            self._convert(document, lambda: convert_in_pieces(pool, docx, target, self._timeout, most))
            return None
        timeout_s = self._timeout(rows)
        return self._convert(document, lambda: pool.convert(docx, timeout_s=timeout_s, slimmed=True))

    def _render(
        self, data: PackData, files: JobFiles, document: contents.Document
    ) -> tuple[Path, int] | None:
        """A document rendered to its part file, and the rows it prints; None when an earlier run made it."""
        docx_path, pdf_path = files.part(f"{document.key}.docx"), files.part(f"{document.key}.pdf")
        if docx_path.exists() and (not data.pdf or pdf_path.exists()):
            return None
        try:
            kind = KINDS[document.kind]
            values = data.values_for(document)
            # Written as it renders: the request's length follows the pack's, its XML is never whole here.
            self.templates.render_to(kind, values, data.inputs(document.kind), docx_path)
        except TemplateFailed as failure:
            raise StepFailed(failure.problem.code, **failure.problem.params) from None
        except Exception as error:
            log.error(
                "rendering %s failed: %s", document.key, type(error).__name__
            )  # no values: personal data
            raise DocumentFailed(document, type(error).__name__) from error
        return docx_path, len(values.get("rows", ()))

    def _timeout(self, rows: int) -> float:
        """The conversion time limit of a document (or a piece of one) printing ``rows`` rows: the pool's,
        and more for each row, as LibreOffice's time follows a long request's rows (the hung converter is
        still killed, only later)."""
        return self.settings["pdf"]["timeout_s"] + rows * self.settings["row_timeout_s"]

    def _convert(self, document: contents.Document, convert: Callable[[], T]) -> T:
        """A document's conversion; a busy, missing or stuck converter gets one more try."""
        try:
            try:
                return convert()
            except TRANSIENT:
                return convert()
        except ConversionError as error:
            raise DocumentFailed(document, type(error).__name__) from error


def disk_estimate(documents: int, pdf: bool, sizes: Mapping[str, int]) -> int:
    """Bytes a pack's output takes at most at once: every document (DOCX, and PDF), ``pack.pdf`` (the PDFs
    again) and the ZIP (all of that again).

    >>> disk_estimate(10, True, {"docx": 100, "pdf": 200})
    10000
    """
    parts = documents * (sizes["docx"] + (sizes["pdf"] if pdf else 0))
    merged = documents * sizes["pdf"] if pdf else 0
    return 2 * (parts + merged)


def _read_input(files: JobFiles) -> dict[str, Any]:
    with open(files.input, "rb") as source:
        return json.load(source)


def _slice_path(files: JobFiles, part: int) -> Path:
    """A part's slice of the input, among the parts (removed with them)."""
    return files.part(f"slice-{part}.json")


def keep_tables(files: JobFiles, tables: Mapping[str, bytes]) -> None:
    """Keep an order's uploaded tables beside its input, for the job that validates it to place its
    problems (the plan removes them once the order is valid)."""
    folder = files.folder / TABLES_FOLDER
    for index, data in enumerate(tables.values()):
        write_atomically(folder / str(index), data)
    write_atomically(folder / "names.json", json.dumps(list(tables), ensure_ascii=False).encode())


def new_pack_job(
    session: Session, user: Principal, backend: str, order: Order, jobs_dir: Path, key: str | None = None
) -> Job:
    """A queued pack job for ``order``, its input (and the tables of an order it validates itself) written
    to the job folder, the order audited with its totals (its size alone when the job validates it)."""
    request = order.raw["request"]
    if order.request is None:
        detail: dict[str, Any] = {"lines": len(request["lines"]), "checked": "job"}
    else:
        totals = order.request["totals"]
        detail = {
            "lines": totals["lines"],
            "clients": totals["clients"],
            **{key: str(totals[key]) for key in ("amount", "esf", "state")},
        }
    job = new_job(
        session,
        user,
        kind=PackJob.name,
        backend=backend,
        data=canonical(order.raw),
        sha256=order.sha256,
        jobs_dir=jobs_dir,
        title=request["number"],
        result_name=safe_member_name(f"Kompensacijas pieprasijums {request['number']}.zip"),
        detail=detail,
        key=key,
    )
    if order.tables:
        keep_tables(JobFiles(jobs_dir, job.id), order.tables)
    return job


def _manifest(data: PackData) -> dict[str, Any]:
    request = data.request
    return {
        "generator": GENERATOR,
        "input_sha256": input_sha256(data.raw),
        "request": {
            "number": request["number"],
            "date": request["date"],
            "project": request["project"],
            "period": {"start": request["period"].start, "end": request["period"].end},
            "municipality": request["submitter"]["name"],
        },
        "counts": {
            "clients": request["totals"]["clients"],
            "lines": request["totals"]["lines"],
            "acts": len(data.raw["acts"]),
            "documents": len(data.documents),
        },
        "totals": {k: request["totals"][k] for k in ("amount", "esf", "state")},
        "made_with": {
            "settings_version": data.settings.version if data.settings else None,
            "templates": {
                name: data.templates[name].number if name in data.templates else None
                for name in KINDS_IN_PACK
            },
        },
    }
