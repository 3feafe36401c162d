"""Merge a pack's PDFs into one ``pack.pdf`` with a bookmark per part, byte for byte reproducibly, in memory
that does not follow the pack's size.

The parts are read one at a time (qpdf, through pikepdf) and their pages written out at once by
:class:`~service.packs.pdf_writer.StreamingPdfWriter` — no library merges as a stream (see there). Only one
source is open at any moment, so a pack of 10 000 parts neither fills the memory nor runs out of file
descriptors; what stays in memory is a few numbers per page and per bookmark.

Determinism: objects are numbered in the order they are met, part by part in the order given, and qpdf
serialises each one the same way every time; ``/ID`` is both halves of the first 16 bytes of a SHA-256
over the titles and the input bytes, so the same input gives the same identifier and a different input a
different one; the document information is ``/Producer (Veidlapas)`` only, and nothing is copied from the
inputs' catalogs (no ``/Info``, XMP metadata, outlines or structure trees), so no dates leak in.

The output is written to a temporary file next to ``target`` and renamed into place, so a failure leaves no
partial file. What a page keeps and what is dropped: :mod:`service.packs.pdf_writer`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

import pikepdf

from service.files import atomic_file
from service.packs.pdf_writer import Bookmark, StreamingPdfWriter

__all__ = ["PRODUCER", "merge_pdfs"]

PRODUCER = "Veidlapas"
_CHUNK = 1 << 20

Part = tuple[Sequence[str], bytes | Path]


class _Identifier:
    """16 bytes identifying the merge: every title path and every input's SHA-256, length-prefixed."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256(b"veidlapas-pack-pdf\0")

    def _feed(self, data: bytes) -> None:
        self.digest.update(len(data).to_bytes(8, "big"))
        self.digest.update(data)

    def add(self, titles: Sequence[str], source: bytes | Path) -> None:
        self.digest.update(len(titles).to_bytes(4, "big"))
        for title in titles:
            self._feed(title.encode("utf-8"))
        content = hashlib.sha256()  # the same for bytes and for a file holding them
        if isinstance(source, Path):
            with open(source, "rb") as handle:
                for chunk in iter(lambda: handle.read(_CHUNK), b""):
                    content.update(chunk)
        else:
            content.update(source)
        self._feed(content.digest())

    def value(self) -> bytes:
        return self.digest.digest()[:16]


def _bookmark(
    stack: list[tuple[str, int]], bookmarks: list[Bookmark], titles: Sequence[str], page: int
) -> None:
    """Add a part's bookmarks: the levels its path shares with the previous part's (all but its last
    title) are that part's; each new level points at ``page``. ``stack`` holds the previous part's path as
    (title, bookmark index) for each level."""
    shared = 0
    while shared < len(titles) - 1 and shared < len(stack) and stack[shared][0] == titles[shared]:
        shared += 1
    del stack[shared:]
    for title in titles[shared:]:
        bookmarks.append(Bookmark(title, stack[-1][1] if stack else None, page))
        stack.append((title, len(bookmarks) - 1))


def _encodable(title: str) -> bool:
    """Whether a title is text a PDF can hold (no lone surrogate)."""
    try:
        title.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def merge_pdfs(parts: Sequence[Part], target: Path) -> None:
    """Append each part's PDF in order to ``target`` and add a bookmark hierarchy from the title paths.

    A part's title path is its bookmark's place: ``["Pieprasījums"]`` is a top-level bookmark,
    ``["Klients 1 — 150385-12346", "Akts 2020-09"]`` a bookmark under "Klients 1 …". Consecutive parts
    share the parent bookmarks they have in common (a part whose whole path equals the next part's parent
    becomes that parent). Every bookmark points to the first page of its part (a parent to the first page
    of the first part under it); parents start collapsed. A part with no pages, or that is not a PDF, is a
    ValueError naming its titles.
    """
    if not parts:
        raise ValueError("nothing to merge")
    for titles, _ in parts:
        if not titles or any(not isinstance(t, str) or not t.strip() or not _encodable(t) for t in titles):
            raise ValueError(f"a part needs a non-empty title path, not {titles!r}")

    identifier = _Identifier()
    bookmarks: list[Bookmark] = []
    stack: list[tuple[str, int]] = []
    with atomic_file(Path(target)) as out:
        writer = StreamingPdfWriter(out)
        for titles, source in parts:
            identifier.add(titles, source)
            try:
                pdf = pikepdf.open(source if isinstance(source, Path) else BytesIO(source))
            except pikepdf.PdfError as error:
                raise ValueError(f"{' / '.join(titles)}: not a readable PDF") from error
            with pdf:
                if len(pdf.pages) == 0:
                    raise ValueError(f"{' / '.join(titles)}: the PDF has no pages")
                if pdf.is_encrypted:
                    raise ValueError(f"{' / '.join(titles)}: the PDF is encrypted")
                try:
                    first = writer.append(pdf)
                except RecursionError:
                    raise ValueError(f"{' / '.join(titles)}: the PDF's objects nest too deeply") from None
            _bookmark(stack, bookmarks, titles, first)
        writer.close(bookmarks, identifier.value(), PRODUCER)
        out.flush()
        os.fsync(out.fileno())
