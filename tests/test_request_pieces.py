"""The long request converted to PDF in pieces (service/packs/pieces.py): the splitter on its own (fast,
no LibreOffice), then 1 200 rows in pieces of at most 410 table rows through the real LibreOffice — every
row in order, the totals, the column headers on every page of the rows and "Lapa X no N" read on across
the pieces."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from lxml import etree

from service.documents import KINDS, Templates
from service.documents.formatting import money
from service.documents.pdf import ConversionFailed, ConversionTimeout
from service.packs.pieces import Element, W, convert_in_pieces, plan_pieces, split_docx
from tests.test_pdf_conversion import ROOT, started_pool
from tests.test_request_layout import HEADER, request_of

ROWS, PIECE_ROWS = 1200, 410
KIND = KINDS["reimbursement-request"]


def body_texts(docx: bytes) -> list[str]:
    """The text of each top-level body element but the final section properties."""
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        body = etree.fromstring(package.read("word/document.xml"))[0]
    return ["".join(child.itertext()) for child in body if etree.QName(child).localname != "sectPr"]


def member(docx: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return package.read(name)


# --- the splitter, without LibreOffice -----------------------------------------------------------------


def test_the_plan_cuts_before_a_table_and_its_leading_paragraphs_and_keeps_a_big_table_whole():
    p, small, big = Element(0, 0, "p"), Element(0, 0, "tbl", rows=100), Element(0, 0, "tbl", rows=900)
    assert plan_pieces([p, small, p, small, p, small, p], 250) == [range(0, 4), range(4, 7)]
    assert plan_pieces([p, small, p, big, p, small], 250) == [range(0, 2), range(2, 4), range(4, 6)]
    assert plan_pieces([p, big, p], 250) == [range(0, 3)]
    assert plan_pieces([p, p], 250) == [range(0, 2)]
    ends_section = Element(0, 0, "p", breaks_section=True)
    assert plan_pieces([small, small, ends_section, small, small], 100) == [range(0, 4), range(4, 5)]
    with pytest.raises(ValueError):
        plan_pieces([p], 0)


@pytest.fixture(scope="module")
def values():
    return request_of(ROWS)


@pytest.fixture(scope="module")
def docx_file(values, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("request") / "request.docx"
    path.write_bytes(Templates.of(ROOT / "templates_lv").render(KIND, values))
    return path


def test_the_pieces_hold_exactly_the_body_s_elements_in_order_each_with_the_section(docx_file, tmp_path):
    split = split_docx(docx_file, tmp_path, PIECE_ROWS)
    original = docx_file.read_bytes()
    pieces = [split.piece(index) for index in range(len(split))]

    # tables of 200 rows and a header row each: the summary with the first, two by two, the last with
    # its totals and the signatures
    assert split.rows == [9 + 201, 402, 402, 201 + 3 + 4]
    assert [text for piece in pieces for text in body_texts(piece)] == body_texts(original)
    section = re.search(rb"<w:sectPr.*</w:sectPr>", member(original, "word/document.xml")).group()
    for piece in pieces:
        assert re.search(rb"<w:sectPr.*</w:sectPr>", member(piece, "word/document.xml")).group() == section
        with zipfile.ZipFile(io.BytesIO(piece)) as package:
            assert package.namelist() == zipfile.ZipFile(docx_file).namelist()
            assert member(piece, "word/footer1.xml") == member(original, "word/footer1.xml")


def test_a_later_piece_numbers_its_pages_on_and_prints_the_whole_total(docx_file, tmp_path):
    split = split_docx(docx_file, tmp_path, PIECE_ROWS)
    piece = split.piece(2, start=17, total=41)

    document = etree.fromstring(member(piece, "word/document.xml"))
    numbers = document.find(f"{{{W}}}body/{{{W}}}sectPr/{{{W}}}pgNumType")
    assert numbers.get(f"{{{W}}}start") == "17"
    footer = etree.fromstring(member(piece, "word/footer1.xml"))
    instructions = "".join(footer.itertext(f"{{{W}}}instrText"))
    assert "NUMPAGES" not in instructions and "PAGE" in instructions
    assert "".join(footer.itertext(f"{{{W}}}t")).endswith("Lapa 1 no 41")  # PAGE's cached result, then 41


def test_a_template_printing_every_row_in_one_table_keeps_that_table_whole_in_one_piece(values, tmp_path):
    from service.documents.docx import CompiledTemplate
    from tests.test_request_layout import one_table_template

    compiled = CompiledTemplate.from_bytes(
        KIND.template, one_table_template(), Templates.of(ROOT / "templates_lv").environment
    )
    source = tmp_path / "one-table.docx"
    source.write_bytes(compiled.render({"reimbursement": values, "municipality": {"clauses": {}}}))
    split = split_docx(source, tmp_path, PIECE_ROWS)
    assert split.rows == [9, ROWS + 1 + 3, 4]  # the summary; every row, the header and the totals; signatures


# --- through LibreOffice -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool():
    pool = started_pool(size=1)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def pieces_pdf(pool, docx_file, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("pdf") / "request.pdf"
    asked: list[int] = []
    assert convert_in_pieces(pool, docx_file, target, lambda rows: asked.append(rows) or 120, PIECE_ROWS) == 4
    assert asked == [210, 402, 402, 208]  # each piece's time limit by the rows it prints
    return target


def page_texts(pdf: Path) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [" ".join(page.get_textpage().get_text_range().split()) for page in document]
    finally:
        document.close()


def test_the_pdf_in_pieces_prints_every_row_in_order_the_totals_headers_and_pages_of_the_whole(
    pieces_pdf, values
):
    pages = page_texts(pieces_pdf)
    text = "\n".join(pages).replace(" .", ".")  # pdfium reads "1000." as "1000 ."
    position = 0
    for row in values["rows"]:
        for printed in (f"{row['number']}.", row["agreement"]):
            found = text.find(printed, position)
            assert found >= 0, f"row {row['number']} missing or out of order"
            position = found + len(printed)
    totals = values["totals"]
    flat = text.replace("\u00a0", " ")
    assert flat.count(f"Kopā {money(totals['amount'])}".replace("\u00a0", " ")) == 1
    for amount in (totals["esf"], totals["state"]):
        assert money(amount).replace("\u00a0", " ") in flat
    with_rows = [page for page in pages if "GEN-L-" in page]
    assert len(with_rows) >= 40
    assert all(HEADER in page for page in with_rows)
    footers = [re.findall(r"Lapa (\d+) no (\d+)", page) for page in pages]
    assert footers == [[(str(number), str(len(pages)))] for number in range(1, len(pages) + 1)]
    for page in pages:  # the page header and the footer's first half on every page
        assert "Ierobežotas pieejamības informācija" in page
        assert f"Izmaksu kompensācijas pieprasījums Nr. {values['number']}" in page
    with pikepdf.open(pieces_pdf) as pdf:
        assert str(pdf.docinfo.Title) == "Izmaksu kompensācijas pieprasījums"
        assert "/CreationDate" not in pdf.docinfo
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
    assert titles == [
        "1. Pieprasījuma kopsavilkums",
        "2. Sniegtie pakalpojumi",
        "3. Pielikumi",
        "4. Apliecinājums",
        "5. Paraksti",
    ]


def test_without_a_page_count_in_the_footer_each_piece_is_converted_once_its_numbers_carrying_on(
    pool, docx_file, tmp_path
):
    """A template whose footer prints PAGE twice and NUMPAGES nowhere: no piece is counted first."""
    source = tmp_path / "no-total.docx"
    with zipfile.ZipFile(docx_file) as package, zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as out:
        for info in package.infolist():
            data = package.read(info)
            out.writestr(info, data.replace(b" NUMPAGES ", b" PAGE ") if "footer" in info.filename else data)
    target = tmp_path / "no-total.pdf"
    before = pool.state()["conversions"]

    assert convert_in_pieces(pool, source, target, lambda rows: 120, PIECE_ROWS) == 4
    assert pool.state()["conversions"] - before == 4
    pages = page_texts(target)
    footers = [re.findall(r"Lapa (\d+) no (\d+)", page) for page in pages]
    assert footers == [[(str(number), str(number))] for number in range(1, len(pages) + 1)]


def test_the_pool_counts_the_pages_a_document_prints_on(pool):
    docx = Templates.of(ROOT / "templates_lv").render(KIND, request_of(120))
    pdf = pool.convert(docx)
    with pikepdf.open(io.BytesIO(pdf)) as printed:
        assert pool.pages(docx) == len(printed.pages) > 1


def test_a_document_that_fits_one_piece_is_converted_whole_as_before(pool, tmp_path):
    docx = Templates.of(ROOT / "templates_lv").render(KIND, request_of(20))
    source = tmp_path / "short.docx"
    source.write_bytes(docx)
    target = tmp_path / "short.pdf"

    assert convert_in_pieces(pool, source, target, lambda rows: 60, PIECE_ROWS) == 1
    from service.packs.fixed_pdf import fixed_pdf

    assert target.read_bytes() == fixed_pdf(pool.convert(docx))


def test_a_piece_that_fails_or_times_out_fails_the_document_and_leaves_no_pdf(pool, docx_file, tmp_path):
    target = tmp_path / "request.pdf"
    with pytest.raises(ConversionTimeout):
        convert_in_pieces(pool, docx_file, target, lambda rows: 0.5, PIECE_ROWS)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []

    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(docx_file) as package, zipfile.ZipFile(broken, "w") as out:
        for info in package.infolist():
            data = package.read(info)
            out.writestr(
                info, data.replace(b"</w:tbl>", b"</w:tb>", 1) if info.filename.endswith("ent.xml") else data
            )
    with pytest.raises(ConversionFailed, match="cut into pieces"):
        convert_in_pieces(pool, broken, target, lambda rows: 60, PIECE_ROWS)
    assert not target.exists()


def test_a_pack_makes_its_long_request_s_pdf_in_pieces_and_merges_it_into_pack_pdf(
    pool, tmp_path, database_url
):
    """With a bound of one row the sample's request is cut at every table: its PDF in the pack still reads
    "Lapa 1 no N" … "Lapa N no N", and pack.pdf holds its pages."""
    from service import accounts, create_app
    from service.store import database
    from tests.test_packs import make_pack, order

    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "JOBS_DIR": tmp_path / "jobs", "PDF_PIECE_ROWS": 1}
    )
    with database(app).session() as session:
        _, token = accounts.add_user(session, "fo", "finance_officer", "bauska")
    body = order(pdf=True)
    keep = {agreement["number"] for agreement in body["agreements"][:3]}
    body["agreements"] = [a for a in body["agreements"] if a["number"] in keep]
    body["lines"] = [line for line in body["lines"] if line["agreement"] in keep]
    _, data = make_pack(app.test_client(), body, {"Authorization": f"Bearer {token}"})

    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        (name,) = [n for n in pack.namelist() if n.endswith(".pdf") and "pieprasijums" in n.lower()]
        (tmp_path / "request.pdf").write_bytes(pack.read(name))
        whole = pool.pages(pack.read(name.removesuffix(".pdf") + ".docx"))
        (tmp_path / "pack.pdf").write_bytes(pack.read("pack.pdf"))
    pages = page_texts(tmp_path / "request.pdf")
    assert len(pages) > whole  # each piece begins a page
    footers = [re.findall(r"Lapa (\d+) no (\d+)", page) for page in pages]
    assert footers == [[(str(number), str(len(pages)))] for number in range(1, len(pages) + 1)]
    assert all("KP-BNP-2020/09" in page for page in pages)
    packed = "\n".join(page_texts(tmp_path / "pack.pdf"))
    assert all(page in packed for page in pages)


@pytest.mark.parametrize("bad", ["0", "-3", "1.5k"])
def test_the_piece_bound_is_a_positive_whole_number(bad):
    from service.config import SettingsError, from_environment

    assert from_environment({})["PDF_PIECE_ROWS"] == 1500
    with pytest.raises(SettingsError, match="VEIDLAPAS_PDF_PIECE_ROWS"):
        from_environment({"VEIDLAPAS_PDF_PIECE_ROWS": bad})
