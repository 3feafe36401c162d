"""A PDF written as it is assembled: pages copied from one source at a time, the document closed at the end.

No library merges PDFs as a stream: pypdf's ``PdfWriter`` and qpdf (pikepdf) both hold the whole output and
keep every source open until they write (qpdf reads a foreign object only when it saves, so a merge of more
than 1 024 files also runs out of file descriptors). So this module writes the file itself; qpdf, through
pikepdf, still does all the reading and the serialising of each object.

For each source :meth:`StreamingPdfWriter.append` walks the objects its pages reach (never the page tree,
the catalog or the structure tree), gives each a new number in the order it meets them, rewrites the
references in qpdf's serialisation of the object and writes it out at once, stream data copied raw (never
decoded or recompressed). Between sources it keeps only the offsets of the objects written, the numbers of
the pages, and the hashes of the last few thousand objects written (an identical font, image or colour
profile in a later source is written once). :meth:`StreamingPdfWriter.close` writes the page tree (one
``/Pages`` node), the outline, the catalog, the document information, the cross-reference table and the
trailer.

A page keeps what it draws and shows: its contents, resources, boxes, rotation and annotations (qpdf
copies the attributes a page inherits from its page tree nodes onto the page as it reads the tree).
Dropped with each source's catalog: its outline, structure tree (tagging), ``/AcroForm`` (form fields;
widgets stay as annotations with their appearances), named destinations, ``/OutputIntents``, metadata and
document information. The output is plain PDF 1.7: no object or cross-reference streams.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

import pikepdf

__all__ = ["Bookmark", "StreamingPdfWriter"]

_HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
_CATALOG, _PAGES, _INFO = 1, 2, 3
#: How many written objects are remembered for reuse by a later, identical one.
_REMEMBERED = 4096
#: Page entries that belong to the source document, not to the page.
_DROPPED_PAGE_KEYS = ("/Parent", "/B", "/StructParents", "/Metadata", "/PieceInfo")
_LENGTH = pikepdf.Name("/Length")
_XREF_BATCH = 4096
#: In qpdf's serialisation a literal string has its parentheses escaped, so this alternation never sees a
#: reference inside a string.
_TOKENS = re.compile(rb"\((?:[^\\()]|\\.)*\)|(?<=[ \[])(\d+) (\d+) R(?=[ \]>/]|$)", re.DOTALL)


@dataclass(frozen=True)
class Bookmark:
    """An outline entry: its title, the index of its parent bookmark (None at the top) and its page."""

    title: str
    parent: int | None
    page: int


class _Source:
    """One source's renumbering: source object (number, generation) → output number, or None (dropped)."""

    def __init__(self, writer: StreamingPdfWriter, pdf: pikepdf.Pdf) -> None:
        self.writer, self.pdf = writer, pdf
        self.numbers: dict[tuple[int, int], int | None] = {}
        self.visiting: set[tuple[int, int]] = set()
        self.chunks: list[bytes] = []
        self.size = 0  # of the chunks

    def place(self, key: tuple[int, int]) -> int | None:
        """The output number of a source object, writing it (and what it refers to) first if new."""
        if key in self.numbers:
            return self.numbers[key]
        if key in self.visiting:  # a cycle: the object needs its number before it is written
            number = self.numbers[key] = self.writer.new_number()
            return number
        obj = self.pdf.get_object(key)
        if obj is None:
            self.numbers[key] = None
            return None
        self.visiting.add(key)
        body, data = _serialised(obj)
        body = self.renumbered(body)
        self.visiting.discard(key)
        number = self.numbers.get(key)
        if number is None:  # not in a cycle: an identical object written before will do
            number, new = self.writer.number_for(body, data)
            self.numbers[key] = number
            if not new:
                return number
        self.emit(number, body, data)
        return number

    def renumbered(self, body: bytes) -> bytes:
        """``body`` with each reference to a source object replaced by one to its output number."""
        if b" R" not in body:
            return body
        if b"(" in body:  # a literal string might hold " R": the tokenising way
            return _TOKENS.sub(self._replaced, body)
        # Outside strings qpdf writes " R" only to end a reference ("12 0 R"), so split there.
        pieces = body.split(b" R")
        out = []
        for piece in pieces[:-1]:
            head, number, generation = piece.rsplit(b" ", 2)
            target = self.place((int(number), int(generation)))
            out.append(head + (b" null" if target is None else b" %d 0 R" % target))
        out.append(pieces[-1])
        return b"".join(out)

    def _replaced(self, match: re.Match[bytes]) -> bytes:
        if match.group(1) is None:
            return match.group(0)  # a string
        target = self.place((int(match.group(1)), int(match.group(2))))
        return b"null" if target is None else b"%d 0 R" % target

    def emit(self, number: int, body: bytes, data: bytes | None) -> None:
        self.writer.offsets[number] = self.writer.position + self.size
        start = b"%d 0 obj\n" % number
        end = b"\nendobj\n" if data is None else b"\nstream\n" + data + b"\nendstream\nendobj\n"
        self.chunks += (start, body, end)
        self.size += len(start) + len(body) + len(end)


def _serialised(obj: object) -> tuple[bytes, bytes | None]:
    """qpdf's serialisation of an object (a stream's dictionary, with its raw data and a direct /Length)."""
    if isinstance(obj, pikepdf.Stream):
        data = obj.read_raw_bytes()
        obj.stream_dict[_LENGTH] = len(data)
        return obj.stream_dict.unparse(resolved=True), data
    if isinstance(obj, pikepdf.Object):
        return obj.unparse(resolved=True), None
    return pikepdf.Array([obj]).unparse()[2:-2], None  # an indirect number, boolean or null


def _text(title: str) -> bytes:
    """A PDF text string: literal for printable ASCII, UTF-16BE with a byte order mark otherwise."""
    if title.isascii() and title.isprintable():
        return (
            b"("
            + title.encode("ascii").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
            + b")"
        )
    return b"<feff" + title.encode("utf-16-be").hex().encode("ascii") + b">"


class StreamingPdfWriter:
    """Writes a PDF to ``out`` (positioned at its start) as sources are appended; :meth:`close` ends it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.position = 0
        self.offsets = array("Q", [0, 0, 0, 0])
        self.pages = array("Q")
        self._remembered: OrderedDict[bytes, int] = OrderedDict()
        self._write([_HEADER])

    def new_number(self) -> int:
        self.offsets.append(0)
        return len(self.offsets) - 1

    def number_for(self, body: bytes, data: bytes | None) -> tuple[int, bool]:
        """The number of an identical object among the last ones written, or a new number (and True)."""
        key = body if data is None and len(body) < 256 else _digest(body, data)
        number = self._remembered.get(key)
        if number is not None:
            self._remembered.move_to_end(key)
            return number, False
        number = self._remembered[key] = self.new_number()
        if len(self._remembered) > _REMEMBERED:
            self._remembered.popitem(last=False)
        return number, True

    def append(self, pdf: pikepdf.Pdf) -> int:
        """Copy every page of ``pdf`` (in order) to the output; the index of the first one copied."""
        first = len(self.pages)
        source = _Source(self, pdf)
        pages = [page.obj for page in pdf.pages]
        for key in (pdf.Root.objgen, *_page_tree_nodes(pdf, pages)):
            source.numbers[key] = None  # never copied: a reference to them becomes null
        for page in pages:
            source.numbers[page.objgen] = self.new_number()
        for page in pages:
            for name in _DROPPED_PAGE_KEYS:
                if name in page:
                    del page[name]
            number = source.numbers[page.objgen]
            assert number is not None
            body = source.renumbered(page.unparse(resolved=True))
            source.emit(number, b"<< /Parent %d 0 R " % _PAGES + body.removeprefix(b"<< "), None)
            self.pages.append(number)
        self._write(source.chunks)
        return first

    def close(self, bookmarks: Sequence[Bookmark], identifier: bytes, producer: str) -> None:
        """Write the page tree, the outline (closed parents), the catalog, the document information, the
        cross-reference table and the trailer."""

        def emit(number: int, body: bytes) -> None:  # the file object buffers the small writes
            self.offsets[number] = self.position
            self._write((b"%d 0 obj\n" % number, body, b"\nendobj\n"))

        kids = b" ".join(b"%d 0 R" % number for number in self.pages)
        emit(_PAGES, b"<< /Type /Pages /Count %d /Kids [ %s ] >>" % (len(self.pages), kids))
        catalog = b"<< /Type /Catalog /Pages %d 0 R /PageMode /UseOutlines" % _PAGES
        if bookmarks:
            root = self.new_number()
            numbers = [self.new_number() for _ in bookmarks]
            children: list[list[int]] = [[] for _ in bookmarks]
            top: list[int] = []
            for index, bookmark in enumerate(bookmarks):
                (top if bookmark.parent is None else children[bookmark.parent]).append(index)
            emit(root, b"<< /Type /Outlines %s /Count %d >>" % (_ends(top, numbers), len(top)))
            for siblings in (top, *children):
                for place, index in enumerate(siblings):
                    bookmark = bookmarks[index]
                    parent = root if bookmark.parent is None else numbers[bookmark.parent]
                    entry = [b"<< /Title %s /Parent %d 0 R" % (_text(bookmark.title), parent)]
                    if place:
                        entry.append(b"/Prev %d 0 R" % numbers[siblings[place - 1]])
                    if place + 1 < len(siblings):
                        entry.append(b"/Next %d 0 R" % numbers[siblings[place + 1]])
                    if kids := children[index]:
                        entry.append(b"%s /Count -%d" % (_ends(kids, numbers), len(kids)))
                    entry.append(b"/Dest [ %d 0 R /Fit ] >>" % self.pages[bookmark.page])
                    emit(numbers[index], b" ".join(entry))
            catalog += b" /Outlines %d 0 R" % root
        emit(_CATALOG, catalog + b" >>")
        emit(_INFO, b"<< /Producer %s >>" % _text(producer))

        start, size = self.position, len(self.offsets)
        self._write((b"xref\n0 %d\n0000000000 65535 f \n" % size,))
        for first in range(1, size, _XREF_BATCH):
            self._write(
                [b"%010d 00000 n \n" % offset for offset in self.offsets[first : first + _XREF_BATCH]]
            )
        hexed = identifier.hex().encode("ascii")
        trailer = b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [ <%s> <%s> ] >>\n" % (
            size,
            _CATALOG,
            _INFO,
            hexed,
            hexed,
        )
        self._write((trailer, b"startxref\n%d\n%%%%EOF\n" % start))

    def _write(self, chunks: Sequence[bytes]) -> None:
        data = b"".join(chunks)
        self.out.write(data)
        self.position += len(data)


def _digest(body: bytes, data: bytes | None) -> bytes:
    digest = hashlib.sha256(body)
    if data is not None:
        digest.update(b"\0stream\0")
        digest.update(data)
    return digest.digest()


def _ends(indexes: Sequence[int], numbers: Sequence[int]) -> bytes:
    return b"/First %d 0 R /Last %d 0 R" % (numbers[indexes[0]], numbers[indexes[-1]])


def _page_tree_nodes(pdf: pikepdf.Pdf, pages: Sequence[pikepdf.Dictionary]) -> set[tuple[int, int]]:
    """The source's /Pages nodes: every ancestor of a page (bounded, whatever loops a file holds)."""
    nodes = {pdf.Root.Pages.objgen}
    for page in pages:
        node = page.get("/Parent")
        for _ in range(64):
            if not isinstance(node, pikepdf.Dictionary) or node.objgen in nodes:
                break
            nodes.add(node.objgen)
            node = node.get("/Parent")
    return nodes
