"""The printed reimbursement request at a size that needs several tables: 450 rows in three Word tables of
at most 200, each with its repeated header row, and in the PDF (the real LibreOffice) every row in order,
the totals once and the column headers on every page of the table."""

from __future__ import annotations

import io
import itertools
import re
import zipfile

import pypdfium2
import pytest
from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from bench.pack_data import pack_order
from schemas.pack import PackOrderSchema, request_input
from schemas.reimbursement import TABLE_ROWS, ReimbursementRequestSchema
from service.config import SettingsError, from_environment
from service.documents import KINDS, Templates
from service.documents.docx import CompiledTemplate
from service.documents.formatting import money
from service.documents.uploaded import check_template
from service.packs.job import PackJob
from tests.test_pdf_conversion import ROOT, started_pool

ROWS = 450
HEADER = "Klienta personas kods"
KIND = KINDS["reimbursement-request"]


def request_of(clients: int) -> dict:
    """A loaded request with one row per client (one delivery line each)."""
    order = pack_order(clients, lines_per_client=1)
    header = PackOrderSchema().load_header(order)
    raw = request_input(header, order["agreements"], order["lines"], attachments=[])
    return ReimbursementRequestSchema().load(raw)


@pytest.fixture(scope="module")
def values():
    values = request_of(ROWS)
    assert len(values["rows"]) == ROWS
    return values


@pytest.fixture(scope="module")
def docx(values) -> bytes:
    return Templates.of(ROOT / "templates_lv").render(KIND, values)


def row_tables(document) -> list:
    """The tables of section 2: those whose first row holds the column titles."""
    return [table for table in document.tables if HEADER in table.rows[0].cells[1].text]


def test_the_schema_numbers_the_rows_and_parts_them_in_order(values):
    assert [row["number"] for row in values["rows"]] == list(range(1, ROWS + 1))
    assert [len(table) for table in values["tables"]] == [200, 200, 50]
    assert [row for table in values["tables"] for row in table] == values["rows"]


def test_the_rows_are_in_tables_of_at_most_200_each_with_a_repeated_header_row(docx, values):
    tables = row_tables(Document(io.BytesIO(docx)))

    assert len(tables) == 3
    printed = []
    for index, table in enumerate(tables):
        first = table.rows[0]._tr
        assert first.find(qn("w:trPr")).find(qn("w:tblHeader")) is not None, index
        body = [row for row in table.rows[1:] if re.fullmatch(r"\d+\.", row.cells[0].text)]
        assert len(body) <= TABLE_ROWS
        printed += [(row.cells[0].text, row.cells[4].text) for row in body]
        has_totals = any(row.cells[0].text == "Kopā" for row in table.rows)
        assert has_totals == (index == len(tables) - 1), index
    assert printed == [(f"{row['number']}.", row["agreement"]) for row in values["rows"]]


def test_the_tables_are_apart_so_that_libreoffice_keeps_them_apart(docx):
    body = Document(io.BytesIO(docx)).element.body
    tables = [index for index, child in enumerate(body) if child.tag == qn("w:tbl")]
    touching = [pair for pair in itertools.pairwise(tables) if pair[1] == pair[0] + 1]
    assert touching == [], "two tables touch: LibreOffice joins them into one"


@pytest.fixture(scope="module")
def pdf_pages(docx) -> list[str]:
    pool = started_pool(size=1)
    try:
        pdf = pool.convert(docx, timeout_s=300)
    finally:
        pool.close()
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def test_the_pdf_prints_every_row_in_order_the_totals_and_the_headers_on_every_page(pdf_pages, values):
    text = "\n".join(pdf_pages)
    position = 0
    for row in values["rows"]:
        found = text.find(row["agreement"], position)
        assert found >= 0, f"row {row['number']} ({row['agreement']}) missing or out of order"
        position = found + len(row["agreement"])
    totals = values["totals"]
    assert sum(row["amount"] for row in values["rows"]) == totals["amount"]
    flat = " ".join(text.split()).replace("\u00a0", " ")
    for amount in (totals["amount"], totals["esf"], totals["state"]):
        assert money(amount).replace("\u00a0", " ") in flat
    assert flat.count(f"Kopā {money(totals['amount'])}".replace("\u00a0", " ")) == 1
    pages_with_rows = [page for page in pdf_pages if "GEN-L-" in page]
    assert len(pages_with_rows) >= 20
    for number, page in enumerate(pages_with_rows, start=1):
        assert HEADER in " ".join(page.split()), f"page {number} of the table has no column headers"


def one_table_template() -> bytes:
    """The standard request as it was before its rows came in parts (and as a municipality may have
    uploaded it): one table, one ``{%tr for row in reimbursement.rows %}`` loop numbered by ``loop.index``."""
    with zipfile.ZipFile(ROOT / "templates_lv" / KIND.template) as package:
        members = {info: package.read(info) for info in package.infolist()}
    document = next(info for info in members if info.filename == "word/document.xml")
    root = etree.fromstring(members[document])
    body = root.find(qn("w:body"))
    controls = [p for p in body.iterchildren(qn("w:p")) if "".join(p.itertext()).startswith("{%p")]
    parts = [p for p in controls if "table" in "".join(p.itertext()) or "loop.last" in "".join(p.itertext())]
    (opening, between) = parts
    separator = between.getnext()
    closing = [separator.getnext(), separator.getnext().getnext()]
    for element in (opening, between, separator, *closing):
        body.remove(element)
    for row in list(root.iter(qn("w:tr"))):
        if "".join(row.itertext()) in ("{%tr if loop.last %}", "{%tr endif %}"):
            row.getparent().remove(row)
    renamed = {
        "{%tr for row in table %}": "{%tr for row in reimbursement.rows %}",
        "{{ row.number }}": "{{ loop.index }}",
    }
    for text in root.iter(qn("w:t")):
        text.text = renamed.get(text.text, text.text)
    members[document] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members.items():
            target.writestr(info, data)
    return out.getvalue()


def test_a_template_with_all_rows_in_one_table_still_passes_the_check_and_prints_them_all(values):
    data = one_table_template()
    assert "reimbursement.tables" not in "".join(_texts(data))
    check = check_template(data, KIND)
    assert check.accepted, [found.problem for found in check.problems]
    compiled = CompiledTemplate.from_bytes(
        KIND.template, data, Templates.of(ROOT / "templates_lv").environment
    )
    document = Document(
        io.BytesIO(compiled.render({"reimbursement": values, "municipality": {"clauses": {}}}))
    )
    (table,) = row_tables(document)
    printed = [row.cells[4].text for row in table.rows[1:] if re.fullmatch(r"\d+\.", row.cells[0].text)]
    assert printed == [row["agreement"] for row in values["rows"]]
    assert table.rows[ROWS].cells[0].text == f"{ROWS}."


def _texts(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return list(etree.fromstring(package.read("word/document.xml")).itertext())


def test_a_pack_gives_a_long_request_more_time_to_convert_by_its_rows(values):
    """The converter's time limit grows with the rows printed, so a 10 000-client request (linear, but a
    minute or more) is not killed as hung; a client's detail keeps about the plain limit."""
    limits = {"VEIDLAPAS_PDF_TIMEOUT_S": "45", "VEIDLAPAS_PDF_TIMEOUT_PER_1000_ROWS_S": "40"}
    config = from_environment(limits)
    job = PackJob(PackJob.settings(config))
    assert job._timeout(len(values["rows"])) == pytest.approx(45 + 0.450 * 40)
    assert job._timeout(3) == pytest.approx(45.12)
    assert job._timeout(0) == 45  # an act prints no rows
    with pytest.raises(SettingsError, match="VEIDLAPAS_PDF_TIMEOUT_PER_1000_ROWS_S must be positive"):
        from_environment({"VEIDLAPAS_PDF_TIMEOUT_PER_1000_ROWS_S": "0"})
