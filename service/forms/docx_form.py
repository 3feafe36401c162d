"""The delivery act as a DOCX form with content controls, and reading a filled one back.

Making (:func:`make_docx_form`, python-docx and lxml): the same form as the PDF, written by walking the
sections of :data:`service.forms.layout.PAGES` (a page break between pages) — the act's number, date
and month, the agreement printed, the session table in two parts, the progress note and the
signatures, with the page numbers in the footer. Every field is a content control (``w:sdt``)
whose ``w:tag`` is the field name of :mod:`service.forms.fields`; its ``w:alias`` (the title Word
shows) is a Latvian label. Text fields are plain-text controls, a session's ``form`` and ``status``
are drop-down lists (display text Latvian, value the code), ``progress`` is a rich-text control with
line breaks. Empty controls show a placeholder (``w:showingPlcHdr``, a few no-break spaces) so there
is something to click. The agreement travels as JSON text in a custom XML part (``customXml/itemN.xml``,
root ``<form kind="delivery-act" xmlns="urn:veidlapas:delivery-act:agreement:1">``).

LibreOffice 7.4 (Debian 12) keeps inline content controls and custom XML parts when it saves a DOCX,
but drops ``w:tag`` (and ``w:alias``, except on plain-text controls), ``w:showingPlcHdr`` on plain-text
controls, the breaks of a multi-line plain-text control and block-level controls altogether. So each
control also holds a hidden bookmark named after its field (``_sessions_3_units``), which every
editor keeps; reading names a control by its tag, else by the bookmark inside (or just before) it, and
a field whose control is gone by the text its bookmark spans. A value of only spaces reads "".

Reading (:func:`read_docx_form`) first inspects the package like every upload, under the limits it
is given (:func:`service.forms.uploads.inspect_docx`: entries, sizes, ratios, names, macros, external
targets, DOCTYPEs), then parses only the parts it needs with a safe lxml parser (no entities, no DTD,
no network, no huge trees); it raises :class:`~service.forms.fields.FormError` subclasses.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from string import Formatter
from typing import Any

from lxml import etree

from service.forms import fields as F
from service.forms import layout as L
from service.forms import values as V
from service.forms.fields import DoctypeRefused, EncryptedForm, InvalidForm, NoFields, UnknownForm
from service.forms.uploads import DEFAULT_LIMITS, UploadLimits, UploadRejected, inspect_docx

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
CUSTOM_XML_PROPS = "application/vnd.openxmlformats-officedocument.customXmlProperties+xml"
#: Placeholder shown in an empty control: non-breaking spaces, something to click.
PLACEHOLDER = "\u00a0" * 6

#: The longest agreement (JSON text) a form may carry.
MAX_AGREEMENT_BYTES = 1_000_000


def bookmark_name(field: str) -> str:
    """The hidden bookmark that marks a field (Word: at most 40 characters, starting "_" hides it).

    >>> bookmark_name("sessions.39.specialist_register_number")
    '_sessions_39_specialist_register_number'
    """
    return "_" + field.replace(".", "_")


_KNOWN = frozenset(F.field_names())
_BY_BOOKMARK = {bookmark_name(name): name for name in F.field_names()}
assert all(len(name) <= 40 for name in _BY_BOOKMARK)


# --- making ---------------------------------------------------------------------------------------


class _Ids:
    def __init__(self) -> None:
        self.value = 1000

    def next(self) -> int:
        self.value += 1
        return self.value


def _el(tag: str, attrs: dict[str, str] | None = None, *children) -> etree._Element:
    element = etree.Element(W + tag, {W + k: v for k, v in (attrs or {}).items()}, nsmap={"w": W_NS})
    element.extend(children)
    return element


def _run(text: str, size: float | None = None, bold: bool = False, gray: bool = False) -> etree._Element:
    props = _el("rPr")
    if bold:
        props.append(_el("b"))
    if gray:
        props.append(_el("color", {"val": "808080"}))
    if size:
        props.append(_el("sz", {"val": str(round(size * 2))}))
        props.append(_el("szCs", {"val": str(round(size * 2))}))
    run = _el("r", None, props)
    for index, line in enumerate(text.split("\n")):
        if index:
            run.append(_el("br"))
        t = _el("t")
        t.text = line
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        run.append(t)
    return run


def _sdt(name: str, value: str, label: str, size: float, ids: _Ids) -> etree._Element:
    """An inline content control for ``name``: plain text, or a drop-down for a choice."""
    choices = F.choice_labels(name)
    shown = (choices or {}).get(value, value)
    props = _el(
        "sdtPr",
        None,
        _el(
            "rPr", None, _el("sz", {"val": str(round(size * 2))}), _el("szCs", {"val": str(round(size * 2))})
        ),
        _el("alias", {"val": label}),
        _el("tag", {"val": name}),
        _el("id", {"val": str(ids.next())}),
    )
    if not shown:
        props.append(_el("showingPlcHdr"))
    if choices:
        items = [_el("listItem", {"displayText": text, "value": code}) for code, text in choices.items()]
        props.append(_el("dropDownList", None, *items))
    else:
        props.append(_el("text"))
    mark = ids.next()
    content = _el(
        "sdtContent",
        None,
        _el("bookmarkStart", {"id": str(mark), "name": bookmark_name(name)}),
        _run(shown or PLACEHOLDER, size),
        _el("bookmarkEnd", {"id": str(mark)}),
    )
    return _el("sdt", None, props, content)


def _multiline_sdt(name: str, value: str, label: str, size: float, ids: _Ids) -> etree._Element:
    """An inline rich-text control whose lines are separated by breaks (the progress note).

    Not a plain-text control with ``w:multiLine``: LibreOffice 7.4 drops its breaks; and not a
    block-level control: LibreOffice 7.4 turns it inline and loses the breaks too.
    """
    props = _el(
        "sdtPr",
        None,
        _el("alias", {"val": label}),
        _el("tag", {"val": name}),
        _el("id", {"val": str(ids.next())}),
    )
    if not value:
        props.append(_el("showingPlcHdr"))
    mark = ids.next()
    runs = []
    for index, line in enumerate((value or PLACEHOLDER).split("\n")):
        if index:
            runs.append(_el("r", None, _el("br")))
        runs.append(_run(line, size))
    content = _el(
        "sdtContent",
        None,
        _el("bookmarkStart", {"id": str(mark), "name": bookmark_name(name)}),
        *runs,
        _el("bookmarkEnd", {"id": str(mark)}),
    )
    return _el("sdt", None, props, content)


def make_docx_form(act_raw: dict[str, Any]) -> bytes:
    """The delivery act as a DOCX form with content controls, prefilled from ``act_raw``."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.style import WD_STYLE_TYPE
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.part import Part
    from docx.shared import Cm, Length, Pt

    values = F.to_fields(act_raw)
    agreement = act_raw.get("agreement") if isinstance(act_raw.get("agreement"), dict) else {}
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.2))
    style = doc.styles["Normal"]
    style.font.name = "Arial"  # Windows, macOS; LibreOffice uses the metric-compatible Liberation Sans
    style.font.size = Pt(9)
    style.paragraph_format.space_after = Pt(2)
    for size in (8, 9, 10):  # plain-text controls in LibreOffice take their size from the paragraph style
        field_style = doc.styles.add_style(f"Veidlapa {size}", WD_STYLE_TYPE.PARAGRAPH)
        field_style.base_style = style
        field_style.font.size = Pt(size)
        field_style.paragraph_format.space_after = Pt(0 if size == 8 else 2)
    doc.core_properties.title = f"{L.TITLE} {values['number']}".strip()
    doc.core_properties.subject = f"veidlapas:{F.FORM_KIND}"
    doc.core_properties.language = "lv-LV"

    width = Length(section.page_width - section.left_margin - section.right_margin)
    _Body(doc, values, agreement, width.pt).draw()
    _page_numbers(section.footer.paragraphs[0])

    package = doc.part.package
    item = Part(
        package.next_partname("/customXml/item%d.xml"), "application/xml", _agreement_xml(agreement), package
    )
    doc.part.relate_to(item, RT.CUSTOM_XML)
    props = Part(
        package.next_partname("/customXml/itemProps%d.xml"), CUSTOM_XML_PROPS, _item_props(), package
    )
    item.relate_to(props, RT.CUSTOM_XML_PROPS)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


class _Body:
    """Writes :data:`layout.PAGES` into a python-docx document, a page break between pages."""

    def __init__(self, doc, values: dict[str, str], agreement: dict[str, Any], width: float) -> None:
        self.doc = doc
        self.values = values
        self.agreement = agreement
        self.width = width  # of the text, points
        self.ids = _Ids()

    def draw(self) -> None:
        from docx.enum.text import WD_BREAK

        for number, sections in enumerate(L.PAGES):
            if number:
                self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            for section in sections:
                self.section(section)

    def sdt(self, name: str, size: float) -> etree._Element:
        return _sdt(name, self.values[name], F.FIELDS[name].label, size, self.ids)

    def heading(self, text: str) -> None:
        from docx.shared import Pt

        paragraph = self.doc.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(8)
        paragraph._p.append(_run(text, 10, bold=True))

    def section(self, section: L.Section) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        match section:
            case L.Title(text=text):
                title = self.doc.add_paragraph()
                title.alignment = WD_ALIGN_PARAGRAPH.CENTER
                title._p.append(_run(text, 14, bold=True))
            case L.Header(fields=items):
                head = self.doc.add_paragraph(style="Veidlapa 10")
                for item in items:
                    head._p.append(_run(f"{item.label}: ", 8, gray=True))
                    head._p.append(self.sdt(item.name, 10))
                    head._p.append(_run("    ", 10))
            case L.Summary():
                for label, text in V.summary_lines(self.agreement):
                    paragraph = self.doc.add_paragraph()
                    paragraph.paragraph_format.space_after = Pt(0)
                    if label:
                        paragraph._p.append(_run(f"{label}: ", 8.5, bold=True))
                    paragraph._p.append(_run(text, 8.5))
            case L.Sessions(caption=caption, rows=rows):
                self.heading(caption)
                self.table(rows)
            case L.Note(text=text):
                self.doc.add_paragraph()._p.append(_run(text, 7, gray=True))
            case L.Paragraph(field=item):
                self.heading(item.label)
                paragraph = self.doc.add_paragraph(style="Veidlapa 9")
                paragraph._p.append(
                    _multiline_sdt(item.name, self.values[item.name], item.label, 9, self.ids)
                )
            case L.Signatures():
                self.signatures(section)

    def table(self, rows: range) -> None:
        from docx.enum.table import WD_ROW_HEIGHT_RULE
        from docx.shared import Pt

        grid = self.doc.add_table(rows=1 + len(rows), cols=len(L.COLUMNS))
        grid.style = "Table Grid"
        grid.autofit = False
        margins = _el(
            "tblCellMar", None, *(_el(side, {"w": "40", "type": "dxa"}) for side in ("left", "right"))
        )
        grid._tbl.tblPr.find(W + "tblLook").addprevious(margins)  # narrow cell margins, in schema order
        widths = [Pt(w) for w in L.column_widths(self.width)]
        for index, column in enumerate(L.COLUMNS):
            grid.columns[index].width = widths[index]
            cell = grid.rows[0].cells[index]
            cell.width = widths[index]
            cell.paragraphs[0]._p.append(_run(column.title, 6.5, bold=True))
        for offset, row in enumerate(rows, start=1):
            grid.rows[offset].height = Pt(L.ROW_HEIGHT - 2)
            grid.rows[offset].height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
            for index, column in enumerate(L.COLUMNS):
                cell = grid.rows[offset].cells[index]
                cell.width = widths[index]
                paragraph = cell.paragraphs[0]
                paragraph.style = "Veidlapa 8"
                if column.kind is L.Kind.ROW_NUMBER:
                    paragraph._p.append(_run(f"{row + 1}.", 7))
                else:
                    paragraph._p.append(self.sdt(F.session_field(row, column.name), 8))

    def signatures(self, signatures: L.Signatures) -> None:
        self.heading(signatures.heading)
        grid = self.doc.add_table(rows=1, cols=len(signatures.blocks))
        for cell, block in zip(grid.rows[0].cells, signatures.blocks, strict=True):
            cell.paragraphs[0]._p.append(_run(block.heading, 8.5, bold=True))
            for item in block.fields:
                cell.add_paragraph()._p.append(_run(item.label, 7, gray=True))
                cell.add_paragraph(style="Veidlapa 9")._p.append(self.sdt(item.name, 9))
            cell.add_paragraph()
            cell.add_paragraph()._p.append(_run(f"______________________\n{signatures.line}", 7, gray=True))


def _page_numbers(paragraph) -> None:
    """:data:`layout.PAGE_NUMBER` in the footer, with Word's PAGE and NUMPAGES fields for its numbers."""
    fields = {"page": ("PAGE", "1"), "pages": ("NUMPAGES", str(len(L.PAGES)))}
    for literal, name, _, _ in Formatter().parse(L.PAGE_NUMBER):
        if literal:
            paragraph._p.append(_run(literal, 7, gray=True))
        if name:
            paragraph._p.extend(_field_runs(*fields[name]))


def _field_runs(instruction: str, shown: str) -> list[etree._Element]:
    """The runs of a complex field (begin, instruction, separate, ``shown`` until updated, end)."""
    instr = _el("instrText")
    instr.text = f" {instruction} "
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    parts = [
        _el("fldChar", {"fldCharType": "begin"}),
        instr,
        _el("fldChar", {"fldCharType": "separate"}),
        None,
        _el("fldChar", {"fldCharType": "end"}),
    ]
    runs = []
    for part in parts:
        run = _run(shown, 7, gray=True)
        if part is not None:
            run.remove(run.find(W + "t"))
            run.append(part)
        runs.append(run)
    return runs


def _agreement_xml(agreement: dict[str, Any]) -> bytes:
    root = etree.Element(
        f"{{{F.AGREEMENT_NAMESPACE}}}form",
        {"kind": F.FORM_KIND, "version": "1"},
        nsmap={None: F.AGREEMENT_NAMESPACE},
    )
    child = etree.SubElement(root, f"{{{F.AGREEMENT_NAMESPACE}}}agreement")
    child.text = F.dump_agreement(agreement)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _item_props() -> bytes:
    ds = "http://schemas.openxmlformats.org/officeDocument/2006/customXml"
    root = etree.Element(
        f"{{{ds}}}datastoreItem",
        {f"{{{ds}}}itemID": "{5E0C7D2A-9B1F-4C3E-8A6D-2F4B1C9E7A31}"},
        nsmap={"ds": ds},
    )
    refs = etree.SubElement(root, f"{{{ds}}}schemaRefs")
    etree.SubElement(refs, f"{{{ds}}}schemaRef", {f"{{{ds}}}uri": F.AGREEMENT_NAMESPACE})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=False)


# --- reading --------------------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
    )


def _parse(data: bytes, part: str) -> etree._Element:
    """Parse one XML part safely (the inspection refused a DOCTYPE in every XML part before)."""
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError:
        raise InvalidForm(f"The part {part} is not well-formed XML.") from None


def _open(data: bytes, limits: UploadLimits) -> zipfile.ZipFile:
    """The package once it passed the inspection every upload passes; its refusal as a form's error."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise EncryptedForm("The document is protected with a password; save it without one.")
        raise InvalidForm("This is an old Word (.doc) file, not a DOCX.")
    try:
        inspect_docx(data, limits)
    except UploadRejected as refused:
        error = DoctypeRefused if refused.code == "upload.doctype" else InvalidForm
        raise error(f"The DOCX was refused: {refused}.") from None
    return zipfile.ZipFile(io.BytesIO(data))


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    """A part whole: the inspection bounded its declared size, and ``zipfile`` inflates no more."""
    try:
        return archive.read(name)
    except KeyError:
        raise InvalidForm(f"The DOCX has no part {name}.") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error):
        raise InvalidForm(f"The part {name} cannot be unpacked.") from None


def read_docx_form(data: bytes, limits: UploadLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The values of a filled DOCX form: ``{"fields": {...}, "agreement": {...}}`` (each field's page is
    the layout's, ``fields.page_of``: an editor may move things). A control still showing its
    placeholder reads "". The package is inspected under ``limits`` first. Raises
    :class:`DoctypeRefused`, :class:`NoFields`, :class:`UnknownForm`, :class:`EncryptedForm` (a
    password-protected document) or :class:`InvalidForm`.
    """
    archive = _open(data, limits)
    names = {entry.filename for entry in archive.infolist()}
    main = _main_part(archive) if "_rels/.rels" in names else "word/document.xml"
    document = _parse(_read(archive, main), main)
    values = _values(document)
    if not values:
        raise NoFields("The document has no form fields (content controls) of this service.")
    agreement = None
    for name in sorted(names):
        if re.fullmatch(r"customXml/item\d+\.xml", name, re.IGNORECASE):
            agreement = _agreement(_parse(_read(archive, name), name))
            if agreement is not None:
                break
    if agreement is None:
        raise UnknownForm("The document was not made by this service: it carries no agreement.")
    return {"fields": values, "agreement": agreement}


def _main_part(archive: zipfile.ZipFile) -> str:
    rels = _parse(_read(archive, "_rels/.rels"), "_rels/.rels")
    for rel in rels.iter(f"{{{REL_NS}}}Relationship"):
        if rel.get("Type") == OFFICE_DOCUMENT and rel.get("TargetMode") != "External":
            return (rel.get("Target") or "").lstrip("/")
    raise InvalidForm("The package has no main document.")


def _agreement(root: etree._Element) -> dict[str, Any] | None:
    from service.jsondata import InvalidJson, parse_json

    ns = F.AGREEMENT_NAMESPACE
    if root.tag != f"{{{ns}}}form" or root.get("kind") != F.FORM_KIND:
        return None
    child = root.find(f"{{{ns}}}agreement")
    text = child.text if child is not None and child.text else ""
    if len(text) > MAX_AGREEMENT_BYTES:
        raise UnknownForm("The agreement inside the document is too large.")
    try:
        agreement = parse_json(text, max_depth=20)
    except InvalidJson:
        raise UnknownForm("The agreement inside the document is not readable JSON.") from None
    if not isinstance(agreement, dict):
        raise UnknownForm("The agreement inside the document is not an object.")
    return agreement


def _showing_placeholder(element: etree._Element) -> bool:
    """Whether ``element`` lies in a content control that still shows its placeholder."""
    for sdt in element.iterancestors(W + "sdt"):
        props = sdt.find(W + "sdtPr")
        if props is not None and props.find(W + "showingPlcHdr") is not None:
            return True
    return False


def _text(element: etree._Element) -> str:
    """Text of a control's content: paragraphs and breaks as line breaks, tabs as tabs."""
    if element.tag == W + "p" or next(element.iter(W + "p"), None) is None:
        paragraphs = [element]
    else:
        paragraphs = [p for p in element.iter(W + "p") if next(p.iterancestors(W + "p"), None) is None]
    return "\n".join(_run_text(p) for p in paragraphs)


def _run_text(element: etree._Element) -> str:
    parts = []
    for node in element.iter(W + "t", W + "tab", W + "br", W + "cr"):
        if node.tag == W + "t":
            parts.append(node.text or "")
        else:
            parts.append("\t" if node.tag == W + "tab" else "\n")
    return "".join(parts)


def _values(document: etree._Element) -> dict[str, str]:
    """Field values: each content control named by its tag, else by the field bookmark inside it (or
    just before it); a field whose control is gone reads the text its bookmark spans."""
    values: dict[str, str] = {}
    for sdt in document.iter(W + "sdt"):
        content = sdt.find(W + "sdtContent")
        name = _control_name(sdt, content)
        if name and name not in values and content is not None:
            values[name] = "" if _showing_placeholder(content) else _text(content)
    for name, text in _bookmarked(document).items():
        values.setdefault(name, text)
    # An untouched placeholder (LibreOffice drops w:showingPlcHdr) is blank.
    return {name: values[name] if values[name].strip() else "" for name in F.field_names() if name in values}


def _control_name(sdt: etree._Element, content: etree._Element | None) -> str | None:
    tag = sdt.find(f"{W}sdtPr/{W}tag")
    name = tag.get(W + "val") if tag is not None else None
    if name in _KNOWN:
        return name
    marks = list(content.iter(W + "bookmarkStart")) if content is not None else []
    previous = sdt.getprevious()
    while previous is not None and previous.tag == W + "bookmarkStart":
        marks.append(previous)
        previous = previous.getprevious()
    return next((_BY_BOOKMARK[m.get(W + "name")] for m in marks if m.get(W + "name") in _BY_BOOKMARK), None)


def _bookmarked(document: etree._Element) -> dict[str, str]:
    """The text between each field bookmark's start and end, in document order."""
    open_marks: dict[str, tuple[str, list[str], list[bool]]] = {}
    found: dict[str, str] = {}
    for node in document.iter(
        W + "bookmarkStart", W + "bookmarkEnd", W + "p", W + "t", W + "tab", W + "br", W + "cr"
    ):
        tag = node.tag
        if tag == W + "bookmarkStart":
            name = _BY_BOOKMARK.get(node.get(W + "name") or "")
            if name and name not in found:
                inside = next(node.iterancestors(W + "p"), None) is not None
                open_marks[node.get(W + "id") or ""] = (name, [], [inside])
        elif tag == W + "bookmarkEnd":
            mark = open_marks.pop(node.get(W + "id") or "", None)
            if mark:
                found[mark[0]] = "".join(mark[1])
        elif tag == W + "p":
            for _, parts, started in open_marks.values():
                if started[0]:
                    parts.append("\n")
                started[0] = True
        elif not _showing_placeholder(node):
            text = (node.text or "") if tag == W + "t" else "\t" if tag == W + "tab" else "\n"
            for _, parts, _ in open_marks.values():
                parts.append(text)
    return found
