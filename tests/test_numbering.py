"""A municipality's agreement series and name forms: checked when the file is loaded, numbers formatted from
it, and one counter a year however wide the sequence is written."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from schemas.catalogue import CatalogueError
from schemas.municipalities import BUNDLED, load
from service.cases.numbering import formatted, next_number, series_key
from service.store.case_models import NumberSeries

DAY = dt.date(2020, 2, 27)


@pytest.mark.parametrize(
    ("pattern", "sequence", "number"),
    [
        ("L-{year}/{seq:03}", 7, "L-2020/007"),
        ("LVP-L-{year}/{seq:04}", 12, "LVP-L-2020/0012"),
        ("{year}-{seq}", 1234, "2020-1234"),
        ("L-{year}/{seq:03}", 1000, "L-2020/1000"),
    ],
)
def test_a_number_is_the_pattern_with_the_year_and_the_sequence(pattern, sequence, number):
    assert formatted(pattern, DAY, sequence) == number


@pytest.mark.parametrize("series", ["L-{yr}/{seq:03}", "L-{year}/{seq:3}", "L-{seq}", "L-{year}/{seq}{x}"])
def test_a_series_with_other_braces_is_refused_when_loaded(tmp_path, series):
    path = tmp_path / "municipalities.toml"
    path.write_text(
        BUNDLED.read_text(encoding="utf-8").replace('"L-{year}/{seq:03}"', f'"{series}"'), encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match=r"/municipalities/0/agreement_series: The agreement series"):
        load(path)


def test_each_year_counts_from_one_and_a_wider_sequence_goes_on_counting():
    engine = create_engine("sqlite://")
    NumberSeries.__table__.create(engine)
    with Session(engine) as session:
        taken = [next_number(session, "bauska", "L-{year}/{seq:03}", DAY) for _ in range(2)]
        taken.append(next_number(session, "bauska", "L-{year}/{seq:04}", DAY))
        taken.append(next_number(session, "bauska", "L-{year}/{seq:03}", dt.date(2021, 1, 4)))
        taken.append(next_number(session, "liepaja", "L-{year}/{seq:03}", DAY))
    assert taken == ["L-2020/001", "L-2020/002", "L-2020/0003", "L-2021/001", "L-2020/001"]
    assert series_key("L-{year}/{seq:04}", DAY) == "L-2020/"


@pytest.mark.parametrize("key", ["name_genitive", "place", "place_locative"])
@pytest.mark.parametrize("value", [None, '""'])
def test_a_municipality_without_a_name_form_is_refused_when_loaded(tmp_path, key, value):
    lines = BUNDLED.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = "))
    lines[first] = "" if value is None else f"{key} = {value}\n"
    path = tmp_path / "municipalities.toml"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(CatalogueError, match=rf"/municipalities/0/{key}: "):
        load(path)


def test_the_bundled_municipalities_have_their_name_forms():
    forms = {
        code: (m.details["name"], m.name_genitive, m.place, m.place_locative)
        for code, m in load(BUNDLED).items()
    }
    assert forms == {
        "bauska": ("Bauskas novada pašvaldība", "Bauskas novada pašvaldības", "Bauska", "Bauskā"),
        "liepaja": (
            "Liepājas valstspilsētas pašvaldība", "Liepājas valstspilsētas pašvaldības", "Liepāja", "Liepājā"
        ),
    }
