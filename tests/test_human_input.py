"""The one reader of what people type: Latvian dates, months and numbers, never a guess."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import human_input as H
from schemas.errors import MESSAGES
from service.documents.formatting import date_numeric, month_numeric, number


@pytest.mark.parametrize(
    "text", ["15.09.2020.", "15.09.2020", " 15.09.2020. ", "15. 09. 2020.", "2020-09-15"]
)
def test_dates_are_read_day_first_with_or_without_the_final_dot_or_as_iso(text):
    assert H.read_date(text) == dt.date(2020, 9, 15)


def test_single_digit_days_and_months_are_read_as_the_order_is_fixed():
    assert H.read_date("5.9.2020.") == H.read_date("05.09.2020") == dt.date(2020, 9, 5)


@pytest.mark.parametrize("text", ["09/15/2020", "15/09/2020", "15-09-2020", "9/5/20", "05-09-2020"])
def test_slashes_and_hyphens_with_the_day_or_month_first_are_refused_not_guessed(text):
    with pytest.raises(H.AmbiguousDate) as caught:
        H.read_date(text)
    assert caught.value.code == "input.date_order"


@pytest.mark.parametrize("text", ["15.09.20", "15.09.20.", "5.9.20"])
def test_two_digit_years_are_refused(text):
    with pytest.raises(H.ShortYear) as caught:
        H.read_date(text)
    assert caught.value.code == "input.date_year"


@pytest.mark.parametrize(
    "text",
    [
        "2020.09.15",
        "2020-9-15",
        "15 09 2020",
        "15.09",
        "15.09.2020..",
        "15.09.02020",
        "2020. gada 15. septembris",
        "١٥.٠٩.٢٠٢٠",  # Arabic-Indic digits: \\d would take them
        "",
        "1" * 1000,
    ],
)
def test_other_date_forms_are_refused_with_what_to_type(text):
    with pytest.raises(H.InvalidDate) as caught:
        H.read_date(text)
    assert caught.value.code == "input.date"
    assert "DD.MM.YYYY." in str(caught.value)


@pytest.mark.parametrize("text", ["31.02.2020.", "29.02.2021", "00.01.2020", "15.13.2020", "2020-02-30"])
def test_days_that_are_not_in_the_calendar(text):
    with pytest.raises(H.NoSuchDay) as caught:
        H.read_date(text)
    assert caught.value.code == "input.date_no_such_day"


@pytest.mark.parametrize("text", ["09.2020.", "09.2020", "9.2020", "2020-09"])
def test_months_are_read_month_first_or_as_iso(text):
    assert H.read_month(text) == dt.date(2020, 9, 1)


@pytest.mark.parametrize("text", ["13.2020", "00.2020", "2020.09", "09.20", "septembris", "2020-9", ""])
def test_other_month_forms_are_refused(text):
    with pytest.raises(H.InvalidMonth) as caught:
        H.read_month(text)
    assert caught.value.code == "input.month"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2,5", "2.5"),
        ("2.5", "2.5"),
        ("1 234,50", "1234.50"),
        ("1\u00a0234,50", "1234.50"),  # as the templates print it
        ("1\u202f234,50", "1234.50"),
        ("12 345 678,25", "12345678.25"),
        ("1234567", "1234567"),
        ("0,50", "0.50"),
        ("1,234", "1.234"),  # a lone comma or point is always the decimal separator
        ("1.234", "1.234"),
        ("-2,5", "-2.5"),
        ("\u22120,25", "-0.25"),
    ],
)
def test_numbers_with_a_decimal_comma_or_point_and_spaces_between_thousands(text, value):
    assert H.read_decimal(text) == Decimal(value)
    assert str(H.read_decimal(text)) == value


@pytest.mark.parametrize("text", ["1.234,50", "1,234.50", "1.234.567", "1,2,3", "1 234.567,5"])
def test_a_comma_and_a_point_together_or_either_twice_are_ambiguous(text):
    with pytest.raises(H.AmbiguousNumber) as caught:
        H.read_decimal(text)
    assert caught.value.code == "input.number_separators"


@pytest.mark.parametrize("text", ["12 34", "1 2345,5", "1234 567", "0 500"])
def test_spaces_must_group_the_digits_in_threes(text):
    with pytest.raises(H.InvalidGrouping) as caught:
        H.read_decimal(text)
    assert caught.value.code == "input.number_grouping"


@pytest.mark.parametrize(
    "text", ["1e3", "+2", "٣", "2,", ",5", "abc", "1 234 ,5", "1  234", "NaN", "", "1" * 100]
)
def test_exponents_signs_foreign_digits_and_words_are_not_numbers(text):
    with pytest.raises(H.InvalidNumber) as caught:
        H.read_decimal(text)
    assert caught.value.code == "input.number"


def test_every_failure_has_its_code_and_message_in_the_catalogue():
    failures = [H.InvalidDate, H.AmbiguousDate, H.ShortYear, H.NoSuchDay]
    failures += [H.InvalidMonth, H.InvalidNumber, H.AmbiguousNumber, H.InvalidGrouping]
    codes = {failure.code for failure in failures}
    assert len(codes) == len(failures) and codes <= set(MESSAGES)
    assert all(str(failure()) == MESSAGES[failure.code] for failure in failures)
    assert all(issubclass(failure, H.InvalidInput) for failure in failures)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_what_the_templates_print_reads_back_as_the_same_day(day):
    assert H.read_date(date_numeric(day)) == H.read_date(day.isoformat()) == day
    assert H.read_month(month_numeric(day)) == day.replace(day=1)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_what_the_templates_print_reads_back_as_the_same_number(value):
    assert H.read_decimal(number(value)) == value
    assert H.read_decimal(number(value, places=2)) == value
