"""The one code path of a pack job, whichever backend runs it: prepare, make the parts, assemble.

A job's input lies in its folder (``input.json``); its state and progress in the database. Every step
may run more than once — a worker killed before it acknowledged its task gets the task again, a
restarted server starts its unfinished jobs again — so every step is idempotent:

* :func:`prepare` counts the documents and parts and says which parts are still to make;
* :func:`make_part` renders one part's documents (skipping files already there), writes each file
  atomically and records the part once (a primary key on job and part), so progress counts each
  document once and the pack holds each line once, however often a part ran;
* :func:`assemble` builds ``summary.xlsx``, ``pack.pdf`` and the ZIP from the parts in a fixed order;
  the same input gives the same bytes, so two assemblies racing write the same file.

A document that cannot be made fails its job with the document named and the reason; the job's files
are removed, so no partial pack is ever left to download.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.delivery import DeliveryActSchema
from schemas.reimbursement import ReimbursementRequestSchema
from service.documents import KINDS, Templates
from service.documents.pdf import (
    ConversionError,
    ConversionPool,
    ConversionTimeout,
    ConverterUnavailable,
    PoolBusy,
)
from service.files import write_atomically
from service.jobs.storage import JobFiles
from service.packs import contents
from service.packs.archive import PackWriter
from service.packs.fixed_pdf import fixed_pdf
from service.packs.merge import merge_pdfs
from service.packs.order import input_sha256
from service.packs.summary import summary_xlsx
from service.store import Database
from service.store.models import Job, JobPart, utcnow

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
MAX_ATTEMPTS = 3
TRANSIENT = (PoolBusy, ConverterUnavailable, ConversionTimeout)
GENERATOR = "veidlapas 0.1.0"
DOCUMENTS_FILE = "documents.json"


class NotReady(Exception):
    """Assembly was asked for before every part was made (a task delivered early or twice)."""


@dataclass
class Tools:
    """What a job step needs, in whatever process runs it: the database, the templates, the job storage,
    the part size and (made on first use) a PDF converter pool."""

    database: Database
    templates: Templates
    jobs_dir: Path
    batch_size: int
    pdf_settings: dict[str, Any]
    _pdf: ConversionPool | None = None
    _loaded: tuple[str, PackData] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Tools:
        """Tools from :func:`settings` (plain values, so they can travel to a worker process)."""
        return cls(
            Database(settings["database_url"]),
            Templates.of(Path(settings["templates_dir"])),
            Path(settings["jobs_dir"]),
            settings["batch_size"],
            settings["pdf"],
        )

    def pdf(self) -> ConversionPool:
        with self._lock:
            if self._pdf is None:
                self._pdf = ConversionPool(**self.pdf_settings)
                atexit.register(self._pdf.close)
            return self._pdf

    def close(self) -> None:
        """Stop the converters (and remove their profiles), if any were started."""
        with self._lock:
            if self._pdf is not None:
                self._pdf.close()
                self._pdf = None

    def files(self, job_id: str) -> JobFiles:
        return JobFiles(self.jobs_dir, job_id)

    def data(self, job_id: str) -> PackData:
        """The job's input, loaded once per process and job."""
        with self._lock:
            if self._loaded is None or self._loaded[0] != job_id:
                files = self.files(job_id)
                raw = json.loads(files.input.read_text(encoding="utf-8"))
                listed = files.folder / DOCUMENTS_FILE
                documents = (
                    [contents.Document.from_dict(d) for d in json.loads(listed.read_text(encoding="utf-8"))]
                    if listed.exists()
                    else None
                )
                self._loaded = (job_id, PackData(raw, self.batch_size, documents))
            return self._loaded[1]

    def forget(self) -> None:
        """Drop the loaded input (after a step that loaded all of it)."""
        with self._lock:
            self._loaded = None


def settings(config: dict[str, Any], database_url: str, jobs_dir: Path) -> dict[str, Any]:
    """The plain settings :meth:`Tools.from_settings` takes, from an application's configuration."""
    return {
        "database_url": database_url,
        "templates_dir": str(config["TEMPLATES_DIR"]),
        "jobs_dir": str(jobs_dir),
        "batch_size": config["PACK_BATCH"],
        "pdf": {
            "size": 1,
            "timeout_s": config["PDF_TIMEOUT_S"],
            "restart_after": config["PDF_RESTART_AFTER"],
            "queue_limit": config["PDF_QUEUE"],
        },
    }


class PackData:
    """A job's input, with what each step needs loaded only when it is asked for.

    The whole request is loaded by the schema only where it is printed or summed (cover letter, request,
    summary, manifest); a client's detail loads just that client's agreements and lines, so a worker making
    details holds the raw input and one client at a time. The documents' list is worked out once, by
    :func:`prepare`, and read from the job folder after that.
    """

    def __init__(
        self, raw: dict[str, Any], batch_size: int, documents: list[contents.Document] | None = None
    ) -> None:
        self.raw = raw
        self.pdf: bool = raw["pdf"]
        self.batch_size = batch_size
        self._documents = documents

    @cached_property
    def request(self) -> dict[str, Any]:
        return ReimbursementRequestSchema().load(self.raw["request"])

    @cached_property
    def acts(self) -> list[dict[str, Any]]:
        return [DeliveryActSchema().load(act) for act in self.raw["acts"]]

    @cached_property
    def documents(self) -> list[contents.Document]:
        if self._documents is not None:
            return self._documents
        return contents.documents(self.request, self.acts)

    @property
    def parts(self) -> list[list[contents.Document]]:
        return contents.batches(self.documents, self.batch_size)

    @cached_property
    def _by_agreement(self) -> tuple[dict[str, list], dict[str, list]]:
        """The raw agreements and lines by agreement number."""
        agreements: dict[str, list] = defaultdict(list)
        lines: dict[str, list] = defaultdict(list)
        for agreement in self.raw["request"]["agreements"]:
            agreements[str(agreement["number"]).strip()].append(agreement)
        for line in self.raw["request"]["lines"]:
            lines[str(line["agreement"]).strip()].append(line)
        return agreements, lines

    def values_for(self, document: contents.Document) -> dict[str, Any]:
        """The values a document is rendered from: the request, one client's part of it, or an act."""
        if document.act is not None:
            return DeliveryActSchema().load(self.raw["acts"][document.act])
        if not document.agreements:
            return self.request
        agreements, lines = self._by_agreement
        subset = {
            **self.raw["request"],
            "agreements": [a for number in document.agreements for a in agreements[number]],
            "lines": [line for number in document.agreements for line in lines[number]],
        }
        return ReimbursementRequestSchema().load(subset)

    def extensions(self) -> tuple[str, ...]:
        return ("docx", "pdf") if self.pdf else ("docx",)


class DocumentFailed(Exception):
    """A document of the pack could not be made."""

    def __init__(self, document: contents.Document, reason: str) -> None:
        super().__init__(document.key, reason)
        self.document = document
        self.reason = reason


# -- steps -----------------------------------------------------------------------------------------------


def prepare(tools: Tools, job_id: str) -> list[int] | None:
    """Start (or start again) a job: the parts still to make, or None when the job is not to run."""
    with tools.database.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.state not in ACTIVE:
            return None
        if job.attempts >= MAX_ATTEMPTS:
            job.stop("failed", "job.interrupted", times=job.attempts)
            tools.files(job_id).remove()
            return None
        job.attempts += 1
        job.state, job.step = "running", "documents"
        job.started_at = job.started_at or utcnow()
    try:
        data = tools.data(job_id)
        documents = [document.as_dict() for document in data.documents]
        write_atomically(tools.files(job_id).folder / DOCUMENTS_FILE, json.dumps(documents).encode())
    except Exception as error:
        fail(tools, job_id, "job.failed_document", document="input.json", reason=type(error).__name__)
        raise
    finally:
        tools.forget()  # the whole request stays loaded only where it is needed
    parts = len(data.parts)
    with tools.database.session() as session:
        job = session.get(Job, job_id)
        job.total, job.parts = len(documents), parts
        finished = set(session.scalars(select(JobPart.part).where(JobPart.job_id == job_id)))
    return [index for index in range(parts) if index not in finished]


def make_part(tools: Tools, job_id: str, part: int) -> bool:
    """Make one part's documents and record the part; True when every part of the job is made."""
    if not _running(tools, job_id):
        return False
    data = tools.data(job_id)
    files = tools.files(job_id)
    documents = data.parts[part]
    try:
        for document in documents:
            _make_document(tools, data, files, document)
    except DocumentFailed as failure:
        kind = KINDS[failure.document.kind].title
        fail(
            tools,
            job_id,
            "job.failed_document",
            document=f"{kind} ({failure.document.key})",
            reason=failure.reason,
        )
        return False
    try:
        with tools.database.session() as session:
            session.add(JobPart(job_id=job_id, part=part, documents=len(documents)))
    except IntegrityError:
        pass  # made before by a task that ran twice: counted once
    with tools.database.session() as session:
        made = select(func.coalesce(func.sum(JobPart.documents), 0)).where(JobPart.job_id == job_id)
        session.execute(update(Job).where(Job.id == job_id).values(done=made.scalar_subquery()))
        count = _parts_made(session, job_id)
        job = session.get(Job, job_id)
        if job.state not in ACTIVE:
            _discard_unless_succeeded(job, files)  # cancelled while this part was made
            return False
        return count >= job.parts


def assemble(tools: Tools, job_id: str) -> bool:
    """Build the pack from its parts; True when the job succeeded now or before.

    Raises :class:`NotReady` when a part is still missing.
    """
    with tools.database.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.state == "succeeded":
            return job is not None
        if job.state not in ACTIVE:
            return False
        count = _parts_made(session, job_id)
        if count < job.parts or job.parts == 0:
            raise NotReady(job_id)
    data = tools.data(job_id)
    files = tools.files(job_id)
    _step(tools, job_id, "summary")
    summary = files.part("summary.xlsx")
    files.write_part("summary.xlsx", summary_xlsx(data.request))
    merged = files.part("pack.pdf")
    if data.pdf:
        _step(tools, job_id, "merging")
        merge_pdfs([(list(d.bookmarks), files.part(f"{d.key}.pdf")) for d in data.documents], merged)
    _step(tools, job_id, "archive")
    with PackWriter(files.result, date_time=data.request["date"], manifest=_manifest(data)) as pack:
        for document in data.documents:
            for extension in data.extensions():
                pack.add_file(f"{document.member}.{extension}", files.part(f"{document.key}.{extension}"))
        pack.add_file("summary.xlsx", summary)
        if data.pdf:
            pack.add_file("pack.pdf", merged)
    digest, size = _hash_file(files.result)
    with tools.database.session() as session:
        job = session.get(Job, job_id)
        if job.state not in ACTIVE:
            _discard_unless_succeeded(job, files)
            return job.state == "succeeded"
        job.state, job.step, job.finished_at = "succeeded", "", utcnow()
        job.result_sha256, job.result_size = digest, size
        job.done = job.total
    files.remove_parts()
    files.input.unlink(missing_ok=True)
    return True


def fail(tools: Tools, job_id: str, code: str, **params: Any) -> None:
    """Fail an unfinished job with a coded reason and remove its files."""
    with tools.database.session() as session:
        job = session.get(Job, job_id)
        failed_now = job is not None and job.state in ACTIVE
        if failed_now:
            job.stop("failed", code, **params)
    if failed_now:  # a late duplicate of a step that already succeeded must not touch the pack
        log.warning("job %s failed: %s", job_id, code)
        tools.files(job_id).remove()


# -- helpers ---------------------------------------------------------------------------------------------


def _parts_made(session: Session, job_id: str) -> int:
    return session.scalar(select(func.count()).select_from(JobPart).where(JobPart.job_id == job_id))


def _discard_unless_succeeded(job: Job, files: JobFiles) -> None:
    """Remove the files of a cancelled or failed job; a finished pack stays."""
    if job.state != "succeeded":
        files.remove()


def _running(tools: Tools, job_id: str) -> bool:
    with tools.database.session() as session:
        job = session.get(Job, job_id)
        return job is not None and job.state in ACTIVE


def _step(tools: Tools, job_id: str, step: str) -> None:
    with tools.database.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(step=step))


def _make_document(tools: Tools, data: PackData, files: JobFiles, document: contents.Document) -> None:
    """Render a document (and its PDF) unless an earlier run already made it."""
    docx_path, pdf_path = files.part(f"{document.key}.docx"), files.part(f"{document.key}.pdf")
    if docx_path.exists() and (not data.pdf or pdf_path.exists()):
        return
    try:
        docx = tools.templates.render(KINDS[document.kind], data.values_for(document))
    except Exception as error:
        log.error("rendering %s failed: %s", document.key, type(error).__name__)  # no values: personal data
        raise DocumentFailed(document, type(error).__name__) from error
    if data.pdf:
        files.write_part(pdf_path.name, fixed_pdf(_convert(tools, document, docx)))
    files.write_part(docx_path.name, docx)


def _convert(tools: Tools, document: contents.Document, docx: bytes) -> bytes:
    """The PDF of a document; a busy, missing or stuck converter gets one more try."""
    try:
        try:
            return tools.pdf().convert(docx)
        except TRANSIENT:
            return tools.pdf().convert(docx)
    except ConversionError as error:
        raise DocumentFailed(document, type(error).__name__) from error


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
            "acts": len(data.acts),
            "documents": len(data.documents),
        },
        "totals": {k: request["totals"][k] for k in ("amount", "esf", "state")},
    }


def _hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
