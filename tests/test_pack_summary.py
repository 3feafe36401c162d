"""``summary.xlsx`` of a reimbursement pack: sheets, formulas, figures, formula injection, determinism."""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.documents.labels import load_labels
from service.packs.summary import LABELS_FILE, SHEETS, write_summary
from tests.helpers import load_reimbursement, load_sample

BAUSKA = "reimbursement-request-bauska-2020-09"
HOSTILE = '=HYPERLINK("http://x","y")'
CENT = Decimal("0.01")


def summary_xlsx(values, labels=None) -> bytes:
    """The workbook ``write_summary`` writes, as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "summary.xlsx"
        write_summary(values, target, labels)
        return target.read_bytes()


@pytest.fixture(scope="module")
def values():
    return load_reimbursement(load_sample(BAUSKA))


@pytest.fixture(scope="module")
def data(values):
    return summary_xlsx(values)


@pytest.fixture(scope="module")
def book(data):
    return load_workbook(io.BytesIO(data), data_only=False)


def cents(value) -> Decimal:
    """A cell's number as exact cents; it must have been written as exact cents."""
    assert isinstance(value, int | float), value
    exact = Decimal(repr(value))
    assert exact == exact.quantize(CENT), value
    return exact.quantize(CENT)


def data_rows(sheet):
    """The rows between the header and the "Kopā" row, and the number of that row."""
    rows = []
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "Kopā":
            return rows, row[0].row
        rows.append(row)
    raise AssertionError(f"{sheet.title} has no total row")


def sum_range(sheet, formula: str) -> Decimal:
    """Evaluate ``=SUM(X2:Xn)`` over the sheet's figures."""
    match = re.fullmatch(r"=SUM\(([A-Z])(\d+):\1(\d+)\)", formula)
    assert match, formula
    column, first, last = match[1], int(match[2]), int(match[3])
    return sum((cents(sheet[f"{column}{r}"].value) for r in range(first, last + 1)), Decimal("0.00"))


def summary_cells(book) -> dict[str, tuple]:
    """Kopsavilkums rows by their title: (figure, check formula, agreement formula)."""
    sheet = book["Kopsavilkums"]
    return {
        row[0].value: tuple(cell.value for cell in row[1:4])
        for row in sheet.iter_rows(min_row=1)
        if row[0].value
    }


def test_sheet_names(book):
    assert book.sheetnames == list(SHEETS) == ["Kopsavilkums", "Pa klientiem", "Pa pakalpojumiem", "Rindas"]


def test_by_client_adds_up_to_the_total(book, values):
    sheet = book["Pa klientiem"]
    assert [c.value for c in sheet[1]] == [
        "Personas kods",
        "Mērķa grupa",
        "Atbalsta plāna Nr.",
        "Vienošanās Nr.",
        "Summa, EUR",
    ]
    rows, total_row = data_rows(sheet)
    assert len(rows) == values["totals"]["clients"]
    assert {row[0].value for row in rows} == {r["personal_code"] for r in values["rows"]}
    assert sum(cents(row[4].value) for row in rows) == values["totals"]["amount"]
    formula = sheet[f"E{total_row}"].value
    assert formula == f"=SUM(E2:E{total_row - 1})"
    assert sum_range(sheet, formula) == values["totals"]["amount"]
    assert rows[0][4].number_format == '#,##0.00 "€"'
    # the target group in Latvian, from templates_lv/labels.toml
    groups = load_labels(LABELS_FILE)["target_group"]
    by_code = {r["personal_code"]: groups[r["target_group"]] for r in values["rows"]}
    assert {row[0].value: row[1].value for row in rows} == by_code
    assert "bērns ar funkcionāliem traucējumiem" in by_code.values()


def test_each_client_amount_is_exact(book, values):
    expected: dict[str, Decimal] = {}
    for row in values["rows"]:
        expected[row["personal_code"]] = expected.get(row["personal_code"], Decimal(0)) + row["amount"]
    rows, _ = data_rows(book["Pa klientiem"])
    assert {row[0].value: cents(row[4].value) for row in rows} == expected


def test_lines_add_up_to_the_total(book, values):
    sheet = book["Rindas"]
    rows, total_row = data_rows(sheet)
    assert len(rows) == values["totals"]["lines"] == len(values["lines"])
    assert sum(cents(row[6].value) for row in rows) == values["totals"]["amount"]
    assert sheet[f"G{total_row}"].value == f"=SUM(G2:G{total_row - 1})"
    assert sum_range(sheet, sheet[f"G{total_row}"].value) == values["totals"]["amount"]
    first, line = rows[0], values["lines"][0]
    assert first[0].value == line["agreement"]
    assert first[1].value == next(
        r["personal_code"] for r in values["rows"] if r["agreement"] == line["agreement"]
    )
    assert first[2].value == line["code"]
    assert first[3].value.date() == line["date"]
    assert cents(first[5].value) == line["unit_price"]
    assert cents(first[6].value) == line["amount"]


def test_by_service_adds_up_and_has_a_chart(book, values):
    sheet = book["Pa pakalpojumiem"]
    rows, total_row = data_rows(sheet)
    assert [row[0].value for row in rows] == list(dict.fromkeys(r["code"] for r in values["rows"]))
    for row in rows:
        mine = [r for r in values["rows"] if r["code"] == row[0].value]
        assert row[1].value == mine[0]["name"]
        assert row[2].value == mine[0]["unit"]
        assert Decimal(repr(row[3].value)) == sum(r["quantity"] for r in mine)
        assert cents(row[4].value) == sum(r["amount"] for r in mine)
        assert row[5].value.startswith("=SUMIFS(Rindas!$G$2:$G$")
    assert sheet[f"E{total_row}"].value == f"=SUM(E2:E{total_row - 1})"
    assert sum_range(sheet, sheet[f"E{total_row}"].value) == values["totals"]["amount"]
    assert len(sheet._charts) == 1
    chart = sheet._charts[0]
    assert chart.tagname == "barChart"
    assert "Pa pakalpojumiem" in chart.series[0].val.numRef.f


def test_summary_figures_are_the_schemas(book, values):
    cells = summary_cells(book)
    totals, funding = values["totals"], values["funding"]
    assert cells["Pieprasījuma Nr."][0] == values["number"]
    assert cells["Pašvaldība"][0] == values["submitter"]["name"]
    assert cells["Projekts"][0] == funding["project_name"]
    assert cells["Periods"][0] == "01.09.2020.–30.09.2020."
    total, total_check, total_ok = cells["Kopā, EUR"]
    assert cents(total) == totals["amount"]
    assert re.fullmatch(r"='Rindas'!G\d+", total_check)
    assert total_ok.startswith("=ROUND(")
    esf, esf_check, _ = cells["ESF finansējums, EUR"]
    state, state_check, _ = cells["Valsts budžeta finansējums, EUR"]
    assert cents(esf) == totals["esf"]
    assert cents(state) == totals["state"]
    assert Decimal(repr(cells["ESF finansējuma daļa, %"][0])) == funding["esf_share"]
    assert Decimal(repr(cells["Valsts budžeta finansējuma daļa, %"][0])) == funding["state_share"]
    assert re.fullmatch(r"=ROUND\(B\d+\*B\d+,0\)/100", esf_check)
    assert re.fullmatch(r"=B\d+-B\d+", state_check)
    assert re.fullmatch(r"='Pa klientiem'!E\d+", cells["Kopā pa klientiem, EUR"][1])


def test_summary_check_formulas_point_at_the_right_cells(book, values):
    """Evaluate the check formulas by hand: they give the schema's figures."""
    sheet = book["Kopsavilkums"]
    cells = summary_cells(book)
    esf_check = cells["ESF finansējums, EUR"][1]
    total_ref, share_ref = re.fullmatch(r"=ROUND\((B\d+)\*(B\d+),0\)/100", esf_check).groups()
    computed = (cents(sheet[total_ref].value) * Decimal(repr(sheet[share_ref].value)) / 100).quantize(CENT)
    assert computed == values["totals"]["esf"]
    minuend, subtrahend = re.fullmatch(
        r"=(B\d+)-(B\d+)", cells["Valsts budžeta finansējums, EUR"][1]
    ).groups()
    assert cents(sheet[minuend].value) - cents(sheet[subtrahend].value) == values["totals"]["state"]
    lines = book["Rindas"]
    ref = cells["Kopā, EUR"][1].split("!")[1]
    assert sum_range(lines, lines[ref].value) == values["totals"]["amount"]


def test_input_text_never_becomes_a_formula():
    request = load_sample(BAUSKA)
    agreement = request["agreements"][0]
    old = agreement["number"]
    agreement["number"] = HOSTILE
    agreement["plan_number"] = HOSTILE
    for line in request["lines"]:
        if line["agreement"] == old:
            line["agreement"] = HOSTILE
    values = load_reimbursement(request)
    # and some the schema would not let through, straight into the loaded values
    values["rows"][0]["personal_code"] = values["by_client"][0]["personal_code"] = "+1+1"
    values["rows"][0]["name"] = values["by_service"][0]["name"] = HOSTILE
    values["rows"][-1]["plan_number"] = "#N/A"
    values["by_client"][-1]["plans"].append("#N/A")
    values["submitter"]["name"] = "@SUM(1)"
    values["funding"]["project_name"] = "-2+3"
    book = load_workbook(io.BytesIO(summary_xlsx(values)), data_only=False)

    hostile = {HOSTILE, "+1+1", "#N/A", "@SUM(1)", "-2+3"}
    found = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and hostile & set(cell.value.split(", ")):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                    found.update(cell.value.split(", "))
                elif cell.data_type == "f":  # every formula is one the module wrote
                    assert cell.value.startswith(("=SUM", "=ROUND", "='", "=B")), cell.value
                    assert "HYPERLINK" not in cell.value
    assert hostile <= found
    lines = book["Rindas"]
    assert sum(1 for row in lines.iter_rows(min_row=2) if row[0].value == HOSTILE) == sum(
        1 for line in values["lines"] if line["agreement"] == HOSTILE
    )
    clients = list(book["Pa klientiem"].iter_rows(min_row=2, values_only=True))
    assert "+1+1" in [row[0] for row in clients]
    assert (HOSTILE, HOSTILE) in [(row[2], row[3]) for row in clients]
    assert book["Kopsavilkums"]["B6"].value == "@SUM(1)"
    assert book["Kopsavilkums"]["B6"].data_type == "s"
    # the raw XML holds them as strings (inline), never in an <f> element
    as_text = 0
    with zipfile.ZipFile(io.BytesIO(summary_xlsx(values))) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode()
                assert not re.search(r"<f>[^<]*HYPERLINK", xml)
                as_text += xml.count('<t>=HYPERLINK("http://x","y")</t>')
    assert as_text > 0


def test_same_input_same_bytes(values, data):
    assert summary_xlsx(values) == data
    assert summary_xlsx(load_reimbursement(load_sample(BAUSKA))) == data


def test_fixed_timestamps(data, book, values):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2020, 10, 8, 0, 0, 0)}
    assert book.properties.created == dt.datetime(2020, 10, 8)
    assert book.properties.modified == dt.datetime(2020, 10, 8)
    assert values["date"] == dt.date(2020, 10, 8)


def test_other_input_other_bytes(values, data):
    changed = load_reimbursement(load_sample(BAUSKA) | {"number": "KP-BNP-2020/09-2"})
    assert summary_xlsx(changed) != data


def test_the_lines_may_come_from_any_iterable_read_once(values, data):
    streamed = {**values, "lines": (line for line in values["lines"])}
    assert summary_xlsx(streamed) == data


def test_a_failed_workbook_leaves_neither_a_file_nor_its_rows_behind(values, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # where openpyxl streams the sheets
    (tmp_path / "tmp").mkdir()
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "summary.xlsx"
    broken = {**values, "lines": [*values["lines"], {"agreement": "L-1"}]}  # a line without its figures
    with pytest.raises(KeyError):
        write_summary(broken, target)
    assert list((tmp_path / "out").iterdir()) == [] and list((tmp_path / "tmp").iterdir()) == []
    write_summary(values, target)
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["summary.xlsx"]
    assert list((tmp_path / "tmp").iterdir()) == []
    assert load_workbook(target).sheetnames == list(SHEETS)
