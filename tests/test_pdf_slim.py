"""The copy of a DOCX LibreOffice is given: unused style definitions left out, nothing in use lost, and
the PDF the same page for page (real LibreOffice and poppler)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest

from service.documents import KINDS, Templates
from service.documents.pdf import ConversionPool, ConverterUnavailable
from service.documents.slim import STYLES, slim_docx

ROOT = Path(__file__).resolve().parent.parent
STYLE_ID = re.compile(rb'<w:style [^>]*w:styleId="([^"]*)"')


def style_ids(docx: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return {name.decode() for name in STYLE_ID.findall(package.read(STYLES))}


def members(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return {name: package.read(name) for name in package.namelist()}


@pytest.fixture(scope="module")
def plan_docx() -> bytes:
    data = json.loads((ROOT / "samples" / "support-plan-adult-support-person.json").read_text("utf-8"))
    kind = KINDS["support-plan"]
    return Templates.of(ROOT / "templates_lv").render(kind, kind.schema().load(data))


def test_unused_styles_go_and_every_used_one_stays_with_what_it_rests_on(plan_docx):
    slim = slim_docx(plan_docx)
    before, after = style_ids(plan_docx), style_ids(slim)
    parts = members(plan_docx)
    used = {
        name.decode()
        for part, data in parts.items()
        if part.startswith("word/") and part != STYLES
        for name in re.findall(rb'<w:(?:pStyle|rStyle|tblStyle) w:val="([^"]*)"', data)
    }
    assert used and used <= after, used - after
    assert len(after) < len(before) / 4, (len(before), len(after))
    styles = members(slim)[STYLES]
    for rests_on in re.findall(rb'<w:(?:basedOn|link|next) w:val="([^"]*)"', styles):
        assert rests_on.decode() in after  # no kept style points at a removed one
    assert b'w:default="1"' in styles and b"<w:docDefaults" in styles
    # every other part unchanged
    assert {k: v for k, v in members(slim).items() if k != STYLES} == {
        k: v for k, v in parts.items() if k != STYLES
    }


def test_a_style_named_only_in_a_header_is_kept():
    docx = package(
        document=b'<w:p><w:pPr><w:pStyle w:val="Body"/></w:pPr></w:p>',
        header=b'<w:p><w:pPr><w:pStyle w:val="Top"/></w:pPr></w:p>',
    )
    assert style_ids(slim_docx(docx)) == {"Normal", "Body", "Base", "Top"}


def test_what_it_cannot_read_surely_is_passed_on_untouched():
    assert slim_docx(b"not a zip") == b"not a zip"
    other_prefix = package(document=b"<w:p/>", namespace=b"urn:something-else")
    assert slim_docx(other_prefix) == other_prefix
    broken = package(document=b"<w:p/>", styles=b"<w:styles")
    assert slim_docx(broken) == broken


def test_the_pdf_is_the_same_page_for_page_with_real_libreoffice(plan_docx):
    try:
        with ConversionPool(size=1, slim=False) as plain, ConversionPool(size=1) as slim:
            pages = [rendered(pool.convert(plan_docx)) for pool in (plain, slim)]
    except ConverterUnavailable as error:
        pytest.fail(f"LibreOffice cannot run here: {error}", pytrace=False)
    assert len(pages[0]) > 1
    assert pages[0] == pages[1]


def rendered(pdf: bytes) -> list[bytes]:
    """Every page as a grey-scale image (poppler), for comparison."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "in.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "40", "-gray", "in.pdf", "page"], cwd=folder, check=True)
        return [path.read_bytes() for path in sorted(Path(folder).glob("page-*.pgm"))]


W = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def package(document: bytes, header: bytes = b"", styles: bytes | None = None, namespace: bytes = W) -> bytes:
    """A minimal package: a document, perhaps a header, and four styles (Base under Body, and Top)."""

    def part(root: bytes, body: bytes) -> bytes:
        return b'<?xml version="1.0"?><w:%s xmlns:w="%s">%s</w:%s>' % (root, namespace, body, root)

    if styles is None:
        styles = part(
            b"styles",
            b'<w:docDefaults/><w:style w:type="paragraph" w:default="1" w:styleId="Normal"/>'
            b'<w:style w:type="paragraph" w:styleId="Base"/>'
            b'<w:style w:type="paragraph" w:styleId="Body"><w:basedOn w:val="Base"/></w:style>'
            b'<w:style w:type="paragraph" w:styleId="Top"/>'
            b'<w:style w:type="paragraph" w:styleId="Unused"/>',
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        zipped.writestr("word/document.xml", part(b"document", b"<w:body>%s</w:body>" % document))
        if header:
            zipped.writestr("word/header1.xml", part(b"hdr", header))
        zipped.writestr(STYLES, styles)
    return out.getvalue()
