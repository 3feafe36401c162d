"""What an uploaded file passes before any parser reads it, under one set of limits, and a safe way to run
the parser.

Every upload is checked here: a filled form (PDF or DOCX), a table of delivery lines (an XLSX; a CSV is
plain text, only its size is checked here), and what comes later (a municipality's templates, signed
copies). The limits are one :class:`UploadLimits`, built from the ``VEIDLAPAS_*`` settings by
``service.config.upload_limits``; where a reader legitimately needs a bigger number it is a named field
(an XLSX of 150 000 rows unpacks to far more than a form: ``UploadLimits.for_tables``).

An upload goes through, in this order (``check`` does steps 1–3 for a form):

1. ``check_size`` — the byte count against ``max_bytes``;
2. ``sniff`` — the real type from the bytes (never the file name or the Content-Type): ``"pdf"`` or
   ``"docx"``;
3. ``inspect_pdf`` / ``inspect_package`` — cheap structural checks that decompress nothing big: a PDF
   has its header and its ``%%EOF``; an OOXML package (``inspect_package(data, limits, main_type=…,
   refuse_external=…)``; ``inspect_docx`` for a Word form) has its ZIP directory read
   (``ZipFile.infolist()``) for entries, unpacked sizes, ratios, member names, encrypted members and
   macros, its main part's content type checked, and only small XML read for external relationships
   and DOCTYPEs;
4. the parser itself, in a child process (a :class:`Worker`) with a wall-clock timeout, a CPU limit, an
   address-space limit and pypdf's own limits lowered to what a form needs (``PYPDF_LIMITS``):
   ``run_limited(parse, data)`` starts one for one file; uploaded forms are read in the warm pool of
   them in :mod:`service.forms.parsers`.

Every refusal is an ``UploadRejected``: its ``code`` names a message of ``schemas.errors.MESSAGES`` (the
one catalogue; ``problem`` is the coded problem ``service.i18n`` translates like any other) and its
``detail`` says what exactly was found, for logs and tests, without quoting the document.

>>> sniff(b"%PDF-1.7\\n...")
'pdf'
>>> try:
...     sniff(b"<!DOCTYPE html><title>form.pdf</title>")
... except UploadRejected as exc:
...     print(exc.code, "-", exc.problem)
upload.unknown_type - The file is neither a PDF nor a Word (DOCX) document.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import math
import multiprocessing
import multiprocessing.connection
import pickle
import re
import resource
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

from lxml import etree

from schemas.errors import MESSAGES, Problem, problem
from service import forking
from service.config import DEFAULT_LIMITS, MiB, UploadLimits


class UploadRejected(ValueError):
    """An upload refused. ``code`` names its message in ``schemas.errors.MESSAGES``; ``detail`` says, for
    logs and tests, what exactly was found (sizes, a member's name; never the document's content)."""

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in MESSAGES:  # a code without a message would reach a user untranslated
            raise ValueError(f"{code!r} has no message in schemas.errors.MESSAGES")
        self.code = code
        self.detail = detail
        super().__init__(code, detail)

    @property
    def problem(self) -> Problem:
        """The refusal as a coded problem, translated like any other (``service.i18n.translate``)."""
        return problem(self.code)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code

    def __reduce__(self) -> tuple:
        return (UploadRejected, (self.code, self.detail))


class ParseTimeout(UploadRejected):
    """The parser ran longer than its wall-clock timeout; the child was killed."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("upload.parse_timeout", detail)

    def __reduce__(self) -> tuple:
        return (ParseTimeout, (self.detail,))


class ParseLimit(UploadRejected):
    """The parser ran out of memory under its limit, hit one of pypdf's limits, or the child was killed."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("upload.parse_limit", detail)

    def __reduce__(self) -> tuple:
        return (ParseLimit, (self.detail,))


class ParseRejected(UploadRejected):
    """The parser refused the document with a code of its own (e.g. ``form.encrypted``) or could not
    read it (``upload.unreadable``); ``details`` holds the simple attributes of the child's exception."""

    def __init__(self, code: str, detail: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(code, detail)
        self.details = dict(details or {})

    def __reduce__(self) -> tuple:
        return (ParseRejected, (self.code, self.detail, self.details))


# --- size and type -------------------------------------------------------------------------------

PDF_HEADER_WINDOW = 1024  # readers accept the %PDF- header anywhere in the first 1024 bytes
PDF_EOF_WINDOW = 1024  # ... and look for %%EOF in the last 1024 bytes
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CONTENT_TYPES = "[Content_Types].xml"
PROLOG_LIMIT = 64 * 1024  # how much of any other XML part we read to find its DOCTYPE, if any
RATIO_FLOOR = 1 * MiB  # compression ratios count only for entries (and totals) above this size

_SAFE_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
)


def check_size(data: bytes, limit: int) -> None:
    """Refuse more than ``limit`` bytes (``upload.too_large``)."""
    if len(data) > limit:
        raise UploadRejected("upload.too_large", f"{len(data)} bytes, the limit is {limit}")


def sniff(data: bytes, limits: UploadLimits = DEFAULT_LIMITS) -> str:
    """``"pdf"`` or ``"docx"``, judged from the bytes alone; anything else is refused."""
    if not data:
        raise UploadRejected("upload.empty")
    if data.startswith(b"PK\x03\x04"):
        with _open_zip(data) as package:
            if any(_is_macro_name(info.filename) for info in package.infolist()):
                raise UploadRejected("upload.macro_document", "the package holds a VBA project")
            _check_types(package, limits, WORD_MAIN)
        return "docx"
    if b"%PDF-" in data[:PDF_HEADER_WINDOW]:
        return "pdf"
    raise UploadRejected("upload.unknown_type")


def check(data: bytes, limits: UploadLimits = DEFAULT_LIMITS) -> str:
    """Every check before parsing a form, in order; its type (``"pdf"`` or ``"docx"``) when all pass."""
    check_size(data, limits.max_bytes)
    kind = sniff(data, limits)
    if kind == "pdf":
        inspect_pdf(data)
    else:
        inspect_docx(data, limits)
    return kind


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise UploadRejected("upload.corrupt", f"not a readable ZIP: {type(exc).__name__}") from None


def _check_types(package: zipfile.ZipFile, limits: UploadLimits, main_type: str) -> list[tuple[str, str]]:
    """The content types the package declares; refused when one is macro-enabled, or when no part of the
    package is declared ``main_type``."""
    names = {info.filename.casefold() for info in package.infolist()}
    info = next((i for i in package.infolist() if i.filename.casefold() == CONTENT_TYPES.casefold()), None)
    if info is None:
        raise UploadRejected("upload.unknown_type", "a ZIP without [Content_Types].xml")
    types = _content_types(package, info, limits.max_xml_part)
    if any(_is_macro_type(content_type) for _, content_type in types):
        raise UploadRejected("upload.macro_document", "a macro-enabled content type is declared")
    if not any(kind == main_type and part.lstrip("/").casefold() in names for part, kind in types):
        raise UploadRejected("upload.unknown_type", f"a ZIP package without a {main_type} part")
    return types


def _content_types(package: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> list[tuple[str, str]]:
    """(part name or "*.extension", content type) of every Override and Default."""
    root = _read_xml(package, info, limit)
    found = []
    for element in root.iter(etree.Element):
        local = etree.QName(element).localname
        if local == "Override":
            found.append((element.get("PartName", ""), element.get("ContentType", "").strip()))
        elif local == "Default":
            found.append(("*." + element.get("Extension", ""), element.get("ContentType", "").strip()))
    return found


def _is_macro_name(name: str) -> bool:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].casefold()
    return base.startswith("vbaproject") or base == "vbadata.xml"


def _is_macro_type(content_type: str) -> bool:
    lowered = content_type.casefold()
    return "macroenabled" in lowered or "vbaproject" in lowered or "vbadata" in lowered


# --- OOXML packages (DOCX, XLSX) -----------------------------------------------------------------


def inspect_package(data: bytes, limits: UploadLimits, *, main_type: str, refuse_external: bool) -> None:
    """Refuse an OOXML package whose main part is not ``main_type``, or that is unsafe to hand to a parser.

    Reads the ZIP directory and small XML only. The sizes are the ones the ZIP directory declares;
    Python's ``zipfile`` never inflates an entry beyond its declared size (it stops there and fails the
    CRC check), so a parser built on it (python-docx, openpyxl, our own readers) cannot be made to
    inflate more than ``limits.max_unpacked`` bytes by a lying directory. ``refuse_external`` refuses
    relationships to external targets (a remote template, picture or link), which an editor opening
    the file would follow; a reader that never follows one (openpyxl in read-only mode) may leave them.
    """
    with _open_zip(data) as package:
        infos = package.infolist()
        if len(infos) > limits.max_entries:
            raise UploadRejected(
                "upload.too_many_entries", f"{len(infos)} entries, at most {limits.max_entries}"
            )
        _check_entries(infos, len(data), limits)
        types = _check_types(package, limits, main_type)
        if refuse_external:
            for info in infos:
                if info.filename.casefold().endswith(".rels"):
                    _check_relationships(info.filename, _read_xml(package, info, limits.max_xml_part))
        xml_parts = _xml_parts(types)
        for info in infos:
            name = info.filename.casefold()
            if not info.is_dir() and (name in xml_parts or "*." + name.rsplit(".", 1)[-1] in xml_parts):
                _check_prolog(package, info)


def inspect_docx(data: bytes, limits: UploadLimits = DEFAULT_LIMITS) -> None:
    """``inspect_package`` for a Word form: a WordprocessingML main document, no external targets."""
    inspect_package(data, limits, main_type=WORD_MAIN, refuse_external=True)


def _xml_parts(types: list[tuple[str, str]]) -> set[str]:
    """Part names ("word/document.xml") and extensions ("*.xml") that hold XML, by name or content type."""
    parts = {"*.xml", "*.rels"}
    for part, content_type in types:
        lowered = content_type.casefold().split(";")[0].strip()
        if lowered.endswith(("+xml", "/xml")):
            parts.add(part.lstrip("/").casefold() if not part.startswith("*.") else part.casefold())
    return parts


def _check_entries(infos: list[zipfile.ZipInfo], size: int, limits: UploadLimits) -> None:
    seen: set[str] = set()
    total = 0
    for info in infos:
        if _bad_member_name(info.orig_filename) or info.filename.casefold() in seen:
            raise UploadRejected("upload.bad_member_name", f"member name {info.orig_filename[:100]!r}")
        seen.add(info.filename.casefold())
        if _is_macro_name(info.filename):
            raise UploadRejected("upload.macro_document", "the package holds a VBA project")
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UploadRejected("upload.corrupt", "an encrypted member or an unusual compression method")
        if info.header_offset + info.compress_size > size:
            raise UploadRejected("upload.corrupt", "a member ends beyond the end of the file (truncated)")
        total += info.file_size
        if total > limits.max_unpacked:
            raise UploadRejected("upload.zip_bomb", f"unpacks to more than {limits.max_unpacked} bytes")
        if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UploadRejected(
                "upload.zip_bomb", f"a member compressed {info.file_size // max(info.compress_size, 1)}:1"
            )
        if info.file_size > limits.max_part:
            raise UploadRejected(
                "upload.too_large", f"the part {info.filename[:100]!r} unpacks to {info.file_size} bytes"
            )
    if total > RATIO_FLOOR and total > limits.max_ratio * size:
        raise UploadRejected("upload.zip_bomb", f"the package compressed {total // size}:1")


_DRIVE = re.compile(r"^[A-Za-z]:")


def _bad_member_name(name: str) -> bool:
    """Names a package never needs and extractors may misuse: absolute, ``..``, ``\\``, drives, control
    characters (NUL included), empty or ``.`` segments."""
    if not name or len(name) > 1024 or "\\" in name or name.startswith("/") or _DRIVE.match(name):
        return True
    if any(ord(char) < 32 or char == "\x7f" for char in name):
        return True
    segments = name[:-1].split("/") if name.endswith("/") else name.split("/")
    return any(segment in ("", ".", "..") for segment in segments)


def _read_member(package: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    try:
        with package.open(info) as member:
            return member.read(limit)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        raise UploadRejected("upload.corrupt", f"the part {info.filename[:100]!r} cannot be read") from None


def _read_xml(package: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> etree._Element:
    """A small XML part (at most ``limit`` bytes), parsed safely; a DOCTYPE refused before and after."""
    if info.file_size > limit:
        raise UploadRejected(
            "upload.too_large", f"the part {info.filename[:100]!r} is {info.file_size} bytes"
        )
    raw = _read_member(package, info, limit + 1)
    if _doctype_in_prolog(raw, final=True):
        raise UploadRejected("upload.doctype", f"a DOCTYPE in {info.filename[:100]!r}")
    try:
        root = etree.fromstring(raw, _SAFE_XML)
    except (etree.XMLSyntaxError, ValueError):
        raise UploadRejected("upload.corrupt", f"the part {info.filename[:100]!r} is not XML") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UploadRejected("upload.doctype", f"a DOCTYPE in {info.filename[:100]!r}")
    return root


def _check_relationships(name: str, root: etree._Element) -> None:
    for element in root.iter(etree.Element):
        if (element.get("TargetMode") or "").strip().casefold() == "external":
            raise UploadRejected("upload.external_target", f"an external relationship in {name[:100]!r}")


def _check_prolog(package: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Read only the start of an XML part, up to its root element, to refuse a DOCTYPE."""
    raw = _read_member(package, info, PROLOG_LIMIT)
    verdict = _doctype_in_prolog(raw, final=len(raw) < PROLOG_LIMIT)
    if verdict is None:
        raise UploadRejected(
            "upload.corrupt", f"no root element in the first bytes of {info.filename[:100]!r}"
        )
    if verdict:
        raise UploadRejected("upload.doctype", f"a DOCTYPE in {info.filename[:100]!r}")


_PROLOG = re.compile(r"\s*(?:(?:<\?.*?\?>|<!--.*?-->)\s*)*", re.DOTALL)


def _doctype_in_prolog(raw: bytes, *, final: bool) -> bool | None:
    """True when a markup declaration (``<!DOCTYPE``, ``<!ENTITY``) comes before the root element,
    False when the root element comes first (or the part is not XML at all: the parser will say so),
    None when ``raw`` ends inside the prolog and it is not ``final``."""
    text = _decode_start(raw)
    rest = text[_PROLOG.match(text).end() :]
    if "<!--".startswith(rest) or rest.startswith(("<?", "<!--")):  # cut off inside the prolog
        return False if final else None
    return rest.startswith("<!")


def _decode_start(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"<\x00")):
        return raw[: len(raw) // 2 * 2].decode("utf-16-le", "replace").lstrip("\ufeff")
    elif raw.startswith((b"\xfe\xff", b"\x00<")):
        return raw[: len(raw) // 2 * 2].decode("utf-16-be", "replace").lstrip("\ufeff")
    return raw.decode("utf-8", "replace")


# --- PDF -----------------------------------------------------------------------------------------


def inspect_pdf(data: bytes) -> None:
    """Byte-level checks before pypdf: the header in the first 1024 bytes, ``%%EOF`` in the last 1024
    (a PDF cut off during upload has none); everything deeper is the parser's, under ``run_limited``."""
    if not data:
        raise UploadRejected("upload.empty")
    if b"%PDF-" not in data[:PDF_HEADER_WINDOW]:
        raise UploadRejected("upload.unknown_type", "no %PDF- header")
    if b"%%EOF" not in data[-PDF_EOF_WINDOW:]:
        raise UploadRejected("upload.corrupt", "no %%EOF at the end: the file is truncated")


# --- running the parser in a child process -------------------------------------------------------

# pypdf's limits in the child, lowered from pypdf 7's defaults (75 MB per stream and the like) to what
# a filled form needs. pypdf 7 reads them from ``pypdf.Configuration``; the old module constants
# (``pypdf.filters.ZLIB_MAX_OUTPUT_LENGTH``, ...) are removed: changing one makes every PdfReader
# raise DeprecationError.
PYPDF_LIMITS: dict[str, Any] = {
    "maximum_declared_stream_length": 20_000_000,
    "array_based_stream_maximum_output_length": 20_000_000,
    "zlib_maximum_output_length": 20_000_000,
    "zlib_maximum_recovery_input_length": 5_000_000,
    "lzw_maximum_output_length": 20_000_000,
    "run_length_maximum_output_length": 20_000_000,
    "brotli_maximum_output_length": 20_000_000,
    "jbig2_maximum_output_length": 20_000_000,
    "image_maximum_buffer_size": 20_000_000,
    "stream_decoding_work_maximum_length": 100_000_000,
    "xfa_decoding_work_maximum_length": 20_000_000,
    "xmp_maximum_input_length": 1_000_000,
    "array_maximum_element_count": 100_000,
    "dictionary_maximum_element_count": 10_000,
    "page_tree_maximum_entries": 10_000,
    "page_tree_maximum_depth": 50,
    "form_fields_maximum_entries": 10_000,
    "form_fields_maximum_depth": 50,
    "outline_maximum_entries": 10_000,
    "named_destinations_maximum_entries": 10_000,
    "jbig2dec_binary": None,  # never run an external decoder on an upload
}

# Children are forked from the service's one fork server (service.forking), which imports this module,
# pypdf, pikepdf and both form readers when it starts, so a child starts in milliseconds.
_READERS = ("service.forms.pdf_form", "service.forms.docx_form")
_GRACE_S = 1.0  # after a result arrived, how long the child may take to exit before it is killed


def run_limited(
    function: Callable[[bytes], Any],
    data: bytes,
    *,
    timeout_s: float = DEFAULT_LIMITS.parse_timeout_s,
    memory_bytes: int = DEFAULT_LIMITS.parse_memory_bytes,
) -> Any:
    """``function(data)`` in a child process of its own with a wall-clock timeout and an address-space
    limit (a form upload runs in a warm one of :mod:`service.forms.parsers`, under the same limits).

    ``function`` must be a module-level function (it is pickled by reference), or a ``functools.partial``
    of one with picklable arguments, and its result must be picklable. Raises ``ParseTimeout`` (killed
    after ``timeout_s``), ``ParseLimit`` (MemoryError under ``memory_bytes``, a pypdf limit, or a child
    that died), ``ParseRejected`` with the child's exception's ``code`` (e.g. ``form.encrypted``) or
    ``upload.unreadable`` for any other exception.
    """
    payload = pickled(function)
    worker = Worker(memory_bytes, cpu_budget_s(timeout_s, 1))
    try:
        outcome = worker.run(payload, data, timeout_s)
    finally:
        worker.stop()
    return result(outcome)


def pickled(function: Callable[[bytes], Any]) -> bytes:
    """``function`` as the child receives it; a ``TypeError`` for anything but a module-level function."""
    try:
        return pickle.dumps(function)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TypeError(f"run_limited needs a module-level function, not {function!r}") from exc


def cpu_budget_s(timeout_s: float, files: int) -> int:
    """The CPU seconds a child may use in its life (its hard ``RLIMIT_CPU``): each file's timeout and a
    second, plus a second to start."""
    return files * (math.ceil(timeout_s) + 1) + 1


class WorkerGone(ParseLimit):
    """The child was gone before it was sent the file (not the file's doing: a pool tries another)."""

    def __reduce__(self) -> tuple:
        return (WorkerGone, (self.detail,))


class Worker:
    """One limited parser process: forked from the fork server, its limits set once (``RLIMIT_AS`` at
    ``memory_bytes``, ``RLIMIT_CPU`` at ``cpu_budget_s`` in all, core dumps off, pypdf's limits lowered),
    it parses the files sent to it one at a time until its pipe is closed. Each file has a wall-clock
    ``timeout_s`` (the child is killed past it) and a CPU allowance of that and a second."""

    def __init__(self, memory_bytes: int, cpu_budget_s: int, name: str = "veidlapas-upload-parser") -> None:
        forker = forking.context(__name__, "pypdf", "pikepdf", *_READERS)
        self._connection, child = forker.Pipe(duplex=True)
        self.process = forker.Process(
            target=_serve, args=(child, memory_bytes, cpu_budget_s), name=name, daemon=True
        )
        self.files = 0
        self._busy = False  # a file sent and no outcome back: stopping kills at once
        try:
            self.process.start()
        finally:
            child.close()

    def run(self, payload: bytes, data: bytes, timeout_s: float) -> tuple:
        """The child's outcome of one file (see :func:`result`). Raises ``ParseTimeout`` or ``ParseLimit``
        (the child died), after which the worker must be stopped."""
        self._busy = True
        try:
            self._connection.send((payload, data, timeout_s))
        except (OSError, ValueError):
            raise WorkerGone(f"the parser was gone (exit code {self.process.exitcode})") from None
        ready = multiprocessing.connection.wait([self._connection, self.process.sentinel], timeout_s)
        if not ready:
            raise ParseTimeout(f"no result within {timeout_s} s")
        try:
            outcome = self._connection.recv() if self._connection.poll() else None
        except (EOFError, OSError):
            outcome = None
        if outcome is None:
            self.process.join(_GRACE_S)
            raise ParseLimit(f"the parser died (exit code {self.process.exitcode})")
        self._busy = False
        self.files += 1
        return outcome

    def resident_bytes(self) -> int:
        """The child's resident memory now (0 where ``/proc`` cannot tell)."""
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * resource.getpagesize()
        except (OSError, ValueError, IndexError):
            return 0

    def stop(self) -> None:
        """Close the pipe (an idle child then exits by itself), kill the child if it has not — at once when
        it was still busy with a file (timed out) — and reap it."""
        self._connection.close()
        if self.process.pid is None:
            return
        self.process.join(0 if self._busy else _GRACE_S)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.process.close()


def result(outcome: tuple) -> Any:
    """The value of a child's outcome, or its refusal raised."""
    status = outcome[0]
    if status == "ok":
        return outcome[1]
    if status == "crash":  # the function could not even be loaded in the child: our bug, not the upload's
        raise RuntimeError(f"run_limited: the child could not load the function: {outcome[1]}")
    _, code, detail, details = outcome
    if code == "upload.parse_limit":
        raise ParseLimit(detail)
    if code == "upload.parse_timeout":
        raise ParseTimeout(detail)
    raise ParseRejected(code, detail, details)


def _serve(connection: Any, memory_bytes: int, cpu_budget_s: int) -> None:
    """The child's side: limits first, then each file sent, every outcome sent back as a plain tuple."""
    try:
        _prepare_child(memory_bytes, cpu_budget_s)
        failure = None
    except BaseException as exc:
        failure = f"{type(exc).__name__}: {exc}"
    while True:
        try:
            payload, data, timeout_s = connection.recv()
        except (EOFError, OSError):
            break
        try:
            if failure:
                raise RuntimeError(failure)
            _allow_cpu(timeout_s)
            function = pickle.loads(payload)
        except BaseException as exc:
            connection.send(("crash", f"{type(exc).__name__}: {exc}"))
            continue
        _answer(connection, function, data)
        del data
    connection.close()


def _answer(connection: Any, function: Callable[[bytes], Any], data: bytes) -> None:
    try:
        outcome: tuple = ("ok", function(data))
    except MemoryError:
        outcome = ("error", "upload.parse_limit", "out of memory under the limit", {})
    except BaseException as exc:
        outcome = _describe(exc)
    try:
        connection.send(outcome)
    except MemoryError:
        connection.send(("error", "upload.parse_limit", "out of memory sending the result", {}))
    except Exception as exc:
        connection.send(
            ("error", "upload.unreadable", f"the result could not be sent: {type(exc).__name__}", {})
        )


def _describe(exc: BaseException) -> tuple:
    """An exception of the child as ("error", code, detail, details), all picklable and small."""
    from pypdf.errors import LimitReachedError

    if isinstance(exc, LimitReachedError):
        return ("error", "upload.parse_limit", f"pypdf: {str(exc)[:300]}", {})
    # A code coming back (e.g. the forms module's "form.encrypted") must be one of the catalogue's;
    # exceptions with other ``code`` attributes (lxml's int codes, HTTPError's status) carry none.
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code in MESSAGES:
        details = {
            key: value
            for key, value in vars(exc).items()
            if key not in ("code", "detail") and isinstance(value, str | int | float | bool | type(None))
        }
        detail = exc.detail if isinstance(exc, UploadRejected) else str(exc)
        return ("error", code, detail[:500], details)
    # Other messages can quote the document; only the exception's type goes back.
    return ("error", "upload.unreadable", f"{type(exc).__name__} while parsing", {})


def _prepare_child(memory_bytes: int, cpu_budget_s: int) -> None:
    import pypdf

    known = {field.name for field in dataclasses.fields(pypdf.Configuration)}
    pypdf.overwrite_configuration(**{name: value for name, value in PYPDF_LIMITS.items() if name in known})
    pdf_log = logging.getLogger("pypdf")  # warnings about the document go nowhere, not to stderr
    pdf_log.addHandler(logging.NullHandler())
    pdf_log.propagate = False
    _lower_limit(resource.RLIMIT_CORE, 0)
    # A CPU-time backstop in case the parent could not kill the child (SIGXCPU ends it).
    _lower_limit(resource.RLIMIT_CPU, cpu_budget_s)
    _lower_limit(resource.RLIMIT_AS, memory_bytes)


def _allow_cpu(timeout_s: float) -> None:
    """The soft CPU limit for the next file: what the child used so far, the file's timeout and a second
    (never above the hard limit set at the start; SIGXCPU ends a child past it)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(used.ru_utime + used.ru_stime + timeout_s) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(
        resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
    )


def _lower_limit(which: int, value: int) -> None:
    """Set soft and hard limit to ``value``, never above the current hard limit (a child cannot raise it)."""
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))
