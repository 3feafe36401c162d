"""Delivery lines and agreements as tables: the input template, the samples, and uploads read back with the
sheet, row and column of every value and every problem."""

from __future__ import annotations

import datetime as dt
import io
import runpy
import zipfile
from pathlib import Path

import pytest
from marshmallow import ValidationError
from openpyxl import Workbook, load_workbook

from schemas import catalogue
from schemas.errors import MESSAGES, flatten
from schemas.parties import TARGET_GROUPS
from schemas.reimbursement import ReimbursementRequestSchema
from service.forms.uploads import UploadLimits
from service.packs import tables
from service.packs.tables import AGREEMENTS, LINES, TableRejected, input_template, read_table_files
from service.tables import reading
from tests.helpers import load_reimbursement, load_sample

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
BAUSKA = "reimbursement-request-bauska-2020-09"
XLSX_SAMPLE = SAMPLES / "pack-bauska-2020-09.xlsx"
LINES_CSV = SAMPLES / "pack-lines-bauska-2020-09.csv"
AGREEMENTS_CSV = SAMPLES / "pack-agreements-bauska-2020-09.csv"
MiB = 1024 * 1024
HOSTILE = '=HYPERLINK("http://x","y")'
LINES_HEADER = "Līguma Nr.;Pakalpojuma kods;Datums;Vienības\r\n"
AGREEMENTS_HEADER = ";".join(column.header for column in AGREEMENTS.columns) + "\r\n"


def read(files: dict[str, bytes], **limits) -> tables.TableInput:
    return read_table_files(files, UploadLimits(max_bytes=limits.pop("max_bytes", 5 * MiB)), **limits)


def problems(files: dict[str, bytes], **limits) -> list[tuple[dict, str, dict]]:
    with pytest.raises(TableRejected) as caught:
        read(files, **limits)
    return [tuple(problem) for problem in caught.value.problems]


def with_tables(table: tables.TableInput) -> dict:
    """The JSON sample with its agreements and lines taken from the tables."""
    request = load_sample(BAUSKA)
    request["agreements"], request["lines"] = table.agreements, table.lines
    return request


def schema_paths(request: dict) -> dict[tuple, list[str]]:
    try:
        ReimbursementRequestSchema().load(request)
    except ValidationError as exc:
        found: dict[tuple, list[str]] = {}
        for path, message in flatten(exc.messages):
            found.setdefault(path, []).append(message.code)
        return found
    return {}


def rebuild(package: bytes, add: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None):
    """The ZIP with some members added or replaced."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, (replace or {}).get(info.filename, source.read(info)))
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def workbook_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def lines_workbook(*rows: list) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Rindas"
    sheet.append([column.header for column in LINES.columns])
    for row in rows:
        sheet.append(row)
    return workbook


@pytest.fixture(scope="module")
def expected():
    return load_reimbursement(load_sample(BAUSKA))


@pytest.fixture(scope="module")
def template():
    return input_template()


# --- the samples ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "files",
    [
        {"lines": XLSX_SAMPLE},
        {"lines": LINES_CSV, "agreements": AGREEMENTS_CSV},
        {"agreements": AGREEMENTS_CSV, "lines": LINES_CSV},
    ],
    ids=["xlsx", "csv", "csv-other-order"],
)
def test_samples_load_like_the_json_sample(files, expected):
    table = read({name: path.read_bytes() for name, path in files.items()})
    sample = load_sample(BAUSKA)
    assert len(table.agreements) == len(sample["agreements"])
    assert [a["number"] for a in table.agreements] == [a["number"] for a in sample["agreements"]]
    assert sum(len(a["services"]) for a in table.agreements) == sum(
        len(a["services"]) for a in sample["agreements"]
    )
    loaded = load_reimbursement(with_tables(table))
    assert loaded["totals"]["amount"] == expected["totals"]["amount"]
    assert loaded["totals"]["lines"] == expected["totals"]["lines"] == len(sample["lines"])
    assert loaded["rows"] == expected["rows"]
    assert loaded["agreements"] == expected["agreements"]


def test_samples_are_what_the_script_makes_now():
    script = runpy.run_path(str(ROOT / "scripts" / "make-pack-samples"), run_name="not_main")
    sample = load_sample(BAUSKA)
    assert XLSX_SAMPLE.read_bytes() == input_template(sample["agreements"], sample["lines"])
    assert LINES_CSV.read_bytes() == script["latvian_csv"](LINES, sample["lines"]).encode("utf-8-sig")
    assert AGREEMENTS_CSV.read_bytes() == script["latvian_csv"](AGREEMENTS, sample["agreements"]).encode(
        "cp1257"
    )


def test_sample_csvs_are_as_latvian_excel_writes_them():
    lines = LINES_CSV.read_bytes()
    assert lines.startswith(b"\xef\xbb\xbf" + "Līguma Nr.;Pakalpojuma kods;Datums;Vienības\r\n".encode())
    assert b";2,5\r\n" in lines and b";2.5" not in lines
    agreements = AGREEMENTS_CSV.read_bytes()
    assert agreements.startswith("Līguma Nr.;Plāna Nr.".encode("cp1257"))
    with pytest.raises(UnicodeDecodeError):
        agreements.decode("utf-8")


def test_values_are_what_the_schema_expects():
    table = read({"file": XLSX_SAMPLE.read_bytes()})
    sample = load_sample(BAUSKA)
    first = table.agreements[0]
    assert first["term"] == sample["agreements"][0]["term"] == {"start": "2020-02-01", "end": "2021-01-31"}
    assert first["services"][0] == {
        "code": "APLP",
        "quantity": "16",
        "start": "2020-02-01",
        "end": "2021-01-31",
    }
    assert "birth_date" not in first["client"]  # an empty cell is left out
    assert table.agreements[5]["client"]["birth_date"] == "2017-09-12"
    assert [line["units"] for line in table.lines] == [line["units"] for line in sample["lines"]]
    assert {"2.5", "1.5", "1"} <= {line["units"] for line in table.lines}


def test_places_of_the_sample(expected):
    table = read({"file": XLSX_SAMPLE.read_bytes()})
    # agreement 0 has four services (rows 2-5), agreement 1 two (rows 6-7), agreement 2 starts at row 8
    assert table.place(("lines", 4, "date")) == {"sheet": "Rindas", "row": 6, "column": "Datums"}
    assert table.place(("agreements", 2, "services", 1, "quantity")) == {
        "sheet": "Līgumi",
        "row": 9,
        "column": "Daudzums mēnesī",
    }
    assert table.place(("agreements", 2, "client", "personal_code")) == {
        "sheet": "Līgumi",
        "row": 8,
        "column": "Personas kods",
    }
    assert table.place(("agreements", 2, "term", "end")) == {
        "sheet": "Līgumi",
        "row": 8,
        "column": "Līgums līdz",
    }
    assert table.place(("agreements", 2)) == {"sheet": "Līgumi", "row": 8}
    assert table.place(("agreements", 2, "services")) == {"sheet": "Līgumi", "row": 8}
    assert table.place(("lines",)) == {"sheet": "Rindas"}
    assert table.place(("period",)) is None
    assert table.place(("lines", 999, "date")) is None
    assert read({"lines": LINES_CSV.read_bytes()}).place(("agreements", 0)) is None


# --- the template -----------------------------------------------------------------------------------------


def test_template_sheets_headers_and_formats(template):
    book = load_workbook(io.BytesIO(template))
    assert book.sheetnames == ["Norādes", "Līgumi", "Rindas", "Kodi"]
    agreements, lines = book["Līgumi"], book["Rindas"]
    assert [c.value for c in agreements[1]] == [
        "Līguma Nr.",
        "Plāna Nr.",
        "Personas kods",
        "Dzimšanas datums",
        "Vārds, uzvārds",
        "Mērķa grupa",
        "Līgums no",
        "Līgums līdz",
        "Pakalpojuma kods",
        "Daudzums mēnesī",
        "Pakalpojums no",
        "Pakalpojums līdz",
    ]
    assert [c.value for c in lines[1]] == ["Līguma Nr.", "Pakalpojuma kods", "Datums", "Vienības"]
    for sheet in (agreements, lines):
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in sheet[1])
        assert sheet.max_row == 1
    assert lines.column_dimensions["C"].number_format == "DD.MM.YYYY"
    assert lines.column_dimensions["D"].number_format == "0.00"
    assert lines.column_dimensions["A"].number_format == "@"  # "2020/001" stays text
    assert agreements.column_dimensions["G"].number_format == "DD.MM.YYYY"
    assert agreements.column_dimensions["E"].width == 22


def test_template_validations_point_at_the_code_lists(template):
    book = load_workbook(io.BytesIO(template))
    codes = book["Kodi"]
    services = catalogue.default().services
    listed = {row[0]: row[1:4] for row in codes.iter_rows(min_row=2, max_col=4, values_only=True) if row[0]}
    assert list(listed) == list(services)
    assert listed["SK-PSIH"] == ("psihologa konsultācija", "stunda", 0.25)
    groups = [row for row in codes.iter_rows(min_row=2, min_col=6, max_col=7, values_only=True) if row[0]]
    assert [code for code, _ in groups] == list(TARGET_GROUPS)
    assert ("adult_grt", "pilngadīga persona ar garīga rakstura traucējumiem") in groups

    def validations(sheet):
        return {str(v.sqref): (v.type, v.formula1) for v in book[sheet].data_validations.dataValidation}

    last = len(services) + 1
    assert validations("Rindas") == {"B2:B1048576": ("list", f"Kodi!$A$2:$A${last}")}
    assert validations("Līgumi") == {
        "I2:I1048576": ("list", f"Kodi!$A$2:$A${last}"),
        "F2:F1048576": ("list", f"Kodi!$F$2:$F${len(TARGET_GROUPS) + 1}"),
    }


def test_template_instructions(template):
    notes = load_workbook(io.BytesIO(template))["Norādes"]
    text = " ".join(str(c) for row in notes.iter_rows(values_only=True) for c in row if c)
    for phrase in (
        "vairākas rindas",
        "mērvienībā",
        "GGGG-MM-DD",
        "Windows-1257",
        "Daudzums mēnesī",
        "«Kodi»",
    ):
        assert phrase in text
    described = [
        (row[0], row[1]) for row in notes.iter_rows(values_only=True) if row[0] in ("Līgumi", "Rindas")
    ]
    assert described == [("Līgumi", c.header) for c in AGREEMENTS.columns] + [
        ("Rindas", c.header) for c in LINES.columns
    ]


def test_template_bytes_are_deterministic(template):
    assert input_template() == template
    sample = load_sample(BAUSKA)
    assert input_template(sample["agreements"], sample["lines"]) == XLSX_SAMPLE.read_bytes()
    with zipfile.ZipFile(io.BytesIO(template)) as package:
        assert {info.date_time for info in package.infolist()} == {(2020, 1, 1, 0, 0, 0)}
        core = package.read("docProps/core.xml").decode()
    assert "2020-01-01T00:00:00Z" in core and "Veidlapas" in core


def test_template_rows_keep_text_as_text():
    sample = load_sample(BAUSKA)
    agreement = sample["agreements"][0]
    agreement["client"]["name"] = HOSTILE
    agreement["plan_number"] = "+1+1"
    sample["lines"][0]["units"] = "@SUM(1)"
    data = input_template(sample["agreements"], sample["lines"])
    book = load_workbook(io.BytesIO(data))
    name, plan = book["Līgumi"]["E2"], book["Līgumi"]["B2"]
    assert (name.value, name.data_type, name.quotePrefix) == (HOSTILE, "s", True)
    assert (plan.value, plan.data_type) == ("+1+1", "s")
    assert (book["Rindas"]["D2"].value, book["Rindas"]["D2"].data_type) == ("@SUM(1)", "s")
    assert book["Rindas"]["D4"].value == 2.5  # a number stays a number
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert "HYPERLINK" not in "".join(
            part for part in package.read("xl/worksheets/sheet2.xml").decode().split("<f>")[1:]
        )
    table = read({"file": data})
    assert table.agreements[0]["client"]["name"] == HOSTILE
    assert table.agreements[0]["plan_number"] == "+1+1"


# --- errors with their places -----------------------------------------------------------------------------


def test_a_bad_date_is_placed_at_its_row_and_column():
    sample = load_sample(BAUSKA)
    sample["lines"][5]["date"] = "2020-13-45"
    table = read({"file": input_template(sample["agreements"], sample["lines"])})
    assert table.lines[5]["date"] == "2020-13-45"  # text that is no date is kept as typed, with its problem
    assert [(path, found.code) for path, found in table.unread] == [
        (("lines", 5, "date"), "input.date_no_such_day")
    ]
    found = schema_paths(with_tables(table))
    assert found == {("lines", 5, "date"): ["date.invalid"]}
    assert [(path, p.code) for path, p in flatten(table.with_unread({"lines": {5: {"date": ["x"]}}}))] == [
        (("lines", 5, "date"), "input.date_no_such_day")
    ]
    assert table.place(("lines", 5, "date")) == {"sheet": "Rindas", "row": 7, "column": "Datums"}


def test_a_text_date_in_csv_is_read_as_typed_in_latvia():
    data = (LINES_HEADER + "BNP-L-2020/001;APLP;08.09.2020;2\r\n").encode("cp1257")
    table = read({"lines": data})
    assert table.lines == [
        {"agreement": "BNP-L-2020/001", "code": "APLP", "date": "2020-09-08", "units": "2"}
    ]
    assert table.unread == []


def test_empty_cells_are_left_for_the_schema_to_require():
    sample = load_sample(BAUSKA)
    del sample["lines"][2]["units"]
    del sample["agreements"][1]["plan_number"]
    table = read({"file": input_template(sample["agreements"], sample["lines"])})
    assert table.lines[2] == {k: v for k, v in sample["lines"][2].items()}
    found = schema_paths(with_tables(table))
    assert found[("lines", 2, "units")] == ["required"]
    assert found[("agreements", 1, "plan_number")] == ["required"]
    assert table.place(("agreements", 1, "plan_number")) == {
        "sheet": "Līgumi",
        "row": 6,
        "column": "Plāna Nr.",
    }
    assert table.place(("lines", 2, "units")) == {"sheet": "Rindas", "row": 4, "column": "Vienības"}


def test_missing_column():
    data = "Līguma Nr.;Pakalpojuma kods;Vienības\r\nBNP-L-2020/001;APLP;2\r\n".encode("cp1257")
    assert problems({"lines": data}) == [
        ({"file": "lines", "sheet": "Rindas", "row": 1}, "table.missing_column", {"column": "Datums"})
    ]
    workbook = Workbook()
    workbook.active.title = "Līgumi"
    workbook.active.append(
        [c.header for c in AGREEMENTS.columns if c.header not in ("Plāna Nr.", "Līgums no")]
    )
    assert problems({"file": workbook_bytes(workbook)}) == [
        ({"file": "file", "sheet": "Līgumi", "row": 1}, "table.missing_column", {"column": "Plāna Nr."}),
        ({"file": "file", "sheet": "Līgumi", "row": 1}, "table.missing_column", {"column": "Līgums no"}),
    ]


def test_optional_columns_may_be_missing_and_headers_are_matched_loosely():
    data = "  līguma NR. ;Vienības;Piezīmes;datums;PAKALPOJUMA  KODS\r\nL-1;1,25;x;2020-09-08;APLP\r\n"
    table = read({"lines": data.encode()})
    assert table.lines == [{"agreement": "L-1", "code": "APLP", "date": "2020-09-08", "units": "1.25"}]
    assert table.place(("lines", 0, "units")) == {"sheet": "Rindas", "row": 2, "column": "Vienības"}
    header = ";".join(c.header for c in AGREEMENTS.columns if c.required)
    assert read({"agreements": (header + "\r\n").encode()}).agreements == []


def test_duplicate_column():
    data = (LINES_HEADER.rstrip() + ";Datums\r\n").encode()
    assert problems({"lines": data}) == [
        ({"file": "lines", "sheet": "Rindas", "row": 1}, "table.duplicate_column", {"column": "Datums"})
    ]


def agreement_row(number="L-1", code="150385-16347", service="APLP", **values) -> str:
    row = {
        "Līguma Nr.": number,
        "Plāna Nr.": "P-1",
        "Personas kods": code,
        "Mērķa grupa": "adult_grt",
        "Līgums no": "2020-02-01",
        "Līgums līdz": "2021-01-31",
        "Pakalpojuma kods": service,
        "Daudzums mēnesī": "16",
        "Pakalpojums no": "2020-02-01",
        "Pakalpojums līdz": "2021-01-31",
    } | values
    return ";".join(row.get(column.header, "") for column in AGREEMENTS.columns) + "\r\n"


def test_conflicting_agreement_values():
    data = (
        AGREEMENTS_HEADER
        + agreement_row()
        + agreement_row(service="ATBG")
        + agreement_row(code="021179-15028")
    )
    assert problems({"agreements": data.encode()}) == [
        (
            {"file": "agreements", "sheet": "Līgumi", "row": 4, "column": "Personas kods"},
            "table.conflicting_value",
            {"number": "L-1", "column": "Personas kods", "row": 2},
        )
    ]


def test_agreement_rows_group_and_may_leave_agreement_values_empty():
    data = (
        AGREEMENTS_HEADER
        + agreement_row(**{"Personas kods": "", "Mērķa grupa": ""})
        + agreement_row(number="L-2", code="021179-15028", service="SDARB")
        + agreement_row(service="ATBG", **{"Plāna Nr.": "", "Līgums līdz": ""})
        + ";;;;;;;;;;;\r\n"
        + agreement_row(
            **{"Mērķa grupa": "Pilngadīga persona ar garīga rakstura traucējumiem"}, service="SDARB"
        )
    )
    table = read({"agreements": data.encode()})
    first, second = table.agreements
    assert first == {
        "number": "L-1",
        "plan_number": "P-1",
        "client": {"personal_code": "150385-16347", "target_group": "adult_grt"},
        "term": {"start": "2020-02-01", "end": "2021-01-31"},
        "services": [
            {"code": "APLP", "quantity": "16", "start": "2020-02-01", "end": "2021-01-31"},
            {"code": "ATBG", "quantity": "16", "start": "2020-02-01", "end": "2021-01-31"},
            {"code": "SDARB", "quantity": "16", "start": "2020-02-01", "end": "2021-01-31"},
        ],
    }
    assert second["number"] == "L-2"
    # the empty row 5 is skipped; values given later are placed where they were first given; the label in
    # row 6 is the same target group as the code in row 4
    assert table.place(("agreements", 0, "client", "personal_code"))["row"] == 4
    assert table.place(("agreements", 0, "client", "target_group"))["row"] == 4
    assert table.place(("agreements", 0, "plan_number"))["row"] == 2
    assert table.place(("agreements", 0, "services", 2, "code")) == {
        "sheet": "Līgumi",
        "row": 6,
        "column": "Pakalpojuma kods",
    }


def test_cp1257_csv_with_latvian_names():
    data = AGREEMENTS_HEADER + agreement_row(**{"Vārds, uzvārds": "Jānis Kļaviņš", "Daudzums mēnesī": "2,5"})
    table = read({"agreements": data.encode("cp1257")})
    assert table.agreements[0]["client"]["name"] == "Jānis Kļaviņš"
    assert table.agreements[0]["services"][0]["quantity"] == "2.5"
    assert read({"agreements": data.encode("utf-8")}).agreements == table.agreements


def test_comma_delimited_csv():
    data = (
        'Līguma Nr.,Pakalpojuma kods,Datums,Vienības\n"BNP-L-2020/001",APLP,2020-09-08,1.5\n'
        'L-2,APLP,2020-09-09,"1,5"\n'
    )
    table = read({"lines": data.encode("utf-8")})
    assert table.lines == [
        {"agreement": "BNP-L-2020/001", "code": "APLP", "date": "2020-09-08", "units": "1.5"},
        {"agreement": "L-2", "code": "APLP", "date": "2020-09-09", "units": "1.5"},  # a quoted decimal comma
    ]
    assert table.place(("lines", 1, "units")) == {"sheet": "Rindas", "row": 3, "column": "Vienības"}
    header = ",".join(f'"{c.header}"' if "," in c.header else c.header for c in AGREEMENTS.columns)
    agreements = read({"agreements": (header + "\n" + agreement_row().replace(";", ",")).encode()}).agreements
    assert agreements[0]["client"] == {"personal_code": "150385-16347", "target_group": "adult_grt"}


def test_numbers_and_dates_from_cells():
    workbook = lines_workbook(
        ["L-1", "APLP", "2020-09-08", 1.5],
        ["L-1", "APLP", None, 2.0],
        [None, None, None, None],
        [" L-1 ", "APLP ", None, 0.1 + 0.2],
    )
    sheet = workbook.active
    sheet["C3"] = dt.date(2020, 9, 9)
    sheet["C5"] = dt.datetime(2020, 9, 10, 0, 0)
    table = read({"lines": workbook_bytes(workbook)})
    assert table.lines == [
        {"agreement": "L-1", "code": "APLP", "date": "2020-09-08", "units": "1.5"},
        {"agreement": "L-1", "code": "APLP", "date": "2020-09-09", "units": "2"},
        {"agreement": "L-1", "code": "APLP", "date": "2020-09-10", "units": "0.3"},
    ]
    assert table.place(("lines", 2, "date"))["row"] == 5  # the empty row 4 is skipped, not renumbered


def test_formula_without_a_saved_value():
    workbook = lines_workbook(["L-1", "APLP", "=DATE(2020,9,8)", 1], ["L-1", "APLP", "2020-09-09", "=1+1"])
    assert problems({"lines": workbook_bytes(workbook)}) == [
        (
            {"file": "lines", "sheet": "Rindas", "row": 2, "column": "Datums"},
            "table.formula_without_value",
            {},
        ),
        (
            {"file": "lines", "sheet": "Rindas", "row": 3, "column": "Vienības"},
            "table.formula_without_value",
            {},
        ),
    ]


def test_formulas_with_saved_values_are_read():
    workbook = lines_workbook(
        ["L-1", "APLP", "=DATE(2020,9,8)", 1], ["L-1", '=IF(1,"","x")', "2020-09-09", 2]
    )
    workbook.active["C2"].number_format = "DD.MM.YYYY"
    data = workbook_bytes(workbook)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = package.read("xl/worksheets/sheet1.xml")
    xml = xml.replace(b"<f>DATE(2020,9,8)</f><v></v>", b"<f>DATE(2020,9,8)</f><v>44082</v>")
    xml = xml.replace(b'<c r="B3"><f>', b'<c r="B3" t="str"><f>')  # as Excel saves an empty text result
    table = read({"lines": rebuild(data, replace={"xl/worksheets/sheet1.xml": xml})})
    assert table.lines == [
        {"agreement": "L-1", "code": "APLP", "date": "2020-09-08", "units": "1"},
        {"agreement": "L-1", "date": "2020-09-09", "units": "2"},
    ]


def test_too_many_rows():
    data = (
        LINES_HEADER + "L-1;APLP;2020-09-08;1\r\n" * 2 + "\r\n" + "L-1;APLP;2020-09-08;1\r\n" * 2
    ).encode()
    assert len(read({"lines": data}, max_lines=4).lines) == 4
    assert problems({"lines": data}, max_lines=3) == [
        ({"file": "lines", "sheet": "Rindas", "row": 6}, "table.too_many_rows", {"max": 3})
    ]
    assert problems({"file": XLSX_SAMPLE.read_bytes()}, max_agreement_rows=5) == [
        ({"file": "file", "sheet": "Līgumi", "row": 7}, "table.too_many_rows", {"max": 5})
    ]


def test_a_table_sent_twice():
    found = problems({"file": XLSX_SAMPLE.read_bytes(), "lines": LINES_CSV.read_bytes()})
    assert found == [({"file": "lines", "sheet": "Rindas"}, "table.twice", {"sheet": "Rindas"})]


def test_a_workbook_without_our_sheets():
    workbook = Workbook()
    workbook.active.append(["Līguma Nr.", "Pakalpojuma kods", "Datums", "Vienības"])
    assert problems({"file": workbook_bytes(workbook)}) == [
        ({"file": "file"}, "table.missing_sheet", {"sheets": '"Līgumi", "Rindas"'})
    ]
    only_lines = read({"file": workbook_bytes(lines_workbook(["L-1", "APLP", "2020-09-08", 1]))})
    assert only_lines.agreements is None and len(only_lines.lines) == 1


# --- files that are not tables, or not safe -------------------------------------------------------------


def test_not_a_spreadsheet(template):
    docx = rebuild(template, replace={"[Content_Types].xml": b"<Types/>"})
    cases = {
        "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
        "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
        "text": "Sveiki! Šī nav tabula.\nOtrā rinda.\n".encode(),
        "zip": docx,
    }
    for name, data in cases.items():
        assert problems({name: data}) == [({"file": name}, "table.unknown_type", {})], name
    assert problems({"f": b""}) == [({"file": "f"}, "upload.empty", {})]
    assert problems({"f": template}, max_bytes=1000) == [({"file": "f"}, "upload.too_large", {})]
    assert problems({"f": template[: len(template) // 2]}) == [({"file": "f"}, "upload.corrupt", {})]
    assert problems({"f": b"\xff\xfe" + "Līguma Nr.".encode("utf-16-le")})[0][1] == "table.unknown_type"


def test_an_xlsm_with_macros_is_refused(template):
    with_vba = rebuild(template, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0"})
    assert problems({"f": with_vba}) == [({"file": "f"}, "table.macros", {})]
    with zipfile.ZipFile(io.BytesIO(template)) as package:
        types = package.read("[Content_Types].xml")
    macro_types = types.replace(
        b"spreadsheetml.sheet.main+xml", b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    )
    assert (
        problems({"f": rebuild(template, replace={"[Content_Types].xml": macro_types})})[0][1]
        == "table.macros"
    )


def test_a_zip_bomb_is_refused_before_openpyxl_reads_it(template, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("openpyxl was asked to read a zip bomb")

    monkeypatch.setattr(reading, "load_workbook", never)
    bomb = rebuild(template, add={"xl/media/image1.png": bytes(30 * MiB)})
    assert len(bomb) < MiB
    assert problems({"f": bomb}) == [({"file": "f"}, "upload.zip_bomb", {})]
    crowded = rebuild(template, add={f"xl/media/image{i}.png": b"x" for i in range(600)})
    assert problems({"f": crowded}) == [({"file": "f"}, "upload.too_many_entries", {})]
    evil = rebuild(template, add={"../../evil.xml": b"<x/>"})
    assert problems({"f": evil}) == [({"file": "f"}, "upload.bad_member_name", {})]
    for name in ("xl/workbook.xml", "xl/worksheets/sheet3.xml"):
        with zipfile.ZipFile(io.BytesIO(template)) as package:
            xml = package.read(name)
        laughing = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>' + xml
        assert problems({"f": rebuild(template, replace={name: laughing})}) == [
            ({"file": "f"}, "upload.doctype", {})
        ]


def test_every_problem_code_has_a_message():
    codes = {
        "table.unreadable",
        "table.unknown_type",
        "table.macros",
        "table.missing_sheet",
        "table.missing_column",
        "table.duplicate_column",
        "table.too_many_rows",
        "table.conflicting_value",
        "table.formula_without_value",
        "table.twice",
    }
    assert codes <= MESSAGES.keys()
    assert {code for code in MESSAGES if code.startswith("table.")} == codes
