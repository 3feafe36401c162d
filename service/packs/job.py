"""The pack as a job kind: its parts are batches of documents (DOCX, and PDF when asked), its assembly
``summary.xlsx``, ``pack.pdf`` and the ZIP with its manifest.

The runner (:mod:`service.jobs.runner`) keeps the state, the progress and the attempts; what is here
is idempotent on its own: a document already in the job folder is not made again, every file is written
atomically, and the same input gives the same ZIP, byte for byte.

A document that cannot be made fails its job with the document named and the reason.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import zipfile
from collections import defaultdict
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from schemas.delivery import DeliveryActSchema
from schemas.reimbursement import ReimbursementRequestSchema
from service.auth import Principal
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
from service.files import write_atomically
from service.jobs.kinds import JobKind, Plan, StepFailed, register
from service.jobs.records import new_job
from service.jobs.storage import JobFiles
from service.packs import contents
from service.packs.archive import MANIFEST_NAME, PackWriter, safe_member_name
from service.packs.contents import KINDS_IN_PACK
from service.packs.fixed_pdf import fixed_pdf
from service.packs.merge import merge_pdfs
from service.packs.order import Order, canonical, input_sha256
from service.packs.summary import write_summary
from service.register import register_made
from service.store.models import Job

log = logging.getLogger(__name__)

TRANSIENT = (PoolBusy, ConverterUnavailable, ConversionTimeout)
GENERATOR = "veidlapas 0.1.0"
DOCUMENTS_FILE = "documents.json"


class PackData:
    """A job's input, with what each step needs loaded only when it is asked for.

    The whole request is loaded by the schema only where it is printed or summed (cover letter, request,
    summary, manifest); a client's detail loads just that client's agreements and lines, so a worker making
    details holds the raw input and one client at a time. The documents' list is worked out once, by
    :meth:`PackJob.plan`, and read from the job folder after that.
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
            "pdf": {
                "size": converters,
                "timeout_s": config["PDF_TIMEOUT_S"],
                "restart_after": config["PDF_RESTART_AFTER"],
                "queue_limit": config["PDF_QUEUE"],
            },
        }

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self.templates = Templates.of(Path(settings["templates_dir"]))
        self._pdf: ConversionPool | None = None
        self._loaded: tuple[str, PackData] | None = None
        self._lock = threading.Lock()

    # -- the steps -----------------------------------------------------------------------------------------

    def plan(self, files: JobFiles) -> Plan:
        """Work out the documents once and keep their list in the job folder; the whole request is then
        dropped, as it stays loaded only where it is needed."""
        try:
            data = self.data(files)
            documents = [document.as_dict() for document in data.documents]
            write_atomically(files.folder / DOCUMENTS_FILE, json.dumps(documents).encode())
            return Plan(len(documents), len(data.parts))
        finally:
            with self._lock:
                self._loaded = None

    def make_part(self, files: JobFiles, part: int) -> int:
        data = self.data(files)
        documents = data.parts[part]
        try:
            for document in documents:
                self._make_document(data, files, document)
        except DocumentFailed as failure:
            title = KINDS[failure.document.kind].title
            raise StepFailed(
                "job.failed_document", document=f"{title} ({failure.document.key})", reason=failure.reason
            ) from failure
        return len(documents)

    def assemble(self, files: JobFiles, step: Callable[[str], None]) -> None:
        data = self.data(files)
        step("summary")
        summary = files.part("summary.xlsx")
        write_summary(data.request, summary)
        merged = files.part("pack.pdf")
        if data.pdf:
            step("merging")
            merge_pdfs([(list(d.bookmarks), files.part(f"{d.key}.pdf")) for d in data.documents], merged)
        step("archive")
        with PackWriter(files.result, date_time=data.request["date"], manifest=_manifest(data)) as pack:
            for document in data.documents:
                for extension in data.extensions():
                    pack.add_file(f"{document.member}.{extension}", files.part(f"{document.key}.{extension}"))
            pack.add_file("summary.xlsx", summary)
            if data.pdf:
                pack.add_file("pack.pdf", merged)

    def record(self, session: Session, job: Job, files: JobFiles) -> None:
        """Every document of the pack into the register, with the versions it was made with and the hash
        and size the pack's manifest gives it (hashed once, as the ZIP was written)."""
        data = self.data(files)
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

    def data(self, files: JobFiles) -> PackData:
        """The job's input, loaded once per process and job."""
        with self._lock:
            if self._loaded is None or self._loaded[0] != files.job_id:
                raw = json.loads(files.input.read_text(encoding="utf-8"))
                listed = files.folder / DOCUMENTS_FILE
                documents = (
                    [contents.Document.from_dict(d) for d in json.loads(listed.read_text(encoding="utf-8"))]
                    if listed.exists()
                    else None
                )
                self._loaded = (files.job_id, PackData(raw, self.settings["batch_size"], documents))
            return self._loaded[1]

    def pdf(self) -> ConversionPool:
        with self._lock:
            if self._pdf is None:
                self._pdf = ConversionPool(**self.settings["pdf"])
                atexit.register(self._pdf.close)
            return self._pdf

    def _make_document(self, data: PackData, files: JobFiles, document: contents.Document) -> None:
        """Render a document (and its PDF) unless an earlier run already made it."""
        docx_path, pdf_path = files.part(f"{document.key}.docx"), files.part(f"{document.key}.pdf")
        if docx_path.exists() and (not data.pdf or pdf_path.exists()):
            return
        try:
            kind = KINDS[document.kind]
            docx = self.templates.render(kind, data.values_for(document), data.inputs(document.kind))
        except TemplateFailed as failure:
            raise StepFailed(failure.problem.code, **failure.problem.params) from None
        except Exception as error:
            log.error(
                "rendering %s failed: %s", document.key, type(error).__name__
            )  # no values: personal data
            raise DocumentFailed(document, type(error).__name__) from error
        if data.pdf:
            files.write_part(pdf_path.name, fixed_pdf(self._convert(document, docx)))
        files.write_part(docx_path.name, docx)

    def _convert(self, document: contents.Document, docx: bytes) -> bytes:
        """The PDF of a document; a busy, missing or stuck converter gets one more try."""
        try:
            try:
                return self.pdf().convert(docx)
            except TRANSIENT:
                return self.pdf().convert(docx)
        except ConversionError as error:
            raise DocumentFailed(document, type(error).__name__) from error


def new_pack_job(
    session: Session, user: Principal, backend: str, order: Order, jobs_dir: Path, key: str | None = None
) -> Job:
    """A queued pack job for ``order``, its input written to the job folder, the order audited."""
    number = order.request["number"]
    totals = order.request["totals"]
    return new_job(
        session,
        user,
        kind=PackJob.name,
        backend=backend,
        data=canonical(order.raw),
        sha256=order.sha256,
        jobs_dir=jobs_dir,
        title=number,
        result_name=safe_member_name(f"Kompensacijas pieprasijums {number}.zip"),
        detail={
            "lines": totals["lines"],
            "clients": totals["clients"],
            **{key: str(totals[key]) for key in ("amount", "esf", "state")},
        },
        key=key,
    )


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
        "made_with": {
            "settings_version": data.settings.version if data.settings else None,
            "templates": {
                name: data.templates[name].number if name in data.templates else None
                for name in KINDS_IN_PACK
            },
        },
    }
