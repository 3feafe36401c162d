"""A long DOCX converted to PDF in pieces, so that LibreOffice's memory and time follow a piece, not the
document.

One soffice laying out a 12 850-row request peaked at 1.1 GiB; its memory follows what one document holds.
So a rendered DOCX whose tables print more than ``piece_rows`` rows is cut, between the body's top-level
elements, into piece DOCX files of at most about ``piece_rows`` table rows each (every other package member
copied unchanged, the final ``w:sectPr`` at the end of every piece), each converted alone and the PDFs
merged with :class:`~service.packs.pdf_writer.StreamingPdfWriter`.

- **Where it cuts.** Only before a table, and before the paragraphs that lead up to it since the previous
  table (a heading stays with its table, a separator paragraph begins the next page as it would have). A
  piece begins a new page. An element larger than the bound stays whole in its piece (a municipality's
  template with one big table converts as one piece, as before). Only the document's last section is cut:
  a piece ends with the final ``w:sectPr``, which is right only there. Word's own numbering (a list,
  footnotes) that runs across a cut starts again in the next piece; the standard request prints its row
  numbers from the data and cuts only between tables.
- **Page numbers.** Each piece is converted with its page numbers starting where the previous piece's
  PDF ended (``w:pgNumType w:start`` in its ``w:sectPr``; a different first page, ``w:titlePg``, only in
  the first piece). When a header or footer prints the page count (``NUMPAGES``, as the standard
  request's "Lapa X no Y" does), the pieces are first only laid out and their pages counted
  (:meth:`ConversionPool.pages`), and every ``NUMPAGES`` field of their headers and footers is replaced by
  the whole document's count: the price is a second load of each piece. (A ``NUMPAGES`` in the body
  itself would print its piece's count.)
- **The PDF.** The pieces' pages in order, the outline (bookmarks) of each piece pointing at its pages,
  the title of the first piece, no dates or random identifiers (:func:`~service.packs.fixed_pdf.fix_file`).
  Like ``pack.pdf`` it is untagged: the pieces' structure trees are not merged.
- **Streaming.** ``word/document.xml`` is never held whole: an expat pass over the compressed member
  finds the top-level elements' byte ranges and rows (expat reports each tag's byte offset, which neither
  lxml's ``iterparse`` nor ``ElementTree`` does), a second copies each piece's ranges to its own file. What
  stays in memory is a few numbers per top-level element, and one piece at a time.

The pieces live in a temporary folder removed afterwards; the PDF is written atomically, so a failure in
any piece leaves no PDF.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

import pikepdf
from lxml import etree

from service.documents.pdf import ConversionFailed, ConversionPool
from service.files import atomic_file
from service.packs.fixed_pdf import fix_file
from service.packs.merge import PRODUCER
from service.packs.pdf_writer import Bookmark, StreamingPdfWriter

__all__ = ["Element", "Split", "convert_in_pieces", "plan_pieces", "split_docx"]

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DOCUMENT = "word/document.xml"
_RELATIONSHIPS = "word/_rels/document.xml.rels"
_HEADER_FOOTER = re.compile(r"/(header|footer)$")
_CHUNK = 1 << 16
#: What follows ``w:pgNumType`` in a ``w:sectPr`` (ECMA-376 CT_SectPr), so a new one goes before these.
_AFTER_PAGE_NUMBERS = (
    "cols",
    "formProt",
    "vAlign",
    "noEndnote",
    "titlePg",
    "textDirection",
    "bidi",
    "rtlGutter",
    "docGrid",
    "printerSettings",
    "sectPrChange",
)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


@dataclass(frozen=True)
class Element:
    """One child of the body: its byte range in ``word/document.xml``, its kind, the table rows it holds
    and whether it ends a section (a paragraph holding a ``w:sectPr``)."""

    start: int
    end: int
    kind: str  # "tbl", "p", "sectPr", …
    rows: int = 0
    breaks_section: bool = False


def _scan(docx: Path) -> tuple[list[Element], int]:
    """The body's children, and the byte offset of ``</w:body>``, in one streaming expat pass."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    found: list[tuple[int, str, int, bool]] = []
    depth = 0
    body_end = -1
    rows = 0
    breaks = False

    def start(name: str, _attributes: dict) -> None:
        nonlocal depth, rows, breaks
        depth += 1
        local = name.rpartition(" ")[2]
        if depth == 3:
            found.append((parser.CurrentByteIndex, local, 0, False))
            rows, breaks = 0, False
        elif depth > 3:
            rows += local == "tr"
            breaks = breaks or (local == "sectPr" and found[-1][1] == "p")

    def end(_name: str) -> None:
        nonlocal depth, body_end
        if depth == 3:
            offset, local, _, _ = found[-1]
            found[-1] = (offset, local, rows, breaks)
        elif depth == 2:
            body_end = parser.CurrentByteIndex
        depth -= 1

    def no_doctype(*_args: object) -> None:
        raise ValueError("a DOCX part has a DOCTYPE")

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.StartDoctypeDeclHandler = no_doctype
    with zipfile.ZipFile(docx) as package, package.open(DOCUMENT) as source:
        parser.ParseFile(source)
    if body_end < 0:
        raise ValueError("word/document.xml has no body")
    ends = [offset for offset, *_ in found[1:]] + [body_end]
    return [Element(o, e, k, r, b) for (o, k, r, b), e in zip(found, ends, strict=True)], body_end


def plan_pieces(elements: Sequence[Element], piece_rows: int) -> list[range]:
    """The pieces as ranges of ``elements`` (the body's children but its final ``w:sectPr``), each of at
    most ``piece_rows`` table rows unless one unit alone holds more.

    A unit is a table with the elements since the previous table before it; the elements after the last
    table join the last unit; nothing before the last section break is cut.

    >>> p, t = Element(0, 0, "p"), Element(0, 0, "tbl", rows=200)
    >>> plan_pieces([p, t, p, t, p, t, p], 400)
    [range(0, 4), range(4, 7)]
    """
    if piece_rows < 1:
        raise ValueError("piece_rows must be ≥ 1")
    last_break = max((index for index, e in enumerate(elements) if e.breaks_section), default=-1)
    units: list[range] = []
    begin = 0
    for index, element in enumerate(elements):
        if element.kind == "tbl" and index > last_break:
            units.append(range(begin, index + 1))
            begin = index + 1
    if begin < len(elements):
        if units:
            units[-1] = range(units[-1].start, len(elements))
        else:
            units.append(range(begin, len(elements)))
    pieces: list[range] = []
    rows = 0
    for unit in units:
        unit_rows = sum(elements[index].rows for index in unit)
        if not pieces or (rows and rows + unit_rows > piece_rows):
            pieces.append(unit)
            rows = unit_rows
        else:
            pieces[-1] = range(pieces[-1].start, unit.stop)
            rows += unit_rows
    return pieces


class Split:
    """A DOCX cut into pieces in ``folder``: each piece's body as a file, and what every piece shares."""

    def __init__(self, docx: Path, folder: Path, piece_rows: int) -> None:
        self.docx = docx
        elements, body_end = _scan(docx)
        final = elements[-1] if elements and elements[-1].kind == "sectPr" else None
        content = elements[:-1] if final else elements
        self.pieces = plan_pieces(content, piece_rows) if content else [range(0)]
        self.rows = [sum(content[i].rows for i in piece) for piece in self.pieces]
        first = content[0].start if content else (final.start if final else body_end)
        with zipfile.ZipFile(docx) as package, package.open(DOCUMENT) as source:
            self.prefix = source.read(first)
            position = first
            self.bodies: list[Path] = []
            for index, piece in enumerate(self.pieces):
                stop = content[piece.stop - 1].end if len(piece) else position
                self.bodies.append(folder / f"body-{index}.xml")
                with open(self.bodies[-1], "wb") as out:
                    _copy(source, out, stop - position)
                position = stop
            self.section = source.read(final.end - position) if final else b""
            self.suffix = source.read()
        self.parts = _headers_and_footers(docx)
        with zipfile.ZipFile(docx) as package:
            names = set(package.namelist())
            #: Whether a header or footer prints the page count (without it no piece needs counting first).
            self.prints_total = any(
                re.search(rb"(?i)numpages", package.read(name)) for name in self.parts if name in names
            )

    def __len__(self) -> int:
        return len(self.pieces)

    def piece(self, index: int, start: int | None = None, total: int | None = None) -> bytes:
        """Piece ``index`` as a DOCX: its page numbers from ``start`` (as the document's own when None)
        and ``total`` in place of every NUMPAGES field of its headers and footers (left when None)."""
        numbered = start is not None
        section = _numbered_section(self.prefix, self.section, start, index > 0) if numbered else self.section
        out = io.BytesIO()  # one piece: bounded by the piece's rows
        with zipfile.ZipFile(self.docx) as package, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as piece:
            for info in package.infolist():
                if info.filename == DOCUMENT:
                    with piece.open(info.filename, "w", force_zip64=True) as target:
                        target.write(self.prefix)
                        with open(self.bodies[index], "rb") as body:
                            shutil.copyfileobj(body, target, _CHUNK)
                        target.write(section + self.suffix)
                elif total is not None and info.filename in self.parts:
                    piece.writestr(info, _with_total(package.read(info), total))
                else:
                    piece.writestr(info, package.read(info))
        return out.getvalue()


def split_docx(docx: Path, folder: Path, piece_rows: int) -> Split:
    """``docx`` cut into pieces of about ``piece_rows`` table rows, their bodies written into ``folder``."""
    return Split(docx, folder, piece_rows)


def _copy(source, out, size: int) -> None:
    while size > 0:
        chunk = source.read(min(_CHUNK, size))
        if not chunk:
            raise ValueError("word/document.xml ended early")
        out.write(chunk)
        size -= len(chunk)


def _headers_and_footers(docx: Path) -> set[str]:
    """The package names of the document's header and footer parts (from its relationships)."""
    with zipfile.ZipFile(docx) as package:
        try:
            root = etree.fromstring(package.read(_RELATIONSHIPS), _PARSER)
        except KeyError:
            return set()
    found = set()
    for relation in root:
        target = relation.get("Target", "")
        if _HEADER_FOOTER.search(relation.get("Type", "")) and relation.get("TargetMode") != "External":
            found.add(target.lstrip("/") if target.startswith("/") else f"word/{target}")
    return found


def _numbered_section(prefix: bytes, section: bytes, start: int, later: bool) -> bytes:
    """The final ``w:sectPr`` with its page numbers starting at ``start``; in a later piece without a
    different first page."""
    root = etree.fromstring(prefix + section + b"</w:body></w:document>", _PARSER)
    sect = root.find(f"{_w('body')}/{_w('sectPr')}")
    if sect is None:
        return section
    if later:
        for title_page in sect.findall(_w("titlePg")):
            sect.remove(title_page)
    numbers = sect.find(_w("pgNumType"))
    if numbers is None:
        numbers = etree.Element(_w("pgNumType"))
        following = next(
            (child for child in sect if etree.QName(child).localname in _AFTER_PAGE_NUMBERS), None
        )
        if following is None:
            sect.append(numbers)
        else:
            following.addprevious(numbers)
    numbers.set(_w("start"), str(start))
    tail = sect.tail or ""
    sect.tail = None
    return etree.tostring(sect) + tail.encode()


def _with_total(part: bytes, total: int) -> bytes:
    """A header or footer part with every NUMPAGES field (simple or complex) replaced by ``total``."""
    root = etree.fromstring(part, _PARSER)
    changed = False
    for simple in list(root.iter(_w("fldSimple"))):
        if _is_numpages(simple.get(_w("instr"), "")):
            runs = simple.findall(_w("r"))
            simple.addprevious(_text_run(runs[0] if runs else None, total))
            simple.getparent().remove(simple)
            changed = True
    for paragraph in root.iter(_w("p")):
        runs = list(paragraph.iter(_w("r")))
        index = 0
        while index < len(runs):
            if _field_char(runs[index]) != "begin":
                index += 1
                continue
            end = next((j for j in range(index, len(runs)) if _field_char(runs[j]) == "end"), None)
            if end is None:
                break
            field = runs[index : end + 1]
            instruction = "".join(
                text for run in field for text in run.xpath("w:instrText/text()", namespaces={"w": W})
            )
            nested = sum(_field_char(run) == "begin" for run in field) > 1
            if _is_numpages(instruction) and not nested:
                field[0].addprevious(_text_run(field[0], total))
                for run in field:
                    run.getparent().remove(run)
                changed = True
            index = end + 1
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True) if changed else part


def _is_numpages(instruction: str) -> bool:
    words = instruction.split()
    return bool(words) and words[0].upper() == "NUMPAGES"


def _field_char(run: etree._Element) -> str | None:
    char = run.find(_w("fldChar"))
    return None if char is None else char.get(_w("fldCharType"))


def _text_run(like: etree._Element | None, total: int) -> etree._Element:
    """A run printing ``total`` with the formatting of ``like``."""
    run = etree.Element(_w("r"))
    properties = like.find(_w("rPr")) if like is not None else None
    if properties is not None:
        run.append(etree.fromstring(etree.tostring(properties)))
    etree.SubElement(run, _w("t")).text = str(total)
    return run


# --- the conversion -------------------------------------------------------------------------------------


def convert_in_pieces(
    pool: ConversionPool, docx: Path, pdf: Path, timeout_s: Callable[[int], float], piece_rows: int
) -> int:
    """Convert the DOCX file ``docx`` into the PDF file ``pdf`` (written atomically), in pieces of about
    ``piece_rows`` table rows when it has more; ``timeout_s(rows)`` bounds the count and the conversion of
    a piece (or of the whole document when it is not cut) printing ``rows`` table rows. The number of
    pieces; a :class:`~service.documents.pdf.ConversionError` of any piece fails it all, leaving no
    ``pdf``."""
    with tempfile.TemporaryDirectory(prefix="veidlapas-pieces-") as folder:
        work = Path(folder)
        try:
            split = split_docx(docx, work, piece_rows)
        except (expat.ExpatError, ValueError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as error:
            raise ConversionFailed(f"the document could not be cut into pieces: {error}") from None
        title = None
        if len(split) == 1:
            converted = work / "whole.pdf"
            converted.write_bytes(pool.convert(docx.read_bytes(), timeout_s=timeout_s(split.rows[0])))
        else:
            limits = [timeout_s(rows) for rows in split.rows]
            total = None
            if split.prints_total:  # every piece's pages first, for NUMPAGES
                total = sum(
                    pool.pages(split.piece(index), timeout_s=limits[index]) for index in range(len(split))
                )
            start = _first_page(split)
            sources = []
            for index, limit in enumerate(limits):
                sources.append(work / f"piece-{index}.pdf")
                piece = split.piece(index, start if index else None, total)
                sources[-1].write_bytes(pool.convert(piece, timeout_s=limit))
                with pikepdf.open(sources[-1]) as printed:
                    start += len(printed.pages)
            converted = work / "merged.pdf"
            title = _merge(sources, converted)
        fix_file(converted, work / "final.pdf", title)
        with atomic_file(pdf) as out, open(work / "final.pdf", "rb") as finished:
            shutil.copyfileobj(finished, out, _CHUNK)
        return len(split)


def _first_page(split: Split) -> int:
    """The number the document's own pages start from (``w:pgNumType w:start``, else 1)."""
    match = re.search(rb"<w:pgNumType\b[^>]*\bw:start=\"(\d+)\"", split.section)
    return int(match.group(1)) if match else 1


def _merge(sources: Sequence[Path], target: Path) -> str | None:
    """The pieces' pages and outlines into ``target``; the first piece's title."""
    bookmarks: list[Bookmark] = []
    title = None
    with open(target, "wb") as out:
        writer = StreamingPdfWriter(out)
        for index, source in enumerate(sources):
            with pikepdf.open(source) as piece:
                if index == 0 and "/Info" in piece.trailer and "/Title" in piece.docinfo:
                    title = str(piece.docinfo.Title)
                pages = {page.objgen: number for number, page in enumerate(piece.pages)}
                outline = _outline(piece, pages)
                first = writer.append(piece)
            base = len(bookmarks)
            bookmarks += [
                Bookmark(text, None if parent is None else base + parent, first + page)
                for text, parent, page in outline
            ]
        writer.close(bookmarks, bytes(16), PRODUCER)  # fix_file gives it its identifier
    return title


def _outline(pdf: pikepdf.Pdf, pages: dict) -> list[tuple[str, int | None, int]]:
    """A piece's outline as (title, parent index, page index), parents first; items with no page left out
    (with their children)."""
    found: list[tuple[str, int | None, int]] = []
    with pdf.open_outline() as outline:
        todo = [(item, None) for item in reversed(outline.root)]
        while todo:
            item, parent = todo.pop()
            page = _page_of(item, pages)
            if page is None:
                continue
            found.append((str(item.title), parent, page))
            todo += [(child, len(found) - 1) for child in reversed(item.children)]
    return found


def _page_of(item: pikepdf.OutlineItem, pages: dict) -> int | None:
    destination = item.destination
    if destination is None and item.action is not None and "/D" in item.action:
        destination = item.action.D
    if (
        isinstance(destination, pikepdf.Array)
        and len(destination)
        and isinstance(destination[0], pikepdf.Dictionary)
    ):
        return pages.get(destination[0].objgen)
    return None
