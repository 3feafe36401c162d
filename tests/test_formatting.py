"""Golden and property tests for the Latvian document filters."""

import re
from datetime import date
from decimal import Decimal

import pytest
from babel.dates import format_date
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment

from schemas.fields import Period
from service.documents.formatting import (
    FILTERS,
    amount_in_words,
    date_long,
    date_numeric,
    money,
    month_year,
    number,
    period_long,
    plural,
    plural_form,
)

NBSP = "\u00a0"
HOURS = {"zero": "stundu", "one": "stunda", "other": "stundas"}

# (nominative, genitive, locative, accusative, dative) for every month, written out independently
# of the module's table.
MONTHS = [
    ("janvāris", "janvāra", "janvārī", "janvāri", "janvārim"),
    ("februāris", "februāra", "februārī", "februāri", "februārim"),
    ("marts", "marta", "martā", "martu", "martam"),
    ("aprīlis", "aprīļa", "aprīlī", "aprīli", "aprīlim"),
    ("maijs", "maija", "maijā", "maiju", "maijam"),
    ("jūnijs", "jūnija", "jūnijā", "jūniju", "jūnijam"),
    ("jūlijs", "jūlija", "jūlijā", "jūliju", "jūlijam"),
    ("augusts", "augusta", "augustā", "augustu", "augustam"),
    ("septembris", "septembra", "septembrī", "septembri", "septembrim"),
    ("oktobris", "oktobra", "oktobrī", "oktobri", "oktobrim"),
    ("novembris", "novembra", "novembrī", "novembri", "novembrim"),
    ("decembris", "decembra", "decembrī", "decembri", "decembrim"),
]
CASES = ("nominative", "genitive", "locative", "accusative", "dative")


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2020, 8, 1), "01.08.2020."),
        (date(1999, 12, 31), "31.12.1999."),
        (date(2024, 2, 29), "29.02.2024."),
        (None, ""),
    ],
)
def test_date_numeric(d, expected):
    assert date_numeric(d) == expected


@pytest.mark.parametrize("month", range(1, 13))
@pytest.mark.parametrize("case_index", range(len(CASES)))
def test_date_long_all_months_and_cases(month, case_index):
    word = MONTHS[month - 1][case_index]
    assert date_long(date(2020, month, 1), CASES[case_index]) == f"2020. gada 1. {word}"
    assert date_long(date(2021, month, 28), CASES[case_index]) == f"2021. gada 28. {word}"


@pytest.mark.parametrize("month", range(1, 13))
def test_date_long_nominative_is_babel_long_format(month):
    d = date(2020, month, 15)
    assert date_long(d) == format_date(d, "long", locale="lv")


@pytest.mark.parametrize("month", range(1, 13))
@pytest.mark.parametrize("case_index", range(len(CASES)))
def test_month_year_all_months_and_cases(month, case_index):
    word = MONTHS[month - 1][case_index]
    assert month_year(date(2020, month, 17), CASES[case_index]) == f"2020. gada {word}"


def test_date_golden():
    d = date(2020, 8, 1)
    assert date_long(d) == "2020. gada 1. augusts"
    assert date_long(d, "genitive") == "2020. gada 1. augusta"
    assert date_long(d, "locative") == "2020. gada 1. augustā"
    assert month_year(d) == "2020. gada augusts"
    assert month_year(d, "genitive") == "2020. gada augusta"
    assert month_year(d, "locative") == "2020. gada augustā"
    assert month_year(d, "accusative") == "2020. gada augustu"


@pytest.mark.parametrize("month", range(1, 13))
def test_period_long_calendar_month_is_accusative(month):
    start = date(2021, month, 1)
    end = Period.month(2021, month).end
    assert period_long(Period(start, end)) == f"2021. gada {MONTHS[month - 1][3]}"


@pytest.mark.parametrize(("quarter", "first", "last"), [(1, 1, 31), (2, 4, 30), (3, 7, 30), (4, 10, 31)])
def test_period_long_calendar_quarter(quarter, first, last):
    period = Period(date(2020, first, 1), date(2020, first + 2, last))
    assert period_long(period) == f"2020. gada {quarter}. ceturksni"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2020, 2, 1), date(2021, 1, 31), "no 2020. gada 1. februāra līdz 2021. gada 31. janvārim"),
        (date(2020, 9, 2), date(2020, 9, 30), "no 2020. gada 2. septembra līdz 2020. gada 30. septembrim"),
        (date(2020, 9, 1), date(2020, 9, 29), "no 2020. gada 1. septembra līdz 2020. gada 29. septembrim"),
        (date(2020, 2, 1), date(2020, 4, 30), "no 2020. gada 1. februāra līdz 2020. gada 30. aprīlim"),
        (date(2020, 12, 1), date(2021, 2, 28), "no 2020. gada 1. decembra līdz 2021. gada 28. februārim"),
        (date(2020, 1, 1), date(2020, 12, 31), "no 2020. gada 1. janvāra līdz 2020. gada 31. decembrim"),
    ],
)
def test_period_long_other_spans_run_from_genitive_to_dative(start, end, expected):
    assert period_long(Period(start, end)) == f"periodu {expected}"


@pytest.mark.parametrize("func", [date_long, month_year])
def test_date_none_and_unknown_case(func):
    assert func(None) == ""
    assert func(None, "locative") == ""
    with pytest.raises(ValueError, match="unknown case 'instrumental'"):
        func(date(2020, 8, 1), "instrumental")
    with pytest.raises(ValueError, match="unknown case"):
        func(None, "Genitive")


# --- money -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1234.5"), "1\u00a0234,50\u00a0€"),
        (Decimal("1234.50"), "1\u00a0234,50\u00a0€"),
        ("1234.5", "1\u00a0234,50\u00a0€"),
        (1234, "1\u00a0234,00\u00a0€"),
        (0, "0,00\u00a0€"),
        (Decimal("0.005"), "0,01\u00a0€"),
        (Decimal("1.005"), "1,01\u00a0€"),
        (Decimal("2.675"), "2,68\u00a0€"),
        (Decimal("1.004"), "1,00\u00a0€"),
        (Decimal("1234567.891"), "1\u00a0234\u00a0567,89\u00a0€"),
        (Decimal("-1234.5"), "-1\u00a0234,50\u00a0€"),
        (Decimal("-0.005"), "-0,01\u00a0€"),
    ],
)
def test_money_symbol(amount, expected):
    assert money(amount) == expected
    assert money(amount, style="symbol") == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1234.5"), "1\u00a0234,50\u00a0EUR"),
        (7, "7,00\u00a0EUR"),
        (Decimal("-67.38"), "-67,38\u00a0EUR"),
    ],
)
def test_money_code(amount, expected):
    assert money(amount, style="code") == expected


@pytest.mark.parametrize("amount", [12.5, 0.0, float("nan")])
def test_money_refuses_float(amount):
    with pytest.raises(TypeError, match="float"):
        money(amount)


@pytest.mark.parametrize("amount", [None, True, [1]])
def test_money_refuses_other_types(amount):
    with pytest.raises(TypeError):
        money(amount)


@pytest.mark.parametrize("amount", ["abc", "1,50", "NaN", "Infinity", "1e40"])
def test_money_refuses_non_numbers(amount):
    with pytest.raises(ValueError):
        money(amount)


def test_money_unknown_style():
    with pytest.raises(ValueError, match="unknown style"):
        money(1, style="name")


# --- number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("1234.5"), None, "1\u00a0234,5"),
        (Decimal("1234.5"), 2, "1\u00a0234,50"),
        (Decimal("2.00"), None, "2"),
        (Decimal("0.25"), None, "0,25"),
        (Decimal("1.50"), None, "1,5"),
        (Decimal("1234.5678"), None, "1\u00a0234,5678"),
        (Decimal("100"), None, "100"),
        (Decimal("100.000"), None, "100"),
        (Decimal("1E+3"), None, "1\u00a0000"),
        (1234567, None, "1\u00a0234\u00a0567"),
        ("0.10", None, "0,1"),
        (1.5, None, "1,5"),
        (0.1, None, "0,1"),
        (Decimal("-1234.5"), None, "-1\u00a0234,5"),
        (Decimal("0.125"), 2, "0,13"),
        (Decimal("0.135"), 2, "0,14"),
        (Decimal("2"), 2, "2,00"),
        (Decimal("2.5"), 0, "3"),
        (Decimal("1234.5"), 0, "1\u00a0235"),
        (Decimal("1.23456"), 3, "1,235"),
        (Decimal("-2.5"), 0, "-3"),
    ],
)
def test_number(value, places, expected):
    assert number(value, places) == expected


# --- plural ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0\u00a0stundu"),
        (1, "1\u00a0stunda"),
        (2, "2\u00a0stundas"),
        (10, "10\u00a0stundu"),
        (11, "11\u00a0stundu"),
        (21, "21\u00a0stunda"),
        (22, "22\u00a0stundas"),
        (Decimal("1.5"), "1,5\u00a0stundas"),
        (Decimal("0.25"), "0,25\u00a0stundas"),
        (Decimal("1.00"), "1\u00a0stunda"),
        (Decimal("10.00"), "10\u00a0stundu"),
        (Decimal("0.10"), "0,1\u00a0stunda"),
        (111, "111\u00a0stundu"),
        (1.5, "1,5\u00a0stundas"),
    ],
)
def test_plural(count, expected):
    assert plural(count, HOURS) == expected
    assert plural_form(count, HOURS) == expected.split(NBSP)[1]


def test_plural_missing_category_falls_back_to_other():
    days = {"one": "diena", "other": "dienas"}
    assert plural(10, days) == "10\u00a0dienas"
    assert plural(21, days) == "21\u00a0diena"
    with pytest.raises(KeyError):
        plural_form(2, {"one": "diena"})


# --- amount in words ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "nulle euro un 00 centu"),
        (Decimal("0.01"), "nulle euro un 01 cents"),
        (1, "viens euro un 00 centu"),
        (Decimal("1.00"), "viens euro un 00 centu"),
        (Decimal("21.01"), "divdesmit viens euro un 01 cents"),
        (Decimal("67.38"), "sešdesmit septiņi euro un 38 centi"),
        (100, "simts euro un 00 centu"),
        (101, "simts viens euro un 00 centu"),
        (1000, "viens tūkstotis euro un 00 centu"),
        (1001, "viens tūkstotis viens euro un 00 centu"),
        (1100, "viens tūkstotis simts euro un 00 centu"),
        (2000, "divi tūkstoši euro un 00 centu"),
        (11000, "vienpadsmit tūkstoši euro un 00 centu"),
        (21000, "divdesmit viens tūkstotis euro un 00 centu"),
        (100000, "simts tūkstoši euro un 00 centu"),
        (101000, "simts viens tūkstotis euro un 00 centu"),
        (1000000, "viens miljons euro un 00 centu"),
        (1001000, "viens miljons viens tūkstotis euro un 00 centu"),
        (2000000, "divi miljoni euro un 00 centu"),
        (101000000, "simts viens miljons euro un 00 centu"),
        (Decimal("1234.56"), "viens tūkstotis divi simti trīsdesmit četri euro un 56 centi"),
        (1000000000, "viens miljards euro un 00 centu"),
        (1001001001, "viens miljards viens miljons viens tūkstotis viens euro un 00 centu"),
        ("0.11", "nulle euro un 11 centi"),
        ("0.21", "nulle euro un 21 cents"),
        ("0.005", "nulle euro un 01 cents"),
    ],
)
def test_amount_in_words(amount, expected):
    assert amount_in_words(amount) == expected


def test_amount_in_words_refuses_negative_and_float():
    with pytest.raises(ValueError, match="negative"):
        amount_in_words(Decimal("-0.01"))
    with pytest.raises(TypeError):
        amount_in_words(1.0)


UNITS = {
    "nulle": 0, "viens": 1, "divi": 2, "trīs": 3, "četri": 4, "pieci": 5, "seši": 6,
    "septiņi": 7, "astoņi": 8, "deviņi": 9, "desmit": 10, "vienpadsmit": 11,
    "divpadsmit": 12, "trīspadsmit": 13, "četrpadsmit": 14, "piecpadsmit": 15,
    "sešpadsmit": 16, "septiņpadsmit": 17, "astoņpadsmit": 18, "deviņpadsmit": 19,
    "divdesmit": 20, "trīsdesmit": 30, "četrdesmit": 40, "piecdesmit": 50,
    "sešdesmit": 60, "septiņdesmit": 70, "astoņdesmit": 80, "deviņdesmit": 90,
}  # fmt: skip
# word -> (value, is singular)
SCALES = {
    "tūkstotis": (10**3, True), "tūkstoši": (10**3, False),
    "miljons": (10**6, True), "miljoni": (10**6, False),
}  # fmt: skip


def words_to_int(words: str) -> int:
    """Read Latvian number words back, asserting the grammar of the legal form."""
    total = group = 0
    for word in words.split(" "):
        if word in UNITS:
            group += UNITS[word]
        elif word == "simts":
            assert group == 0, words
            group = 100
        elif word == "simti":
            assert 2 <= group <= 9, words
            group *= 100
        else:
            scale, singular = SCALES[word]
            # an explicit number before every scale word, and singular exactly after
            # numbers ending in 1 but not 11
            assert group > 0, words
            assert singular == (group % 10 == 1 and group % 100 != 11), words
            total += group * scale
            group = 0
    return total + group


CENTS_PHRASE = re.compile(r"^(?P<euro>.+) euro un (?P<cents>\d\d) (?P<unit>cents|centi|centu)$")


@given(st.decimals(min_value=0, max_value=Decimal("999999999.99"), places=2))
def test_amount_in_words_properties(amount):
    text = amount_in_words(amount)
    match = CENTS_PHRASE.match(text)
    assert match, text
    cents = int(amount * 100) % 100
    assert int(match["cents"]) == cents
    expected_unit = "centu" if cents == 0 else "cents" if cents % 10 == 1 and cents != 11 else "centi"
    assert match["unit"] == expected_unit
    assert words_to_int(match["euro"]) == int(amount)


# --- registration ------------------------------------------------------------------------


def test_filters_registry():
    assert set(FILTERS) == {
        "date_numeric", "month_numeric", "time_hm", "date_long", "month_year", "period_long", "money",
        "number", "plural", "plural_form", "iban", "amount_in_words",
    }  # fmt: skip
    assert all(FILTERS[name].__name__ == name for name in FILTERS)


def test_filters_in_jinja():
    env = Environment(autoescape=False)
    env.filters.update(FILTERS)
    template = env.from_string(
        "No {{ start|date_long('genitive') }} par {{ start|month_year('accusative') }}: "
        "{{ hours|plural(forms) }}, {{ total|money }} "
        "({{ total|amount_in_words|capitalize }})"
    )
    rendered = template.render(
        start=date(2020, 8, 1), hours=Decimal("21.00"), forms=HOURS, total=Decimal("67.38")
    )
    assert rendered == (
        "No 2020. gada 1. augusta par 2020. gada augustu: 21\u00a0stunda, 67,38\u00a0€ "
        "(Sešdesmit septiņi euro un 38 centi)"
    )
