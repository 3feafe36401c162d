"""Deterministic, streamed ZIP archives for reimbursement packs.

:func:`safe_member_name` turns arbitrary titles (client names, periods) into member names that are safe on
every platform that may unpack the pack. :class:`PackWriter` writes the ZIP member by member, hashing the
bytes as they are streamed, and appends ``manifest.json`` last. The same members in the same order give a
byte-identical ZIP: every member has a fixed timestamp, fixed permissions, ``create_system`` 3 (Unix),
DEFLATE at a fixed level, no extra fields and no comments. Members that are compressed already are stored:
ZIP packages (DOCX, XLSX: deflating them again took a third of the pack's archiving for about 6 % of their
size) and PDFs (the pack's are written with compressed object streams, :mod:`service.packs.fixed_pdf`:
deflating them again gains 1–5 % for most of the archiving's time).

Writing to a path goes to a temporary file next to the target, renamed into place only when the ``with``
block ends normally; if it raises, the temporary file is removed and the target is left as it was. The file
is created with mode 0600 (packs hold personal data). Writing to a binary file object is possible (e.g. a
streamed response); then the caller owns the stream and must discard it on failure: a failed pack has no
``manifest.json``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from service.files import safe_file_name

__all__ = ["MANIFEST_NAME", "DuplicateMember", "Member", "PackWriter", "safe_member_name"]

MANIFEST_NAME = "manifest.json"
MAX_PART_LENGTH = 100
CHUNK_SIZE = 1 << 20
COMPRESS_LEVEL = 6
#: members compressed already (ZIP packages, PDFs), stored as they are
STORED_SUFFIXES = (".docx", ".xlsx", ".zip", ".pdf")
DEFAULT_DATE_TIME = (1980, 1, 1, 0, 0, 0)


def safe_member_name(*parts: str) -> str:
    """A ZIP member name from path parts, safe whatever the parts contain.

    Latvian (and other) letters are folded to ASCII; digits, ASCII letters, ``-``, ``_`` and ``.`` are
    kept and every other run of characters becomes one ``-``. A part never starts or ends with ``.`` or
    ``-``, never contains ``..`` or ``/``, is at most 100 characters (keeping a short extension), is never
    a Windows device name and is never empty. Parts are joined with ``/``. (The rules are
    ``service.files.safe_file_name``'s, the one for every file name the service makes: format characters
    such as U+202E are dropped.)

    >>> safe_member_name("Ēriks Gailītis", "akts-2020-09.pdf")
    'Eriks-Gailitis/akts-2020-09.pdf'
    >>> safe_member_name("ĀČĒĢĪĶĻŅŠŪŽ āčēģīķļņšūž")
    'ACEGIKLNSUZ-acegiklnsuz'
    >>> safe_member_name("../../etc/passwd")
    'etc-passwd'
    >>> safe_member_name("/abs/path", "..", ".hidden")
    'abs-path/_/hidden'
    >>> safe_member_name('=HYPERLINK("http://evil/?x")')
    'HYPERLINK-http-evil-x'
    >>> safe_member_name("CON"), safe_member_name("nul.pdf"), safe_member_name("COM1")
    ('_CON', '_nul.pdf', '_COM1')
    >>> safe_member_name("Anna 😀 Bērziņa"), safe_member_name("😀")
    ('Anna-Berzina', '_')
    >>> safe_member_name("Akts 1\\u202efdp.exe"), safe_member_name("Z\\u200bX")
    ('Akts-1fdp.exe', 'ZX')
    >>> safe_member_name("a\\x00b"), safe_member_name("\\x00"), safe_member_name("")
    ('a-b', '_', '_')
    >>> safe_member_name("C:\\\\Windows\\\\system32")
    'C-Windows-system32'
    >>> len(safe_member_name("x" * 500 + ".pdf")), safe_member_name("x" * 500 + ".pdf")[-6:]
    (100, 'xx.pdf')
    """
    if not parts:
        raise ValueError("a member name needs at least one part")
    return "/".join(
        safe_file_name(part, ascii_only=True, max_length=MAX_PART_LENGTH, empty="_") for part in parts
    )


class DuplicateMember(ValueError):
    """A member name was already written (compared case-insensitively, as Windows and macOS unpack)."""


@dataclass(frozen=True)
class Member:
    name: str
    sha256: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not allowed in a pack manifest")


def _date_time(value: dt.date | tuple[int, int, int, int, int, int] | None) -> tuple[int, ...]:
    if value is None:
        return DEFAULT_DATE_TIME
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None)
        result: tuple[int, ...] = (value.year, value.month, value.day, value.hour, value.minute, value.second)
    elif isinstance(value, dt.date):
        result = (value.year, value.month, value.day, 0, 0, 0)
    else:
        result = tuple(value)
    dt.datetime(*result)  # validates
    if not 1980 <= result[0] <= 2107:
        raise ValueError(f"a ZIP timestamp must be in 1980–2107, not {result[0]}")
    return result


class PackWriter:
    """Write a deterministic ZIP, member by member, with ``manifest.json`` last.

    >>> import io, zipfile
    >>> buffer = io.BytesIO()
    >>> with PackWriter(buffer, manifest={"generator": "veidlapas 0.1.0"}) as pack:
    ...     member = pack.add("a.txt", b"hello")
    ...     [m.size for m in pack.members]
    [5]
    >>> zipfile.ZipFile(buffer).namelist()
    ['a.txt', 'manifest.json']

    ``target`` is a path (written atomically) or a binary file object (written in place, left open).
    ``date_time`` is every member's timestamp (a date such as the pack period's last day, or a ZIP
    6-tuple); ``manifest`` is merged into ``manifest.json`` beside ``files`` (``Decimal`` and dates are
    written as strings, floats should not be used for money).
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | IO[bytes],
        *,
        date_time: dt.date | tuple[int, int, int, int, int, int] | None = None,
        manifest: Mapping[str, Any] | None = None,
        compresslevel: int = COMPRESS_LEVEL,
    ) -> None:
        self._date_time = _date_time(date_time)
        self._extra = dict(manifest or {})
        if "files" in self._extra:
            raise ValueError("'files' in the manifest is written by PackWriter")
        self._compresslevel = compresslevel
        self._path: Path | None = None
        self._stream: IO[bytes] | None = None
        if isinstance(target, str | os.PathLike):
            self._path = Path(target)
        else:
            self._stream = target
        self._tmp: Path | None = None
        self._fp: IO[bytes] | None = None
        self._zip: zipfile.ZipFile | None = None
        self._members: list[Member] = []
        self._seen: set[str] = set()
        self._manifest: dict[str, Any] | None = None

    # -- context management ------------------------------------------------------------------------------

    def __enter__(self) -> PackWriter:
        if self._zip is not None:
            raise RuntimeError("PackWriter is already open")
        if self._path is not None:
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=f".{self._path.name}.", suffix=".tmp")
            self._tmp = Path(tmp)
            self._fp = os.fdopen(fd, "w+b")
            stream: IO[bytes] = self._fp
        else:
            assert self._stream is not None
            stream = self._stream
        try:
            self._zip = zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED)
        except BaseException:
            self._discard()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._discard()

    def close(self) -> None:
        """Write ``manifest.json``, finish the ZIP and (for a path) move it into place."""
        zf = self._require_open()
        try:
            manifest = {**self._extra, "files": [m.as_dict() for m in self._members]}
            text = json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=2, default=_json_default)
            self._write(MANIFEST_NAME, [(text + "\n").encode("utf-8")])
            zf.comment = b""
            zf.close()
            self._zip = None
            if self._fp is not None:
                self._fp.flush()
                os.fsync(self._fp.fileno())
                self._fp.close()
                self._fp = None
                assert self._tmp is not None and self._path is not None
                os.replace(self._tmp, self._path)
                self._tmp = None
            self._manifest = manifest
        except BaseException:
            self._discard()
            raise

    def _discard(self) -> None:
        """Abandon the pack: close everything and remove the temporary file (the target is untouched)."""
        zf, self._zip = self._zip, None
        if zf is not None and self._fp is not None:
            zf.fp = None  # the temporary file is removed below: write no ZIP directory into it
        if zf is not None:
            # A caller's stream is finished without a manifest; the pack is abandoned anyway.
            with contextlib.suppress(Exception):
                zf.close()
        if self._fp is not None:
            self._fp.close()
            self._fp = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    # -- members ---------------------------------------------------------------------------------------

    @property
    def members(self) -> list[Member]:
        """The members written so far, in order (without the manifest)."""
        return list(self._members)

    @property
    def manifest(self) -> dict[str, Any] | None:
        """The manifest written on close (``None`` before)."""
        return self._manifest

    def add(self, name: str, data: bytes) -> Member:
        """Add a member from bytes."""
        self._check_name(name)
        return self._add(name, [bytes(data)], size=len(data))

    def add_file(self, name: str, path: str | os.PathLike[str]) -> Member:
        """Add a member from a file on disk, streamed in chunks."""
        self._check_name(name)
        with open(path, "rb") as source:
            size = os.fstat(source.fileno()).st_size
            return self._add(name, iter(lambda: source.read(CHUNK_SIZE), b""), size=size)

    def add_stream(self, name: str, source: IO[bytes], size: int | None = None) -> Member:
        """Add a member from a binary stream read to its end in chunks (``size`` if known: ZIP64 choice)."""
        self._check_name(name)
        return self._add(name, iter(lambda: source.read(CHUNK_SIZE), b""), size=size)

    def _add(self, name: str, chunks: Iterable[bytes], size: int | None) -> Member:
        member = self._write(name, chunks, size)
        self._members.append(member)
        self._seen.add(name.casefold())
        return member

    def _check_name(self, name: str) -> None:
        self._require_open()
        if not isinstance(name, str) or not name:
            raise ValueError("a member name must be a non-empty string")
        if any(part != safe_member_name(part) for part in name.split("/")):
            raise ValueError(f"unsafe member name {name!r}: build it with safe_member_name()")
        if name == MANIFEST_NAME:
            raise ValueError(f"{MANIFEST_NAME} is written by PackWriter")
        if name.casefold() in self._seen:
            raise DuplicateMember(f"member {name!r} is already in the pack")

    def _write(self, name: str, chunks: Iterable[bytes], size: int | None = None) -> Member:
        zf = self._require_open()
        info = zipfile.ZipInfo(name, date_time=self._date_time)  # type: ignore[arg-type]
        if name.lower().endswith(STORED_SUFFIXES):
            info.compress_type = zipfile.ZIP_STORED
        else:
            info.compress_type = zipfile.ZIP_DEFLATED
            info._compresslevel = self._compresslevel  # type: ignore[attr-defined]  # 3.13: compress_level
        info.create_system = 3
        info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
        info.file_size = size or 0
        digest = hashlib.sha256()
        written = 0
        with zf.open(info, "w", force_zip64=size is None) as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
                written += len(chunk)
        if size is not None and written != size:
            raise ValueError(f"{name}: expected {size} bytes, read {written}")
        return Member(name, digest.hexdigest(), written)

    def _require_open(self) -> zipfile.ZipFile:
        if self._zip is None:
            raise RuntimeError("PackWriter is not open: use it in a with block")
        return self._zip
