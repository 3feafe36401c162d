"""The delivery act as a fillable PDF (AcroForm), and reading a filled one back.

Making (:func:`make_pdf_form`): **reportlab** draws the A4 pages, walking the sections of
:data:`service.forms.layout.PAGES` (every word and field comes from there; this module only knows
where on the page each kind of section goes), with DejaVu Sans embedded for any Unicode text; **pikepdf** then
adds the AcroForm: the field hierarchy (names in :mod:`service.forms.fields`), one widget per field
with its appearance stream, and the agreement as an embedded JSON file. Reportlab's own ``acroForm``
only knows the 14 standard fonts (no Latvian letters), and pypdf has no public API to add fields.

The font for the fields is the crux. Another program regenerates a field's appearance with the font
named in its ``/DA`` and found in ``/AcroForm /DR``, so that font must (1) contain every Latvian
letter, (2) be a simple font a filler can encode text for, with (3) the right widths. Here it is a
TrueType subset of DejaVu Sans holding every character of Windows-1257 (Latvian, Lithuanian, Estonian,
Polish letters, WinAnsi punctuation, €), declared ``/WinAnsiEncoding`` with ``/Differences`` naming
the Baltic glyphs (``/amacron`` …) and ``/Widths`` from the font itself, plus a (3,1) Unicode cmap and a
``/ToUnicode`` map. A Type0/Identity-H font would cover more, but pdftk, qpdf and pypdf cannot encode
new values with it; pypdf's own choice (a cp1257 Helvetica) shows gaps after Š and Č because
Helvetica's widths are WinAnsi's. We write appearance streams for every field and leave
``/NeedAppearances`` unset, so viewers show exactly what we drew (pypdf#355/#2222).

Reading (:func:`read_pdf_form`) uses **pikepdf** (qpdf, in C++: about six times faster than pypdf on a
filled act of 413 fields) and reads only the document catalogue, the ``/AcroForm /Fields`` tree with
each field's ``/V`` and the agreement file, never the pages. Each string is then decoded by pypdf's own
rules (``_pypdf``), so a value reads exactly as it did when pypdf read the whole form
(``tests/test_pdf_reader.py`` compares the two). It is small and pure: bytes in, values out, a
:class:`~service.forms.fields.FormError` with a reason code for anything unusable. Run it in a limited
child process when the bytes are uploaded (:mod:`service.forms.parsers`): qpdf has no limits of its own,
so the child's memory and time limits are the bounds.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from service.forms import fields as F
from service.forms import layout as L
from service.forms import values as V
from service.forms.fields import (
    EncryptedForm,
    FormError,
    InvalidForm,
    NoFields,
    UnknownForm,
    XfaForm,
)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
#: Resource name of the field font in /DR, /DA and the appearance streams.
FIELD_FONT = "DejaVu"
#: Biggest agreement file accepted when reading.
MAX_AGREEMENT_BYTES = 1_000_000
#: Most fields walked when reading (ours has ~380).
MAX_FIELDS = 5000

PAGE_W, PAGE_H = 595.276, 841.89  # A4 in points
MARGIN = 36.0
TABLE_W = PAGE_W - 2 * MARGIN
ROW_H = L.ROW_HEIGHT
TABLE_HEAD_H = 24.0
FIELD_BG = (0.92, 0.95, 1.0)

# --- the field font -------------------------------------------------------------------------------

# Windows-1257 characters whose code differs from WinAnsi, with their Adobe Glyph List names.
_BALTIC = (
    "¨:dieresis ˇ:caron ¸:cedilla ¯:macron ˛:ogonek Ø:Oslash Ŗ:Rcommaaccent Æ:AE ø:oslash "
    "ŗ:rcommaaccent æ:ae Ą:Aogonek Į:Iogonek Ā:Amacron Ć:Cacute Ę:Eogonek Ē:Emacron Č:Ccaron "
    "Ź:Zacute Ė:Edotaccent Ģ:Gcommaaccent Ķ:Kcommaaccent Ī:Imacron Ļ:Lcommaaccent Š:Scaron "
    "Ń:Nacute Ņ:Ncommaaccent Ō:Omacron Ų:Uogonek Ł:Lslash Ś:Sacute Ū:Umacron Ż:Zdotaccent "
    "Ž:Zcaron ą:aogonek į:iogonek ā:amacron ć:cacute ę:eogonek ē:emacron č:ccaron ź:zacute "
    "ė:edotaccent ģ:gcommaaccent ķ:kcommaaccent ī:imacron ļ:lcommaaccent š:scaron ń:nacute "
    "ņ:ncommaaccent ō:omacron ų:uogonek ł:lslash ś:sacute ū:umacron ż:zdotaccent ž:zcaron ˙:dotaccent"
)
_BALTIC_NAMES = dict(pair.split(":") for pair in _BALTIC.split())


def _decode(code: int, codec: str) -> str | None:
    try:
        return bytes([code]).decode(codec)
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class FieldFont:
    """The simple TrueType font of the fields: a DejaVu Sans subset in a Windows-1257 encoding."""

    program: bytes  # the TrueType subset
    chars: tuple[str | None, ...]  # code → character
    codes: dict[str, int]  # character → code
    widths: tuple[int, ...]  # code → advance width, 1/1000 em
    differences: tuple[int | str, ...]  # PDF /Differences over WinAnsi
    ascent: float
    descent: float
    cap_height: float
    bbox: tuple[float, ...]
    stem_v: int

    def encode(self, text: str) -> bytes:
        """The font's codes for ``text``; a character it lacks becomes "?"."""
        return bytes(self.codes.get(char, 0x3F) for char in text)

    def width(self, text: str, size: float) -> float:
        return sum(self.widths[code] for code in self.encode(text)) * size / 1000


@cache
def field_font() -> FieldFont:
    """Build the field font once per process from DejaVu Sans."""
    from reportlab.pdfbase.ttfonts import TTFontFile, TTFontMaker

    face = TTFontFile(str(FONT_REGULAR))
    chars: list[str | None] = []
    for code in range(256):
        char = _decode(code, "cp1257") or _decode(code, "cp1252")
        chars.append(char if code >= 0x20 and code != 0x7F and char else None)
    subset = face.makeSubset([ord(char) if char else 0 for char in chars])
    tables = _read_tables(subset)
    glyph_of_code = struct.unpack(">256H", tables["cmap"][22 : 22 + 512])  # format 6 from code 0
    unicode_to_glyph = {ord(char): glyph_of_code[code] for code, char in enumerate(chars) if char}
    tables["cmap"] = _cmap(glyph_of_code, unicode_to_glyph)
    maker = TTFontMaker()
    for tag, data in tables.items():
        maker.add(tag, data)
    codes: dict[str, int] = {}
    for code, char in enumerate(chars):
        if char and (char not in codes or _decode(code, "cp1257") == char):
            codes[char] = code  # a character in both tables takes its Windows-1257 code
    differences: list[int | str] = []
    for code in range(0x80, 0x100):
        char = chars[code]
        if char and char != _decode(code, "cp1252"):
            differences += [code, _BALTIC_NAMES[char]]
    return FieldFont(
        program=maker.makeStream(),
        chars=tuple(chars),
        codes=codes,
        widths=tuple(round(face.charWidths.get(ord(c), face.defaultWidth)) if c else 0 for c in chars),
        differences=tuple(differences),
        ascent=face.ascent,
        descent=face.descent,
        cap_height=face.capHeight,
        bbox=tuple(face.bbox),
        stem_v=face.stemV,
    )


def _read_tables(font: bytes) -> dict[str, bytes]:
    count = struct.unpack(">H", font[4:6])[0]
    tables = {}
    for index in range(count):
        tag, _, offset, length = struct.unpack(">4sLLL", font[12 + 16 * index : 28 + 16 * index])
        tables[tag.decode("latin-1")] = font[offset : offset + length]
    return tables


def _cmap(glyph_of_code: tuple[int, ...], unicode_to_glyph: dict[int, int]) -> bytes:
    """A cmap with (1,0) code → glyph (format 6) and (3,1) Unicode → glyph (format 4)."""
    mac = struct.pack(">5H", 6, 10 + 512, 0, 0, 256) + struct.pack(">256H", *glyph_of_code)
    codes = [*sorted(unicode_to_glyph), 0xFFFF]
    segments = len(codes)
    search = 2 ** (segments.bit_length() - 1) * 2
    deltas = [(unicode_to_glyph[c] - c) % 0x10000 for c in codes[:-1]] + [1]
    win = (
        struct.pack(
            ">7H",
            4,
            16 + 8 * segments,
            0,
            2 * segments,
            search,
            search.bit_length() - 2,
            2 * segments - search,
        )
        + struct.pack(f">{segments}H", *codes)
        + b"\0\0"
        + struct.pack(f">{segments}H", *codes)
        + struct.pack(f">{segments}H", *deltas)
        + struct.pack(f">{segments}H", *([0] * segments))
    )
    header = (
        struct.pack(">2H", 0, 2) + struct.pack(">2HL", 1, 0, 20) + struct.pack(">2HL", 3, 1, 20 + len(mac))
    )
    return header + mac + win


# --- making ---------------------------------------------------------------------------------------


@dataclass
class _Widget:
    name: str
    page: int  # from 1
    rect: tuple[float, float, float, float]  # x, y, width, height
    size: float  # font size
    label: str  # the tooltip (/TU)


def make_pdf_form(act_raw: dict[str, Any]) -> bytes:
    """The delivery act as an A4 AcroForm PDF, prefilled from ``act_raw`` (its agreement printed)."""
    import pikepdf

    values = F.to_fields(act_raw)
    agreement = act_raw.get("agreement") if isinstance(act_raw.get("agreement"), dict) else {}
    pages, widgets = _draw_pages(agreement)
    pdf = pikepdf.open(io.BytesIO(pages))
    font = _font_object(pdf, field_font())
    _add_fields(pdf, font, widgets, values)
    payload = F.dump_agreement(agreement, wrapped=True).encode("utf-8")
    pdf.attachments[F.AGREEMENT_FILE] = pikepdf.AttachedFileSpec(
        pdf,
        payload,
        description=L.AGREEMENT_DESCRIPTION,
        filename=F.AGREEMENT_FILE,
        mime_type="application/json",
        relationship=pikepdf.Name.Data,
    )
    pdf.Root.Lang = pikepdf.String("lv")
    pdf.docinfo["/Title"] = pikepdf.String(f"{L.TITLE} {values['number']}".strip())
    pdf.docinfo["/Subject"] = pikepdf.String(f"veidlapas:{F.FORM_KIND}")
    out = io.BytesIO()
    pdf.save(
        out,
        compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        deterministic_id=True,
    )
    return out.getvalue()


def _font_object(pdf, font: FieldFont):
    from pikepdf import Array, Dictionary, Name, Stream

    program = Stream(pdf, font.program)
    program.Length1 = len(font.program)
    cmap = _to_unicode(font)
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=Name("/DejaVuSans"),
        Flags=32,  # non-symbolic: codes → glyph names → Unicode → the (3,1) cmap
        FontBBox=Array([round(v) for v in font.bbox]),
        ItalicAngle=0,
        Ascent=round(font.ascent),
        Descent=round(font.descent),
        CapHeight=round(font.cap_height),
        StemV=font.stem_v,
        FontFile2=pdf.make_indirect(program),
    )
    differences = Array([Name("/" + d) if isinstance(d, str) else d for d in font.differences])
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.TrueType,
            BaseFont=Name("/DejaVuSans"),
            FirstChar=32,
            LastChar=255,
            Widths=Array(list(font.widths[32:])),
            Encoding=Dictionary(
                Type=Name.Encoding, BaseEncoding=Name.WinAnsiEncoding, Differences=differences
            ),
            FontDescriptor=pdf.make_indirect(descriptor),
            ToUnicode=pdf.make_indirect(Stream(pdf, cmap)),
        )
    )


def _to_unicode(font: FieldFont) -> bytes:
    entries = [f"<{code:02X}> <{ord(char):04X}>" for code, char in enumerate(font.chars) if char]
    chunks = [entries[i : i + 100] for i in range(0, len(entries), 100)]
    body = "".join(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n" for chunk in chunks)
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n" + body + "endcmap\n"
        "CMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _add_fields(pdf, font, widgets: list[_Widget], values: dict[str, str]) -> None:
    from pikepdf import Array, Dictionary, Name, String

    metrics = field_font()
    nodes: dict[str, Any] = {}
    top = Array()
    annots: dict[int, list] = {}
    appearances: dict[tuple, Any] = {}
    for widget in widgets:
        parts = widget.name.split(".")
        parent = None
        for depth in range(1, len(parts)):
            prefix = ".".join(parts[:depth])
            if prefix not in nodes:
                node = pdf.make_indirect(Dictionary(T=String(parts[depth - 1]), Kids=Array()))
                if parent is None:
                    top.append(node)
                else:
                    node.Parent = parent
                    parent.Kids.append(node)
                nodes[prefix] = node
            parent = nodes[prefix]
        x, y, w, h = widget.rect
        value = values.get(widget.name, "")
        labels = F.choice_labels(widget.name)
        da = f"/{FIELD_FONT} {widget.size:g} Tf 0 g"
        field = Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            T=String(parts[-1]),
            TU=String(widget.label),
            Rect=Array([round(x, 2), round(y, 2), round(x + w, 2), round(y + h, 2)]),
            F=4,  # print
            P=pdf.pages[widget.page - 1].obj,
            DA=String(da),
            MK=Dictionary(BG=Array(list(FIELD_BG))),
        )
        if labels:
            field.FT = Name.Ch
            field.Ff = 1 << 17  # combo box, not editable: only the listed codes
            field.Opt = Array(
                [Array([String(""), String("")])] + [Array([String(c), String(t)]) for c, t in labels.items()]
            )
            shown = labels.get(value, value)
        else:
            field.FT = Name.Tx
            if widget.name in F.MULTILINE:
                field.Ff = 1 << 12  # multi-line
            shown = value
        if value:
            field.V = String(value)
        key = (round(w, 2), round(h, 2), shown, widget.size, widget.name in F.MULTILINE)
        if key not in appearances:  # empty cells of one column share one stream
            ap = pdf.make_stream(_appearance(metrics, *key))
            ap.Type = Name.XObject
            ap.Subtype = Name.Form
            ap.BBox = Array([0, 0, key[0], key[1]])
            ap.Resources = Dictionary(Font=Dictionary({f"/{FIELD_FONT}": font}))
            appearances[key] = ap
        field.AP = Dictionary(N=appearances[key])
        ref = pdf.make_indirect(field)
        if parent is None:
            top.append(ref)
        else:
            ref.Parent = parent
            parent.Kids.append(ref)
        annots.setdefault(widget.page, []).append(ref)
    for number, refs in annots.items():
        page = pdf.pages[number - 1]
        existing = list(page.obj.get("/Annots", Array()))
        page.obj.Annots = Array(existing + refs)
    pdf.Root.AcroForm = Dictionary(
        Fields=top,
        DA=String(f"/{FIELD_FONT} 9 Tf 0 g"),
        DR=Dictionary(Font=Dictionary({f"/{FIELD_FONT}": font})),
    )


def _wrap(font: FieldFont, text: str, width: float, size: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and font.width(candidate, size) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def _appearance(font: FieldFont, w: float, h: float, text: str, size: float, multiline: bool) -> bytes:
    """The normal appearance of a text field or combo box showing ``text``."""
    ascent, descent = font.ascent * size / 1000, font.descent * size / 1000
    ops = [f"{FIELD_BG[0]:g} {FIELD_BG[1]:g} {FIELD_BG[2]:g} rg 0 0 {w:.2f} {h:.2f} re f", "/Tx BMC", "q"]
    ops.append(f"1 1 {w - 2:.2f} {h - 2:.2f} re W n")
    if text:
        ops.append(f"BT /{FIELD_FONT} {size:g} Tf 0 g")
        if multiline:
            leading = size * 1.16
            lines = _wrap(font, text, w - 4, size)
            ops.append(f"{leading:.2f} TL 2 {h - 2 - ascent:.2f} Td")
            for index, line in enumerate(lines):
                ops.append(("" if index == 0 else "T* ") + f"<{font.encode(line).hex()}> Tj")
        else:
            line = text.replace("\n", " ")
            baseline = (h - (ascent - descent)) / 2 - descent
            ops.append(f"2 {baseline:.2f} Td <{font.encode(line).hex()}> Tj")
        ops.append("ET")
    ops += ["Q", "EMC"]
    return "\n".join(ops).encode("ascii")


# --- the pages: a renderer of layout.PAGES --------------------------------------------------------


def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT_REGULAR)))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(FONT_BOLD)))


def _height(section: L.Section) -> float:
    """The height of a section drawn below the agreement's summary, which takes the room above it."""
    if isinstance(section, L.Sessions):
        return _CAPTION_H + TABLE_HEAD_H + len(section.rows) * ROW_H
    raise ValueError(f"no room is reserved for a {type(section).__name__} below the summary")


_CAPTION_H = 20.0  # a table's caption above its heading


def _wrapped(text: str, size: float, width: float) -> list[str]:
    from reportlab.lib.utils import simpleSplit

    return simpleSplit(text, "DejaVuSans", size, width)


class _Pages:
    """Draws :data:`layout.PAGES` top-down on a reportlab canvas and collects the widgets to add."""

    def __init__(self, canvas, agreement: dict[str, Any]) -> None:
        self.c = canvas
        self.agreement = agreement
        self.widgets: list[_Widget] = []
        self.page = 0
        self.y = 0.0

    def draw(self) -> None:
        for self.page, sections in enumerate(L.PAGES, start=1):
            self.y = PAGE_H - MARGIN
            for index, section in enumerate(sections):
                self.section(section, sections[index + 1 :])
            self.label(MARGIN, 20, L.PAGE_NUMBER.format(page=self.page, pages=len(L.PAGES)))
            self.c.showPage()

    def section(self, section: L.Section, following: tuple[L.Section, ...]) -> None:
        match section:
            case L.Title(text=text):
                self.c.setFont("DejaVuSans-Bold", 15)
                self.c.drawCentredString(PAGE_W / 2, self.y - 20, text)
                self.y -= 40
            case L.Header(fields=items):
                x = MARGIN
                for item in items:
                    self.label(x, self.y, item.label)
                    self.field(item.name, x, self.y - 20, item.width, 17, 10)
                    x += item.width + 24
                self.y -= 40
            case L.Summary():
                self.summary(section, MARGIN + 10 + sum(_height(s) for s in following))
            case L.Sessions(caption=caption, rows=rows):
                self.label(MARGIN, self.y - 12, caption, 10, bold=True, gray=0)
                self.y = self.table(rows, self.y - _CAPTION_H)
            case L.Note(text=text):
                self.y -= 3
                for line in _wrapped(text, 7, TABLE_W):
                    self.y -= 9
                    self.label(MARGIN, self.y, line)
                self.y -= 12
            case L.Paragraph(field=item):
                self.y -= 12
                self.label(MARGIN, self.y, item.label, 10, bold=True, gray=0)
                self.field(item.name, MARGIN, self.y - 124, TABLE_W, 118, 9)
                self.y -= 138
            case L.Signatures():
                self.signatures(section)

    def label(self, x: float, y: float, text: str, size: float = 7, bold: bool = False, gray=0.3) -> None:
        self.c.setFillGray(gray)
        self.c.setFont("DejaVuSans-Bold" if bold else "DejaVuSans", size)
        self.c.drawString(x, y, text)
        self.c.setFillGray(0)

    def field(self, name: str, x: float, y: float, w: float, h: float, size: float) -> None:
        placed = F.FIELDS[name]
        assert placed.page == self.page, name
        self.widgets.append(_Widget(name, self.page, (x, y, w, h), size, placed.label))

    def summary(self, summary: L.Summary, bottom: float) -> None:
        """The agreement's lines down to ``bottom``; what does not fit is named by the overflow line."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        lines = V.summary_lines(self.agreement)
        head_w = 8 + max((stringWidth(head + ":", "DejaVuSans-Bold", 8.5) for head, _ in lines), default=0)
        for index, (head, text) in enumerate(lines):
            parts = _wrapped(text, 8.5, TABLE_W - head_w)
            if self.y - 11 * len(parts) < bottom:
                self.label(
                    MARGIN, self.y - 11, summary.overflow.format(count=len(lines) - index), 8.5, gray=0
                )
                break
            for number, part in enumerate(parts):
                self.y -= 11
                if number == 0 and head:
                    self.label(MARGIN, self.y, head + ":", 8.5, bold=True, gray=0)
                self.label(MARGIN + head_w, self.y, part, 8.5, gray=0)
        self.y = bottom

    def table(self, rows: range, top: float) -> float:
        """The session table's heading and ``rows`` below ``top``; returns the bottom."""
        c = self.c
        widths = L.column_widths(TABLE_W)
        c.setLineWidth(0.5)
        c.setFillGray(0.9)
        c.rect(MARGIN, top - TABLE_HEAD_H, TABLE_W, TABLE_HEAD_H, stroke=1, fill=1)
        c.setFillGray(0)
        x = MARGIN
        for column, w in zip(L.COLUMNS, widths, strict=True):
            for number, part in enumerate(column.lines):
                self.label(x + 2, top - 9 - 8 * number, part, 6.5, bold=True, gray=0)
            x += w
        y = top - TABLE_HEAD_H
        for row in rows:
            y -= ROW_H
            x = MARGIN
            for column, w in zip(L.COLUMNS, widths, strict=True):
                c.rect(x, y, w, ROW_H, stroke=1, fill=0)
                if column.kind is L.Kind.ROW_NUMBER:
                    self.label(x + 2, y + 5, f"{row + 1}.", 7, gray=0)
                else:
                    self.field(F.session_field(row, column.name), x + 1, y + 1, w - 2, ROW_H - 2, 8)
                x += w
        return y

    def signatures(self, signatures: L.Signatures) -> None:
        self.y -= 12
        self.label(MARGIN, self.y, signatures.heading, 10, bold=True, gray=0)
        gap = 16
        column = (TABLE_W - gap * (len(signatures.blocks) - 1)) / len(signatures.blocks)
        rows = max(len(block.fields) for block in signatures.blocks)
        for index, block in enumerate(signatures.blocks):
            x = MARGIN + index * (column + gap)
            yy = self.y - 18
            self.label(x, yy, block.heading, 8.5, bold=True, gray=0)
            for item in block.fields:
                yy -= 30
                self.label(x, yy + 19, item.label)
                self.field(item.name, x, yy, column, 16, 9)
            line = self.y - 18 - rows * 30 - 34
            self.c.setLineWidth(0.5)
            self.c.line(x, line, x + column, line)
            self.label(x, line - 9, signatures.line)
        self.y -= 18 + rows * 30 + 43


def _draw_pages(agreement: dict[str, Any]) -> tuple[bytes, list[_Widget]]:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    _register_fonts()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(L.TITLE)
    c.setAuthor("Veidlapas")
    pages = _Pages(c, agreement)
    pages.draw()
    c.save()
    return buffer.getvalue(), pages.widgets


# --- reading --------------------------------------------------------------------------------------


def read_pdf_form(data: bytes) -> dict[str, Any]:
    """The values of a filled form: ``{"fields": {name: value}, "agreement": {...}}``.

    Only the form's own field names are returned (others are ignored); a field without a value reads
    "". Raises :class:`EncryptedForm` (any encryption, even without a user password),
    :class:`XfaForm` (any XFA, even alongside AcroForm fields: XFA-aware editors write their values
    there), :class:`NoFields`, :class:`UnknownForm` (no agreement of ours inside) or
    :class:`InvalidForm` (not a readable PDF). ``MemoryError`` passes through for the caller that set
    the limits.
    """
    import pikepdf

    try:
        with _opened(data) as pdf:
            if pdf.is_encrypted:
                raise EncryptedForm("The PDF is encrypted; save it without a password and upload it again.")
            root = pdf.Root
            acroform = root.get("/AcroForm")
            acroform = acroform if isinstance(acroform, pikepdf.Dictionary) else None
            if (acroform is not None and acroform.get("/XFA") is not None) or _pypdf(
                root.get("/NeedsRendering")
            ):
                raise XfaForm("The PDF is an XFA form; save it as a standard (AcroForm) PDF form.")
            values = _walk(acroform)
            if not values:
                raise NoFields("The PDF has no form fields (it may have been flattened or printed to PDF).")
            agreement = _agreement(pdf)
    except pikepdf.PasswordError:
        raise EncryptedForm("The PDF is encrypted; save it without a password and upload it again.") from None
    except (FormError, MemoryError):
        raise
    except (pikepdf.PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        raise InvalidForm("The file is not a readable PDF.") from None
    known = set(F.field_names())
    return {
        "fields": {name: value for name, value in values.items() if name in known},
        "agreement": agreement,
    }


def _opened(data: bytes):
    """The PDF opened by qpdf from memory. A memory file (``memfd``) lets qpdf map it and read it in C++;
    a Python stream (``BytesIO``, where there is no memfd) makes every read a call back into Python and
    takes twice as long."""
    import pikepdf

    if not hasattr(os, "memfd_create"):
        return pikepdf.open(io.BytesIO(data))
    descriptor = os.memfd_create("veidlapas-upload", os.MFD_CLOEXEC)
    try:
        os.write(descriptor, data)
        path = f"/proc/self/fd/{descriptor}"
        if not os.path.exists(path):  # no /proc
            return pikepdf.open(io.BytesIO(data))
        return pikepdf.open(path)
    finally:
        os.close(descriptor)  # qpdf holds a descriptor of its own while the file is open


def _pypdf(value: Any) -> Any:
    """A scalar of qpdf's as the object pypdf reads from the same bytes, so that a value reads exactly as
    it did when the reader was pypdf: text strings decoded by pypdf's rules (UTF-16 with a byte-order
    mark, else PDFDocEncoding, else the bytes), names unescaped as pypdf does. An array becomes a list
    of those; a dictionary or stream where a value belongs, None."""
    import pikepdf
    from pypdf import generic

    if value is None or isinstance(value, pikepdf.Dictionary | pikepdf.Stream):
        return None
    if isinstance(value, pikepdf.String):
        return generic.create_string_object(bytes(value))
    if isinstance(value, pikepdf.Name):
        return generic.NameObject.read_from_stream(io.BytesIO(value.unparse()), _LENIENT)
    if isinstance(value, pikepdf.Array):
        return [_pypdf(item) for item in value]
    if isinstance(value, bool):
        return generic.BooleanObject(value)
    if isinstance(value, int):
        return generic.NumberObject(value)
    if isinstance(value, Decimal):
        return generic.FloatObject(str(value))
    return None


class _Lenient:
    """What pypdf's name reader asks of its document: not strict (an undecodable name is read as
    latin-1, with a warning to pypdf's logger)."""

    strict = False


_LENIENT = _Lenient()


def _node(value: Any) -> Any:
    """A dictionary of the field tree (qpdf resolves references as they are read), else None."""
    import pikepdf

    return value if isinstance(value, pikepdf.Dictionary | pikepdf.Stream) else None


def _walk(acroform: Any) -> dict[str, str]:
    """Terminal fields by fully qualified name, and their values (iterative, bounded, each node once)."""
    import pikepdf

    values: dict[str, str] = {}
    fields = acroform.get("/Fields") if acroform is not None else None
    stack = [(ref, "") for ref in reversed(fields if isinstance(fields, pikepdf.Array) else [])]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack and visited < MAX_FIELDS:
        ref, prefix = stack.pop()
        node = _node(ref)
        if node is None:
            continue
        if node.is_indirect:  # only a reference can make a cycle
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        visited += 1
        partial = _pypdf(node.get("/T"))
        if partial is None:
            continue  # a widget outside any field
        name = f"{prefix}.{partial}" if prefix else str(partial)
        kids = node.get("/Kids")
        kids = [kid for kid in kids if _node(kid) is not None] if isinstance(kids, pikepdf.Array) else []
        fields_below = [kid for kid in kids if "/T" in kid]
        if fields_below:
            stack.extend((kid, name) for kid in reversed(fields_below))
            continue
        values[name] = _value(_pypdf(node.get("/V")))
    return values


def _value(value: Any) -> str:
    from pypdf.generic import NameObject

    if isinstance(value, list):  # a multiple-choice list: its first choice
        value = value[0] if value else None
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)[1:] if isinstance(value, NameObject) else str(value)


def _agreement(pdf) -> dict[str, Any]:
    spec = pdf.attachments.get(F.AGREEMENT_FILE)
    if spec is None:
        raise UnknownForm("The PDF was not made by this service: it carries no agreement.")
    return agreement_payload(_bounded(spec.get_file().obj, MAX_AGREEMENT_BYTES + 1))


def agreement_payload(content: bytes) -> dict[str, Any]:
    """The agreement from the bytes of the form's embedded agreement file (at most one byte over the
    limit read), or :class:`UnknownForm` when it is too large, not JSON or not a delivery act's."""
    from service.jsondata import InvalidJson, parse_json

    if len(content) > MAX_AGREEMENT_BYTES:
        raise UnknownForm("The agreement inside the PDF is too large.")
    try:
        payload = parse_json(content.decode("utf-8"), max_depth=20)
    except (UnicodeDecodeError, InvalidJson):
        raise UnknownForm("The agreement inside the PDF is not readable JSON.") from None
    if not (
        isinstance(payload, dict)
        and payload.get("form") == F.FORM_KIND
        and isinstance(payload.get("agreement"), dict)
    ):
        raise UnknownForm("The PDF carries no delivery-act agreement.")
    return payload["agreement"]


def _bounded(stream, limit: int) -> bytes:
    """At most ``limit`` bytes of a stream's content: one Flate stream (as the service writes it) is
    inflated only that far; any other filter is decoded by qpdf whole, under the child's memory limit."""
    import pikepdf

    if stream.get("/Filter") == pikepdf.Name.FlateDecode and "/DecodeParms" not in stream:
        try:
            return zlib.decompressobj().decompress(stream.read_raw_bytes(), limit)
        except zlib.error:
            raise UnknownForm("The agreement inside the PDF cannot be read.") from None
    if stream.get("/Filter") is None:
        return stream.read_raw_bytes()[:limit]
    return stream.read_bytes()[:limit]
