"""The marshmallow fields of schemas.fields: what each accepts, what it loads, which code it reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.fields import (
    Boolean,
    Choice,
    Date,
    Email,
    Iban,
    List,
    Money,
    Number,
    Period,
    PeriodField,
    Phone,
    RegistrationNumber,
    Text,
)
from tests.helpers import field_codes, field_errors

# --- Text -----------------------------------------------------------------------------------


def test_text_is_kept_verbatim_with_latvian_letters():
    text = "  Ģirts Ēcis, Ļaudonas iela 8 – “Liepas” "
    assert Text().deserialize(text) == text


@pytest.mark.parametrize("code_point", [c for c in range(0x20) if c != 0x0A])
@pytest.mark.parametrize("multiline", [False, True])
def test_text_rejects_c0_control_characters(code_point, multiline):
    assert field_codes(Text(multiline=multiline), f"a{chr(code_point)}b") == ["text.control_character"]


def test_newline_is_a_line_break_error_unless_multiline():
    assert field_codes(Text(), "Rīga\nJelgava") == ["text.line_break"]
    assert Text(multiline=True).deserialize("Rīga\nJelgava") == "Rīga\nJelgava"


def test_carriage_return_is_rejected_even_in_multiline_text():
    assert field_codes(Text(multiline=True), "Rīga\r\nJelgava") == ["text.control_character"]


@pytest.mark.parametrize("char", ["\x7f", "\x85", "\x9f", "\u2028", "\u2029"])
@pytest.mark.parametrize("multiline", [False, True])
def test_text_rejects_del_c1_and_unicode_line_separators(char, multiline):
    assert field_codes(Text(multiline=multiline), f"a{char}b") == ["text.control_character"]


@pytest.mark.parametrize("char", ["\ud800", "\udfff", "\udc00"])
def test_text_rejects_lone_surrogates(char):
    assert field_codes(Text(), f"Līga{char}") == ["text.surrogate"]
    assert field_codes(Text(multiline=True), char) == ["text.surrogate"]


def test_text_length_limit_counts_characters():
    assert Text(max_length=5).deserialize("Šķūņa") == "Šķūņa"
    assert field_codes(Text(max_length=5), "Šķūņai") == ["text.too_long"]
    assert field_codes(Text(), "ā" * 201) == ["text.too_long"]


@pytest.mark.parametrize("value", ["", " ", "  \n  "])
def test_empty_or_blank_text_is_rejected_unless_allowed(value):
    assert field_codes(Text(multiline=True), value) == ["text.empty"]
    assert Text(multiline=True, allow_empty=True).deserialize(value) == value


@pytest.mark.parametrize("value", [5, 1.5, True, ["a"], {"a": "b"}])
def test_text_rejects_non_strings(value):
    assert field_codes(Text(), value) == ["type.string"]


def test_null_text_is_a_null_error():
    assert field_codes(Text(), None) == ["null"]


# --- Choice ---------------------------------------------------------------------------------


def test_choice_accepts_only_listed_values():
    field = Choice(("full", "restricted"))
    assert field.deserialize("restricted") == "restricted"
    for value in ("Restricted", "restricted ", "", "ierobežota"):
        assert field_codes(field, value) == ["choice"]


@pytest.mark.parametrize("value", [1, True, ["full"]])
def test_choice_rejects_non_strings_as_not_a_choice(value):
    assert field_codes(Choice(("full", "restricted")), value) == ["choice"]


def test_null_choice_is_a_null_error():
    assert field_codes(Choice(("full", "restricted")), None) == ["null"]


# --- Phone and Email ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["+371 20000001", "20000001", "+371 2000-0001", "(371) 20000001", "+37120000001"]
)
def test_phone_accepts_digits_spaces_plus_hyphen_parentheses(value):
    assert Phone().deserialize(value) == value


@pytest.mark.parametrize(
    "value", ["1234", "tel. 20000001", "+371 2000 0001 ext", "20000001+", "＋371 20000001"]
)
def test_phone_rejects_other_characters_or_too_few(value):
    assert field_codes(Phone(), value) == ["phone.invalid"]


def test_phone_longer_than_20_is_too_long():
    assert field_codes(Phone(), "+371 2000 0001 2000 0001") == ["text.too_long"]


def test_phone_must_be_a_string_on_one_line():
    assert field_codes(Phone(), 20000001) == ["type.string"]
    assert field_codes(Phone(), "+371 20000001\n") == ["text.line_break"]


@pytest.mark.parametrize("value", ["anna.berzina@example.lv", "līga@example.lv", "a+b@sd.example.lv"])
def test_email_accepts_addresses(value):
    assert Email().deserialize(value) == value


@pytest.mark.parametrize("value", ["anna@", "anna", "@example.lv", "anna@example", "an na@example.lv"])
def test_malformed_email_reports_the_email_code(value):
    assert field_codes(Email(), value) == ["email.invalid"]


def test_email_must_be_a_string_of_at_most_254_characters():
    assert field_codes(Email(), 5) == ["email.invalid"]
    assert field_codes(Email(), "a" * 244 + "@example.lv") == ["text.too_long"]


# --- Boolean --------------------------------------------------------------------------------


def test_boolean_accepts_json_booleans():
    assert Boolean().deserialize(True) is True
    assert Boolean().deserialize(False) is False


@pytest.mark.parametrize("value", ["true", "yes", "jā", 1, 0, 1.0, None])
def test_boolean_rejects_everything_but_json_booleans(value):
    expected = ["null"] if value is None else ["type.boolean"]
    assert field_codes(Boolean(), value) == expected


# --- Money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "loaded"),
    [
        ("0.005", "0.01"),
        ("1.005", "1.01"),
        ("1.025", "1.03"),  # half up, not half even (which would give 1.02)
        ("2.675", "2.68"),
        ("1.0049", "1.00"),
        ("1234.565", "1234.57"),
        ("10", "10.00"),
        ("10.5", "10.50"),
        ("1e3", "1000.00"),
        ("10000000", "10000000.00"),
        (10, "10.00"),
        (0, "0.00"),
    ],
)
def test_money_rounds_half_up_to_cents(value, loaded):
    amount = Money().deserialize(value)
    assert amount == Decimal(loaded)
    assert str(amount) == loaded


@pytest.mark.parametrize(
    ("value", "loaded"), [(2.675, "2.68"), (67.375, "67.38"), (0.1 + 0.2, "0.30"), (19.6, "19.60")]
)
def test_money_from_a_float_uses_its_shortest_decimal_form(value, loaded):
    assert str(Money().deserialize(value)) == loaded


@pytest.mark.parametrize("value", ["-0.01", "-1", -5, "-0.005"])
def test_negative_money_is_rejected(value):
    assert field_codes(Money(), value) == ["number.negative"]


@pytest.mark.parametrize("value", ["-0", "-0.00", "-0.0"])
def test_negative_zero_loads_as_plain_zero(value):
    amount = Money().deserialize(value)
    assert amount == 0
    assert str(amount) == "0.00"  # never printed as "-0,00 €"


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", float("nan"), float("inf")]
)
def test_nan_and_infinity_are_special_not_numbers(value):
    assert field_codes(Money(), value) == ["number.special"]


@pytest.mark.parametrize("value", ["10000000.01", "1e30", 10**12, "9" * 400])
def test_money_above_the_maximum_is_too_large(value):
    assert field_codes(Money(), value) == ["number.too_large"]


@pytest.mark.parametrize("value", [True, False, "abc", "", "12,50", "1.2.3", [1], {"a": 1}])
def test_money_rejects_booleans_and_non_numbers(value):
    assert field_codes(Money(), value) == ["type.number"]


def test_positive_money_rejects_zero():
    assert field_codes(Money(positive=True), "0.00") == ["number.not_positive"]


def test_positive_money_that_rounds_to_zero_cents_is_not_positive():
    # "0.004" is above zero but loads as 0.00: positivity must hold for the rounded amount.
    assert field_codes(Money(positive=True), "0.004") == ["number.not_positive"]
    assert Money(positive=True).deserialize("0.005") == Decimal("0.01")


@given(cents=st.integers(min_value=0, max_value=10**9), thousandths=st.integers(0, 9))
def test_money_rounding_is_half_up_for_any_amount(cents, thousandths):
    text = f"{cents // 100}.{cents % 100:02d}{thousandths}"
    expected = Decimal(cents + (1 if thousandths >= 5 else 0)) / 100
    assert Money(maximum=Decimal(10**8)).deserialize(text) == expected


# --- Number ---------------------------------------------------------------------------------


def test_number_keeps_its_value_within_places():
    assert Number().deserialize("2.5") == Decimal("2.5")
    assert Number().deserialize(2.75) == Decimal("2.75")
    assert Number(places=0).deserialize("12") == Decimal("12")


@pytest.mark.parametrize(("places", "value"), [(2, "2.125"), (2, "0.001"), (0, "1.5"), (2, 0.1 + 0.2)])
def test_number_with_too_many_places_is_rejected(places, value):
    assert field_codes(Number(places=places), value) == ["number.too_many_places"]


def test_number_limits():
    assert field_codes(Number(), "-1") == ["number.negative"]
    assert field_codes(Number(positive=True), "0") == ["number.not_positive"]
    assert field_codes(Number(maximum=Decimal("744")), "744.25") == ["number.too_large"]
    assert Number(maximum=Decimal("744")).deserialize("744") == Decimal("744")
    assert field_codes(Number(), "Infinity") == ["number.special"]
    assert field_codes(Number(), True) == ["type.number"]


@pytest.mark.parametrize("value", ["2.10", "0.1", "1.33", "12.5"])
def test_number_does_not_enforce_a_unit_step(value):
    # Quarter hours and whole days depend on the service's unit: a plan rule (test_plan_rules).
    assert Number().deserialize(value) == Decimal(value)


# --- Date -----------------------------------------------------------------------------------


def test_date_loads_iso_dates_at_both_ends_of_the_range():
    assert Date().deserialize("2020-02-29") == dt.date(2020, 2, 29)
    assert Date().deserialize("1900-01-01") == dt.date(1900, 1, 1)
    assert Date().deserialize("2100-12-31") == dt.date(2100, 12, 31)


@pytest.mark.parametrize(
    "value",
    [
        "2019-02-29",
        "2020-04-31",
        "2020-13-01",
        "2020-00-10",
        "2020-1-1",
        "20200101",
        "01.02.2020",
        "2020/01/01",
        "2020-01-01T00:00",
        "2020-01-01 ",
        " 2020-1-01",
        "２０２０-０１-０１",
        "",
        "yesterday",
    ],
)
def test_malformed_date_strings_are_invalid(value):
    assert field_codes(Date(), value) == ["date.invalid"]


@pytest.mark.parametrize("value", ["2020-W01-1", "2020-001-1"])
def test_only_calendar_dates_yyyy_mm_dd_are_accepted(value):
    # Python's date.fromisoformat also reads ISO week dates ("2020-W01-1" is 2019-12-30).
    assert field_codes(Date(), value) == ["date.invalid"]


@pytest.mark.parametrize("value", ["1899-12-31", "2101-01-01", "0001-01-01", "9999-12-31"])
def test_dates_outside_1900_2100_are_out_of_range(value):
    assert field_codes(Date(), value) == ["date.out_of_range"]


@pytest.mark.parametrize("value", [20200101, 2020.0, True, dt.date(2020, 1, 1), ["2020-01-01"]])
def test_date_must_be_a_string(value):
    assert field_codes(Date(), value) == ["date.invalid"]


def test_null_date_is_a_null_error():
    assert field_codes(Date(), None) == ["null"]


# --- PeriodField ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "start", "end"),
    [
        ("2020-02", dt.date(2020, 2, 1), dt.date(2020, 2, 29)),
        ("2019-02", dt.date(2019, 2, 1), dt.date(2019, 2, 28)),
        ("2000-02", dt.date(2000, 2, 1), dt.date(2000, 2, 29)),
        ("2020-04", dt.date(2020, 4, 1), dt.date(2020, 4, 30)),
        ("2020-12", dt.date(2020, 12, 1), dt.date(2020, 12, 31)),
        ("2021-01", dt.date(2021, 1, 1), dt.date(2021, 1, 31)),
    ],
)
def test_month_form_covers_the_whole_calendar_month(month, start, end):
    assert PeriodField().deserialize(month) == Period(start, end)


def test_object_form_loads_both_ends_inclusive():
    period = PeriodField().deserialize({"start": "2020-08-01", "end": "2021-07-31"})
    assert period == Period(dt.date(2020, 8, 1), dt.date(2021, 7, 31))
    assert period.contains(dt.date(2021, 7, 31))
    assert not period.contains(dt.date(2021, 8, 1))
    one_day = PeriodField().deserialize({"start": "2020-08-01", "end": "2020-08-01"})
    assert one_day.start == one_day.end


def test_reversed_period_is_reported_at_its_end():
    errors = field_errors(PeriodField(), {"start": "2021-01-01", "end": "2020-12-31"})
    assert errors == {"/end": ["period.reversed"]}


def test_unknown_period_keys_are_reported_by_name():
    errors = field_errors(PeriodField(), {"start": "2020-01-01", "end": "2020-12-31", "from": "2020-01-01"})
    assert errors == {"/from": ["unknown_field"]}


def test_missing_or_bad_ends_are_reported_together():
    assert field_errors(PeriodField(), {"start": "2020-01-01"}) == {"/end": ["required"]}
    assert field_errors(PeriodField(), {}) == {"/start": ["required"], "/end": ["required"]}
    assert field_errors(PeriodField(), {"start": None, "end": "2020-02-30"}) == {
        "/start": ["null"],
        "/end": ["date.invalid"],
    }


@pytest.mark.parametrize(
    "value", ["2020-13", "2020-00", "2020-1", "2020", "2020-01-01", "", 202001, ["2020-01"], None]
)
def test_anything_else_is_not_a_period(value):
    expected = ["null"] if value is None else ["period.invalid"]
    assert field_codes(PeriodField(), value) == expected


def test_month_form_with_a_trailing_newline_is_not_a_period():
    assert field_codes(PeriodField(), "2020-09\n") == ["period.invalid"]


def test_period_serialises_to_the_object_form():
    period = Period(dt.date(2020, 2, 1), dt.date(2020, 2, 29))
    assert PeriodField().serialize("p", {"p": period}) == {"start": "2020-02-01", "end": "2020-02-29"}


# --- RegistrationNumber ---------------------------------------------------------------------

# Fictional numbers with a correct checksum (Σ dᵢ·wᵢ mod 11 = 3, weights 9,1,4,8,3,10,2,5,7,6,1).
VALID_REGISTRATION_NUMBERS = ["90005140508", "90008539097", "40004535487", "50003829914", "40102516613"]


@pytest.mark.parametrize("number", VALID_REGISTRATION_NUMBERS)
def test_valid_registration_number_loads_unchanged(number):
    assert RegistrationNumber().deserialize(number) == number


@pytest.mark.parametrize("number", VALID_REGISTRATION_NUMBERS)
def test_registration_number_with_a_wrong_last_digit_fails_the_checksum(number):
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert field_codes(RegistrationNumber(), wrong) == ["registration_number.checksum"]


@pytest.mark.parametrize(
    "number", ["01018011117", "10000000000", "20000000000", "32123456789", "31018011117"]
)
def test_registration_number_starting_with_0_to_3_is_a_personal_code_not_a_company(number):
    assert field_codes(RegistrationNumber(), number) == ["registration_number.first_digit"]


@pytest.mark.parametrize(
    "number", ["4000453548", "400045354870", "LV40004535487", "4000 4535487", "4000-4535487", ""]
)
def test_registration_number_must_be_exactly_11_digits(number):
    assert field_codes(RegistrationNumber(), number) == ["registration_number.format"]


def test_registration_number_must_be_a_string():
    assert field_codes(RegistrationNumber(), 40004535487) == ["type.string"]


# --- Iban -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "LV80BANK0000435195001",
        "LV80 BANK 0000 4351 9500 1",
        "LV40BANK0000100200304",
        "LV43 BANK 0000 2004 5081 7",
    ],
)
def test_latvian_iban_loads_compact(iban):
    assert Iban().deserialize(iban) == iban.replace(" ", "")


def test_iban_with_wrong_check_digits_is_a_checksum_error():
    assert field_codes(Iban(), "LV81BANK0000435195001") == ["iban.checksum"]
    assert field_codes(Iban(), "LV80 BANK 0000 4351 9500 2") == ["iban.checksum"]


@pytest.mark.parametrize("iban", ["DE89370400440532013000", "DE89 3704 0044 0532 0130 00"])
def test_valid_foreign_iban_is_rejected_as_not_latvian(iban):
    assert field_codes(Iban(), iban) == ["iban.country"]


@pytest.mark.parametrize(
    "iban", ["LV80BANK000043519500", "LV80BANK00004351950012", "hello", "", "LV" + "0" * 41]
)
def test_malformed_iban_is_a_format_error(iban):
    assert field_codes(Iban(), iban) == ["iban.format"]


def test_iban_must_be_a_string():
    assert field_codes(Iban(), 80) == ["type.string"]


# --- List -----------------------------------------------------------------------------------


def test_list_length_limits():
    field = List(Text(), min_length=1, max_length=2)
    assert field.deserialize(["a", "b"]) == ["a", "b"]
    assert field_codes(field, []) == ["list.too_short"]
    assert field_codes(field, ["a", "b", "c"]) == ["list.too_long"]


@pytest.mark.parametrize("value", ["abc", {"a": "b"}, 5, True])
def test_list_must_be_a_json_array(value):
    assert field_codes(List(Text()), value) == ["type.list"]


def test_list_reports_bad_items_by_index():
    assert field_errors(List(Text()), ["Rīga", 5, ""]) == {"/1": ["type.string"], "/2": ["text.empty"]}


def test_list_limit_is_checked_before_its_items():
    assert field_codes(List(Text(), max_length=1), [1, 2]) == ["list.too_long"]


def test_a_month_outside_1900_to_2100_is_a_problem_not_a_crash():
    # found by schemathesis: "0000-01" reached datetime.date(0, 1, 1)
    assert field_codes(PeriodField(), "0000-01") == ["date.out_of_range"]
    assert field_codes(PeriodField(), "2101-01") == ["date.out_of_range"]
