"""Fillable delivery-act forms: made here, filled by another program, read back into the act.

The PDF is filled by pdftk (XFDF with UTF-8 values), by pikepdf and by pypdf; the DOCX is edited with
python-docx and saved again by LibreOffice. Each filled form is read back and compared field by field
with what was filled; the pdftk-filled page is rendered (poppler) and its text must show every
Latvian letter, without gaps. pdftk, LibreOffice and poppler are required: a missing tool fails the
test, it is never skipped (``apt-get install -y pdftk-java libreoffice-writer poppler-utils``).
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import io
import re
import shutil
import subprocess
import tomllib
import zipfile
from decimal import Decimal
from pathlib import Path

import pikepdf
import pytest
from docx import Document
from lxml import etree
from marshmallow import ValidationError
from pypdf import PdfReader, PdfWriter

from schemas.delivery import DeliveryActSchema, SessionSchema
from service.forms import fields as F
from service.forms import layout as L
from service.forms.docx_form import W, make_docx_form, read_docx_form
from service.forms.pdf_form import field_font, make_pdf_form, read_pdf_form
from tests.helpers import delivery_errors, error_codes, fill_with_pdftk, load_delivery, load_sample

ACT = "delivery-act-adult-aplp"
LATVIAN = "ā č ē ģ ī ķ ļ ņ š ū ž Ā Č Ē Ģ Ī Ķ Ļ Ņ Š Ū Ž"
ROOT = Path(__file__).resolve().parent.parent

#: What the other program types into the form (codes for the choices, as a PDF's export values).
FILL = {
    "number": "AKTS-2020/09-031/Ž",
    "sessions.0.specialist_register_number": "",  # cleared
    "sessions.13.date": "2020-09-30",
    "sessions.13.code": "APLP",
    "sessions.13.specialist": "Šarlote Čakste-Ņikiforova",
    "sessions.13.specialist_register_number": "SD-ĢĶĻ-7",
    "sessions.13.start_time": "09:00",
    "sessions.13.end_time": "10:30",
    "sessions.13.form": "majas",
    "sessions.13.status": "atcelts",
    "sessions.30.specialist": "Ūna Žīgure",
    "sessions.30.units": "1.5",
    "progress": f"{LATVIAN}\nOtrā rinda: Ģirts un Ķērsta čakli strādāja.",
    "signatures.recipient": "Ģederts Ļūļaks",
    "signatures.social_worker.position": "vecākā sociālā darbiniece",
}


def tool(name: str) -> str:
    """The path of a required program; its absence fails the test."""
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is required for the form round trips and is not installed")
    return path


def run(*args: str | Path, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, timeout=timeout)


@pytest.fixture(scope="module")
def act() -> dict:
    return load_sample(ACT)


@pytest.fixture(scope="module")
def pdf_form(act) -> bytes:
    return make_pdf_form(act)


@pytest.fixture(scope="module")
def docx_form(act) -> bytes:
    return make_docx_form(act)


def expected_after(original: dict[str, str], fill: dict[str, str], labels: bool = False) -> dict[str, str]:
    """The fields as they should read after ``fill``; choices as their labels when ``labels``."""
    values = dict(original)
    for name, value in fill.items():
        values[name] = (F.choice_labels(name) or {}).get(value, value) if labels else value
    return values


def differences(read: dict[str, str], expected: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    return {
        name: (expected.get(name), read.get(name))
        for name in F.field_names()
        if read.get(name) != expected.get(name)
    }


def flat(text: str) -> str:
    return " ".join(text.split())


def squeezed(text: str) -> str:
    """Without any white space: pdftotext drops the spaces between single letters ("ā č ē")."""
    return "".join(text.split())


def pdf_text(path: Path) -> str:
    return run(tool("pdftotext"), "-layout", "-enc", "UTF-8", path, "-").stdout.decode("utf-8")


def ink(path: Path, page: int, tmp_path: Path, rect: tuple[float, ...] | None = None) -> float:
    """Share of dark pixels on a page (or inside ``rect``, PDF points) rendered by pdftoppm at 60 dpi."""
    scale = 60 / 72
    crop: list[str] = []
    if rect:
        x1, y1, x2, y2 = rect
        height = float(PdfReader(path).pages[page - 1].mediabox.height)
        crop = ["-x", str(int(x1 * scale)), "-y", str(int((height - y2) * scale))]
        crop += ["-W", str(int((x2 - x1) * scale) + 1), "-H", str(int((y2 - y1) * scale) + 1)]
    prefix = tmp_path / f"page{page}"
    run(tool("pdftoppm"), "-gray", "-r", "60", "-f", page, "-l", page, *crop, "-singlefile", path, prefix)
    data = (tmp_path / f"page{page}.pgm").read_bytes()
    magic, width, height, depth, pixels = data.split(maxsplit=4)
    assert magic == b"P5" and depth == b"255"
    pixels = pixels[: int(width) * int(height)]
    return sum(1 for value in pixels if value < 128) / len(pixels)


def widgets(pdf: pikepdf.Pdf):
    """(page, fully qualified field name, widget) of every widget, page by page."""
    for number, page in enumerate(pdf.pages, start=1):
        for annot in page.obj.get("/Annots", []):
            parts, node = [], annot
            while node is not None:
                parts.insert(0, str(node.T))
                node = node.get("/Parent")
            yield number, ".".join(parts), annot


def widget_rect(path: Path, name: str) -> tuple[int, tuple[float, ...]]:
    """(page, rect) of the field ``name``."""
    with pikepdf.open(path) as pdf:
        for number, field, annot in widgets(pdf):
            if field == name:
                return number, tuple(float(v) for v in annot.Rect)
    raise AssertionError(f"no widget {name}")


def widget_pages(data: bytes) -> dict[str, int]:
    """The page of each field's widget (the reader reads no pages: the layout places every field)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return {field: number for number, field, _ in widgets(pdf)}


# --- the mapping ----------------------------------------------------------------------------------


def test_field_names_are_the_schema_paths():
    loadable = {name for name, field in SessionSchema().fields.items() if not field.dump_only}
    assert set(F.SESSION_FIELDS) == loadable
    act = DeliveryActSchema().fields
    assert set(F.HEADER_FIELDS) | {"progress", "sessions", "signatures", "agreement"} == {
        name for name, field in act.items() if not field.dump_only
    }
    assert len(F.field_names()) == len(set(F.field_names())) == 3 + 9 * F.SESSION_ROWS + 1 + 5
    assert all(".." not in name and not name.endswith(".") for name in F.field_names())


def test_choice_labels_are_the_templates_labels():
    labels = tomllib.loads((ROOT / "templates_lv" / "labels.toml").read_text(encoding="utf-8"))
    assert F.choice_labels("sessions.0.form") == labels["form"]
    assert F.choice_labels("sessions.39.status") == labels["status"]


def test_from_fields_drops_empty_rows_and_fields_and_maps_errors_back_to_rows(act):
    values = F.to_fields(act)
    values.update({F.session_field(0, name): "" for name in F.SESSION_FIELDS})  # row 1 emptied
    values["sessions.30.date"] = "2020-09-30"
    values["sessions.30.code"] = "ATBG"
    values["sessions.30.specialist"] = " Ģirts Čaupjonoks "
    values["sessions.30.form"] = "Klātienē"  # the label, in another case
    values["sessions.30.status"] = "notika"
    values["sessions.30.units"] = "abc"
    values["progress"] = "Pirmā rinda\r\nOtrā rinda\r"
    values["signatures.social_worker.position"] = "  "
    filled = F.from_fields(values, act["agreement"])
    raw, rows = filled.act, filled.rows
    assert rows == F.session_rows(values) == [*range(1, 13), 30]
    assert len(raw["sessions"]) == 13
    assert raw["sessions"][-1] == {
        "date": "2020-09-30",
        "code": "ATBG",
        "specialist": "Ģirts Čaupjonoks",
        "units": "abc",
        "form": "klatiene",
        "status": "notika",
    }
    assert "specialist_register_number" not in raw["sessions"][1]
    assert raw["progress"] == "Pirmā rinda\nOtrā rinda"
    assert raw["signatures"]["social_worker"] == {"name": "Gunta Ņikitina"}
    assert delivery_errors(raw) == {
        "/sessions/12/units": ["type.number", "delivery.units_required"],
        "/signatures/social_worker/position": ["required"],
    }
    # what could not be read says so, in place of what the schema said about the text it was given
    assert [(path, message.code) for path, message in filled.problems] == [
        (("sessions", 12, "units"), "input.number")
    ]
    with pytest.raises(ValidationError) as caught:
        DeliveryActSchema().load(raw)
    assert error_codes(F.with_problems(filled.problems, caught.value.messages)) == {
        "/sessions/12/units": ["input.number"],
        "/signatures/social_worker/position": ["required"],
    }
    assert F.field_for("/sessions/12/units", rows) == ("sessions.30.units", 2)
    assert F.field_for("/signatures/social_worker/position", rows) == ("signatures.social_worker.position", 2)
    assert F.field_for("/agreement/services/0/quantity", rows) == (None, 1)


def test_too_many_sessions_for_the_form(act):
    act = dict(act, sessions=act["sessions"] * 4)
    with pytest.raises(F.TooManySessions):
        make_pdf_form(act)


# --- PDF ------------------------------------------------------------------------------------------


def test_made_pdf_reads_back_as_the_act(act, pdf_form):
    form = read_pdf_form(pdf_form)
    assert form["agreement"] == act["agreement"]
    assert form["fields"] == F.to_fields(act)
    assert widget_pages(pdf_form) == {name: F.page_of(name) for name in F.field_names()}
    raw = F.from_fields(form["fields"], form["agreement"]).act
    assert raw == act
    load_delivery(raw)


def test_pdf_fields_are_a_hierarchy_with_our_font(pdf_form):
    with pikepdf.open(io.BytesIO(pdf_form)) as pdf:
        top = [str(field.T) for field in pdf.Root.AcroForm.Fields]
        assert top == ["number", "date", "month", "sessions", "progress", "signatures"]
        assert "/NeedAppearances" not in pdf.Root.AcroForm
        font = pdf.Root.AcroForm.DR.Font.DejaVu
        assert font.Subtype == "/TrueType" and "/FontFile2" in font.FontDescriptor
        names = {str(name) for name in font.Encoding.Differences if isinstance(name, pikepdf.Name)}
        assert {"/amacron", "/Scaron", "/Ccaron", "/gcommaaccent", "/Ncommaaccent", "/zcaron"} <= names
        form = {f.fully_qualified_name: f for f in pdf.acroform.fields}
        status = form["sessions.0.status"]
        assert status.is_choice and [str(o[0]) for o in status.obj.Opt][1:] == [
            "notika",
            "neieradas",
            "atcelts",
        ]
        assert all("/AP" in f.obj for f in form.values())


def test_field_font_has_every_latvian_letter_with_its_own_width():
    font = field_font()
    for letter in LATVIAN.replace(" ", "") + "„“–€":
        code = font.codes[letter]
        assert font.chars[code] == letter and font.widths[code] > 0, letter
    assert font.encode("Šarlote Čakste") == "Šarlote Čakste".encode("cp1257")
    assert font.encode("Жанна") == b"?????"  # outside Windows-1257: the value keeps it, the picture cannot


def test_pdf_filled_by_pdftk(pdf_form, tmp_path):
    pdftk = tool("pdftk")
    (tmp_path / "form.pdf").write_bytes(pdf_form)
    xfdf = etree.Element("{http://ns.adobe.com/xfdf/}xfdf", nsmap={None: "http://ns.adobe.com/xfdf/"})
    xfdf.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    fields = etree.SubElement(xfdf, "{http://ns.adobe.com/xfdf/}fields")
    for name, value in FILL.items():
        field = etree.SubElement(fields, "{http://ns.adobe.com/xfdf/}field", name=name)
        etree.SubElement(field, "{http://ns.adobe.com/xfdf/}value").text = value
    (tmp_path / "data.xfdf").write_bytes(etree.tostring(xfdf, xml_declaration=True, encoding="UTF-8"))
    run(pdftk, tmp_path / "form.pdf", "fill_form", tmp_path / "data.xfdf", "output", tmp_path / "filled.pdf")

    form = read_pdf_form((tmp_path / "filled.pdf").read_bytes())
    expected = expected_after(read_pdf_form(pdf_form)["fields"], FILL)
    assert differences(form["fields"], expected) == {}
    assert widget_pages((tmp_path / "filled.pdf").read_bytes())["sessions.30.specialist"] == 2

    # pdftk drew the appearances with our font: poppler shows every letter, without gaps.
    text = flat(pdf_text(tmp_path / "filled.pdf"))
    for name in ("number", "sessions.13.specialist", "sessions.30.specialist", "signatures.recipient"):
        assert flat(FILL[name]) in text, name
    assert squeezed(LATVIAN) in squeezed(text)
    assert flat(FILL["progress"].split("\n")[1]) in text
    assert "mājās" in text and "atcelts" in text  # the combo boxes show their labels
    assert ink(tmp_path / "filled.pdf", 1, tmp_path) > 0.01
    for name in ("sessions.13.specialist", "sessions.30.specialist", "progress"):
        page, rect = widget_rect(tmp_path / "filled.pdf", name)
        assert ink(tmp_path / "filled.pdf", page, tmp_path, rect) > 0.01, name


def test_pdf_filled_by_pikepdf(pdf_form, tmp_path):
    # pikepdf's own appearance generators know only WinAnsi glyph names (ā, č, ģ … become "?" or fail),
    # so it sets /V and asks the viewer to draw (NeedAppearances), as qpdf's setV does.
    with pikepdf.open(io.BytesIO(pdf_form)) as pdf:
        fields = {field.fully_qualified_name: field for field in pdf.acroform.fields}
        for name, value in FILL.items():
            fields[name].set_value(value, need_appearance=True)
        assert pdf.Root.AcroForm.NeedAppearances
        pdf.save(tmp_path / "filled.pdf")
    form = read_pdf_form((tmp_path / "filled.pdf").read_bytes())
    expected = expected_after(read_pdf_form(pdf_form)["fields"], FILL)
    assert differences(form["fields"], expected) == {}
    # poppler draws the values itself with the form's font
    text = flat(pdf_text(tmp_path / "filled.pdf"))
    assert flat(FILL["sessions.13.specialist"]) in text and FILL["signatures.recipient"] in text


def test_pdf_filled_by_pypdf(pdf_form, tmp_path):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_form)))
    for page in writer.pages:
        writer.update_page_form_field_values(page, FILL, auto_regenerate=True)
    writer.write(tmp_path / "filled.pdf")
    form = read_pdf_form((tmp_path / "filled.pdf").read_bytes())
    expected = expected_after(read_pdf_form(pdf_form)["fields"], FILL)
    assert differences(form["fields"], expected) == {}
    text = flat(pdf_text(tmp_path / "filled.pdf"))
    assert flat(FILL["sessions.13.specialist"]) in text
    assert squeezed(LATVIAN) in squeezed(text)


# --- PDF errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["parole", ""])
def test_encrypted_pdf_is_refused(pdf_form, user):
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf_form)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user=user, owner="īpašnieks"))
    with pytest.raises(F.EncryptedForm) as caught:
        read_pdf_form(out.getvalue())
    assert caught.value.code == "form.encrypted"


def test_flattened_pdf_has_no_fields(pdf_form, tmp_path):
    (tmp_path / "form.pdf").write_bytes(pdf_form)
    run(tool("pdftk"), tmp_path / "form.pdf", "output", tmp_path / "flat.pdf", "flatten")
    with pytest.raises(F.NoFields) as caught:
        read_pdf_form((tmp_path / "flat.pdf").read_bytes())
    assert caught.value.code == "form.no_fields"


def test_xfa_pdf_is_refused(pdf_form):
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf_form)) as pdf:
        template = pdf.make_stream(b'<template xmlns="http://www.xfa.org/schema/xfa-template/3.3/"/>')
        pdf.Root.AcroForm.XFA = pikepdf.Array([pikepdf.String("template"), template])
        pdf.save(out)
    with pytest.raises(F.XfaForm) as caught:
        read_pdf_form(out.getvalue())
    assert caught.value.code == "form.xfa"


def test_pdf_without_our_agreement_is_unknown(pdf_form):
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf_form)) as pdf:
        del pdf.attachments[F.AGREEMENT_FILE]
        pdf.save(out)
    with pytest.raises(F.UnknownForm) as caught:
        read_pdf_form(out.getvalue())
    assert caught.value.code == "form.unknown"


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n garbage", b"PK\x03\x04 not a pdf"])
def test_broken_pdf_is_invalid(data):
    with pytest.raises(F.FormError) as caught:
        read_pdf_form(data)
    assert caught.value.code in {"form.invalid", "form.no_fields"}


# --- DOCX -----------------------------------------------------------------------------------------


def test_made_docx_reads_back_as_the_act(act, docx_form):
    form = read_docx_form(docx_form)
    assert form["agreement"] == act["agreement"]
    assert set(form["fields"]) == set(F.field_names())
    raw = F.from_fields(form["fields"], form["agreement"]).act
    assert raw == act
    load_delivery(raw)


def fill_docx(data: bytes, fill: dict[str, str]) -> bytes:
    """Type ``fill`` into the content controls, as a user would: choices by their label."""
    doc = Document(io.BytesIO(data))
    for sdt in doc.element.body.iter(W + "sdt"):
        name = sdt.find(f"{W}sdtPr/{W}tag").get(W + "val")
        if name not in fill:
            continue
        props = sdt.find(W + "sdtPr")
        for placeholder in props.findall(W + "showingPlcHdr"):
            props.remove(placeholder)
        value = (F.choice_labels(name) or {}).get(fill[name], fill[name])
        content = sdt.find(W + "sdtContent")
        runs = content.findall(W + "r")
        typed = etree.Element(W + "r")
        if runs and runs[0].find(W + "rPr") is not None:
            typed.append(runs[0].find(W + "rPr"))
        for index, line in enumerate(value.split("\n")):
            if index:
                etree.SubElement(typed, W + "br")
            etree.SubElement(typed, W + "t").text = line
        for old in runs:
            content.remove(old)
        end = content.find(W + "bookmarkEnd")
        if end is None:
            content.append(typed)
        else:
            end.addprevious(typed)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_docx_edited_and_saved_by_libreoffice(docx_form, tmp_path):
    soffice = tool("soffice")
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
    (tmp_path / "edited.docx").write_bytes(fill_docx(docx_form, FILL))
    out = tmp_path / "out"
    run(
        soffice,
        profile,
        "--headless",
        "--norestore",
        "--convert-to",
        "docx",
        "--outdir",
        out,
        tmp_path / "edited.docx",
    )
    saved = (out / "edited.docx").read_bytes()
    assert saved != (tmp_path / "edited.docx").read_bytes()

    form = read_docx_form(saved)
    expected = expected_after(read_docx_form(docx_form)["fields"], FILL, labels=True)
    assert differences(form["fields"], expected) == {}
    assert form["agreement"] == read_docx_form(docx_form)["agreement"]
    raw = F.from_fields(form["fields"], form["agreement"]).act
    assert raw["sessions"][13]["form"] == "majas" and raw["sessions"][13]["status"] == "atcelts"

    # And LibreOffice prints the Latvian letters it kept.
    run(
        soffice,
        profile,
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        out,
        out / "edited.docx",
    )
    text = flat(pdf_text(out / "edited.pdf"))
    assert FILL["signatures.recipient"] in text and "Šarlote" in text and "Ņikiforova" in text
    assert squeezed(LATVIAN) in squeezed(text)


def rezip(data: bytes, replace: dict[str, bytes], drop: tuple[str, ...] = ()) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename not in drop:
                target.writestr(item.filename, replace.get(item.filename, source.read(item.filename)))
    return out.getvalue()


def agreement_part(data: bytes) -> str:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return next(
        name
        for name in archive.namelist()
        if F.AGREEMENT_NAMESPACE.encode() in archive.read(name) and "Props" not in name
    )


@pytest.mark.parametrize("part", ["word/document.xml", "agreement"])
def test_docx_with_a_doctype_is_refused(docx_form, part):
    name = agreement_part(docx_form) if part == "agreement" else part
    xml = zipfile.ZipFile(io.BytesIO(docx_form)).read(name)
    declaration, rest = xml.split(b"?>", 1)
    doctype = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa">]>'
    with pytest.raises(F.DoctypeRefused) as caught:
        read_docx_form(rezip(docx_form, {name: declaration + b"?>" + doctype + rest}))
    assert caught.value.code == "form.doctype"


def test_docx_without_our_agreement_is_unknown(docx_form):
    name = agreement_part(docx_form)
    other = b'<form xmlns="urn:example:other" kind="delivery-act"><agreement>{}</agreement></form>'
    with pytest.raises(F.UnknownForm) as caught:
        read_docx_form(rezip(docx_form, {name: other}))
    assert caught.value.code == "form.unknown"


def test_docx_without_fields():
    out = io.BytesIO()
    document = Document()
    document.add_paragraph("Pakalpojuma sniegšanas akts, izdrukāts un ieskenēts")
    document.save(out)
    with pytest.raises(F.NoFields) as caught:
        read_docx_form(out.getvalue())
    assert caught.value.code == "form.no_fields"


def test_docx_zip_bomb_and_non_zip_are_invalid(docx_form):
    with pytest.raises(F.InvalidForm):
        read_docx_form(rezip(docx_form, {"word/document.xml": b"<" + b" " * 30_000_000 + b"/>"}))
    with pytest.raises(F.InvalidForm):
        read_docx_form(b"not a zip at all")
    with pytest.raises(F.EncryptedForm):
        read_docx_form(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512 + "EncryptedPackage".encode("utf-16-le")
        )


# --- one layout, two renderers; the form speaks Latvian dates and numbers ---------------------------

#: What a provider types on the printed form: Latvian dates (with and without the final dot, one-digit
#: days and months) and a decimal comma. A cancelled session, so the month stays within the plan.
LATVIAN_FILL = {
    "date": "2.10.2020",
    "month": "09.2020.",
    "sessions.13.date": "30.9.2020.",
    "sessions.13.code": "APLP",
    "sessions.13.specialist": "Līga Žagare",
    "sessions.13.start_time": "09:00",
    "sessions.13.end_time": "10:30",
    "sessions.13.units": "1,5",
    "sessions.13.form": "majas",
    "sessions.13.status": "atcelts",
}


@pytest.fixture(scope="module")
def printed_act(act) -> dict:
    """The sample act with every summary line present (a representative) and a fractional units value."""
    printed = copy.deepcopy(act)
    printed["agreement"]["representative"] = {"name": "Anna Gailīte"}
    printed["sessions"][0]["units"] = "1.5"
    return printed


def printed_pdf(data: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler lays it out, any white space (no-break too) as one space."""
    (tmp_path / "printed.pdf").write_bytes(data)
    return flat(pdf_text(tmp_path / "printed.pdf"))


def printed_docx(data: bytes) -> str:
    """Every paragraph's text (content controls, tables and the footer included), as one line."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    parts = [name for name in archive.namelist() if re.fullmatch(r"word/(document|footer\d*)\.xml", name)]
    paragraphs = []
    for name in parts:
        for paragraph in etree.fromstring(archive.read(name)).iter(W + "p"):
            paragraphs.append("".join(t.text or "" for t in paragraph.iter(W + "t")))
    return flat("\n".join(paragraphs))


def layout_words() -> list[tuple[str, str]]:
    """Every Latvian text the layout declares: (as the PDF prints it, as the DOCX prints it)."""
    words = [(L.PAGE_NUMBER.format(page=1, pages=len(L.PAGES)),) * 2]
    for sections in L.PAGES:
        for section in sections:
            match section:
                case L.Title(text=text) | L.Note(text=text):
                    words.append((text, text))
                case L.Header(fields=items):
                    words += [(item.label, item.label) for item in items]
                case L.Summary(lines=lines, services=services):
                    words += [(line.label + ":", line.label + ":") for line in lines]
                    words += [
                        (part.prefix.strip(),) * 2 for line in lines for part in line.parts if part.prefix
                    ]
                    words.append((services.label + ":",) * 2)
                    words += [
                        (text.format(quantity="", price="").strip(),) * 2
                        for text in (services.quantity, services.price)
                    ]
                case L.Sessions(caption=caption):
                    words.append((caption, caption))
                    words += [(line, column.title) for column in L.COLUMNS for line in column.lines]
                case L.Paragraph(field=item):
                    words.append((item.label, item.label))
                case L.Signatures(heading=heading, blocks=blocks, line=line):
                    words += [(heading, heading), (line, line)]
                    words += [(block.heading, block.heading) for block in blocks]
                    words += [(item.label, item.label) for block in blocks for item in block.fields]
    return words


def test_every_label_of_the_layout_is_printed_by_both_renderers(printed_act, tmp_path):
    pdf = printed_pdf(make_pdf_form(printed_act), tmp_path)
    docx = printed_docx(make_docx_form(printed_act))
    words = layout_words()
    assert len(words) > 40
    assert [pdf_word for pdf_word, _ in words if flat(pdf_word) not in pdf] == []
    assert [docx_word for _, docx_word in words if flat(docx_word) not in docx] == []


def test_fields_are_titled_by_the_layout_in_both_renderers(pdf_form, docx_form):
    with pikepdf.open(io.BytesIO(pdf_form)) as pdf:
        titles = {field.fully_qualified_name: str(field.obj.TU) for field in pdf.acroform.fields}
    assert titles == {name: placed.label for name, placed in F.FIELDS.items()}
    document = etree.fromstring(zipfile.ZipFile(io.BytesIO(docx_form)).read("word/document.xml"))
    aliases = {
        sdt.find(f"{W}sdtPr/{W}tag").get(W + "val"): sdt.find(f"{W}sdtPr/{W}alias").get(W + "val")
        for sdt in document.iter(W + "sdt")
    }
    assert aliases == titles
    assert titles["sessions.4.units"] == "5. rinda: Vienības"


def string_literals(source: str) -> list[str]:
    """The string constants of Python source (f-strings' literal parts too), docstrings left out."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_latvian_words_live_only_in_the_layout():
    """The renderers and the mapping hold no label of their own: each is written once, in layout.py."""
    literals = {
        name: string_literals((ROOT / "service" / "forms" / name).read_text(encoding="utf-8"))
        for name in ("pdf_form.py", "docx_form.py", "fields.py", "values.py")
    }
    labels = {word for pair in layout_words()[1:] for word in pair if len(word) > 4}
    labels |= {label for column in L.COLUMNS for label in column.choices.values()}
    assert len(labels) > 30
    repeated = {
        (label, name)
        for label in labels
        for name, texts in literals.items()
        if any(label in t for t in texts)
    }
    assert repeated == set()


def test_the_printed_form_shows_latvian_dates_and_decimal_commas(printed_act, tmp_path):
    pdf = make_pdf_form(printed_act)
    docx = make_docx_form(printed_act)
    expected = [
        "02.10.2020.",  # the act's date
        "09.2020.",  # its month
        "01.09.2020.",  # a session's date
        "1,5",  # its units
        "30.01.2020.",  # the agreement's date, in the summary
        "01.03.2020.–31.01.2021.",  # an agreed service's period
        "16 stundu mēnesī",  # its quantity with its unit's plural form
        "12,50 €",  # its unit price
    ]
    for text in (printed_pdf(pdf, tmp_path), printed_docx(docx)):
        assert [word for word in expected if word not in text] == []
        assert not re.search(r"\b20[0-9]{2}-[0-9]{2}\b", text), "an ISO date or month is printed"
    assert read_pdf_form(pdf)["fields"]["sessions.0.date"] == "01.09.2020."
    assert read_docx_form(docx)["fields"]["sessions.0.units"] == "1,5"


@pytest.mark.parametrize("maker", ["pdftk", "docx"])
def test_a_form_filled_with_latvian_dates_and_decimal_commas_reads_back(maker, pdf_form, docx_form, tmp_path):
    if maker == "pdftk":
        form = read_pdf_form(fill_with_pdftk(pdf_form, LATVIAN_FILL, tmp_path))
    else:
        form = read_docx_form(fill_docx(docx_form, LATVIAN_FILL))
    filled = F.from_fields(form["fields"], form["agreement"])
    assert filled.problems == []
    raw = filled.act
    assert (raw["date"], raw["month"]) == ("2020-10-02", "2020-09")
    assert raw["sessions"][0]["date"] == "2020-09-01"  # as prefilled: 01.09.2020.
    assert (raw["sessions"][13]["date"], raw["sessions"][13]["units"]) == ("2020-09-30", "1.5")
    act = load_delivery(raw)
    assert act["sessions"][13]["units"] == Decimal("1.5")
    assert act["sessions"][13]["date"] == dt.date(2020, 9, 30)


def test_unreadable_dates_and_numbers_give_their_problem_at_the_form_field(pdf_form, tmp_path):
    typed = {"date": "10/02/2020", "month": "2020.09", "sessions.13.date": "30.09.20"}
    typed |= {"sessions.0.units": "1.000,5", "sessions.1.date": "31.09.2020."}
    form = read_pdf_form(fill_with_pdftk(pdf_form, typed, tmp_path))
    filled = F.from_fields(form["fields"], form["agreement"])
    with pytest.raises(ValidationError) as caught:
        DeliveryActSchema().load(filled.act)
    errors = error_codes(F.with_problems(filled.problems, caught.value.messages))
    assert {path: codes for path, codes in errors.items() if any(c.startswith("input.") for c in codes)} == {
        "/date": ["input.date_order"],
        "/month": ["input.month"],
        "/sessions/0/units": ["input.number_separators"],
        "/sessions/1/date": ["input.date_no_such_day"],
        "/sessions/13/date": ["input.date_year"],
    }
    assert not any(
        code in {"date.invalid", "month.invalid", "type.number"} for c in errors.values() for code in c
    )
    assert F.field_for("/sessions/13/date", filled.rows) == ("sessions.13.date", 1)
