"""The Latvian personal code (personas kods) in both formats: schemas.personal_code and its field."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from schemas import personal_code
from schemas.errors import MESSAGES
from schemas.fields import PersonalCode
from schemas.personal_code import (
    FutureDate,
    InvalidCentury,
    InvalidChecksum,
    InvalidDate,
    InvalidFormat,
    InvalidPersonalCode,
)
from tests.helpers import field_codes

# Written out from DOMAIN.md, independently of the module's table.
WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CENTURY_DIGIT = {18: "0", 19: "1", 20: "2"}
DIGITS = "0123456789"


def residue(first_ten: str) -> int:
    """(1101 − Σ dᵢ·wᵢ) mod 11, before the final ``mod 10`` that makes it one digit."""
    return (1101 - sum(int(d) * w for d, w in zip(first_ten, WEIGHTS, strict=True))) % 11


def reference_check_digit(first_ten: str) -> str:
    return str(residue(first_ten) % 10)


def old_code(born: dt.date, serial: str, *, century: str | None = None) -> str:
    """An old-format code DDMMYYCNNN + correct check digit (no hyphen)."""
    first = f"{born:%d%m}{born.year % 100:02d}{century or CENTURY_DIGIT[born.year // 100]}{serial}"
    return first + reference_check_digit(first)


def with_check_digit(first_ten: str) -> str:
    """Any ten digits (even an impossible date) completed with their correct check digit."""
    return first_ten + reference_check_digit(first_ten)


# --- the two formats -------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["010180-11117", "01018011117"])
def test_old_format_code_with_or_without_hyphen_validates_to_display_form(written):
    assert personal_code.validate(written) == "010180-11117"
    assert personal_code.is_valid(written)
    assert not personal_code.is_new_format(written)


@pytest.mark.parametrize("written", ["321234-56789", "32123456789"])
def test_new_format_code_with_or_without_hyphen_validates_to_display_form(written):
    assert personal_code.validate(written) == "321234-56789"
    assert personal_code.is_new_format(written)


@pytest.mark.parametrize("second", "23456789")
@pytest.mark.parametrize("last", DIGITS)
def test_new_format_codes_with_second_digit_2_to_9_need_no_checksum(second, last):
    code = f"3{second}0000-0000{last}"
    assert personal_code.validate(code) == code
    assert personal_code.is_new_format(code)
    assert personal_code.birth_date(code) is None


@given(rest=st.text(DIGITS, min_size=9, max_size=9), second=st.sampled_from("23456789"))
def test_any_new_format_code_is_accepted_and_carries_no_birth_date(rest, second):
    digits = f"3{second}{rest}"
    assert personal_code.validate(digits) == f"{digits[:6]}-{digits[6:]}"
    assert personal_code.birth_date(digits) is None


@pytest.mark.parametrize("day", ["30", "31"])
def test_codes_starting_30_or_31_are_old_format_dates(day):
    code = with_check_digit(f"{day}0180" + "1123")
    assert not personal_code.is_new_format(code)
    assert personal_code.birth_date(code) == dt.date(1980, 1, int(day))
    assert personal_code.is_valid(code)
    wrong = code[:10] + str((int(code[10]) + 1) % 10)
    with pytest.raises(InvalidChecksum):  # checked like any old code, not waved through
        personal_code.validate(wrong)


def test_30_or_31_with_an_impossible_month_is_a_bad_date_not_a_new_code():
    with pytest.raises(InvalidDate):
        personal_code.validate(with_check_digit("3104801123"))  # 31 April
    with pytest.raises(InvalidDate):
        personal_code.validate(with_check_digit("3020801123"))  # month 20


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "",
        "12345",
        "0101801111",  # 10 digits
        "010180111170",  # 12 digits
        "01-0180-11117",
        "010180--11117",
        "0101801-1117",  # hyphen after the 7th digit
        "010180 11117",
        "010180_11117",
        "010180-1111a",
        "a10180-11117",
        " 010180-11117",
        "010180-11117 ",
        "31234-567890",
    ],
)
def test_wrong_shape_is_a_format_error(written):
    with pytest.raises(InvalidFormat):
        personal_code.validate(written)
    assert not personal_code.is_valid(written)
    assert field_codes(PersonalCode(), written) == ["personal_code.format"]


@pytest.mark.parametrize(
    "written",
    [
        "010180-11117\n",  # `$` in the pattern matches before a final newline
        "٠١٠١٨٠-١١١١٧",  # Arabic-Indic digits: `\d` is Unicode-aware
        "０１０１８０-１１１１７",  # fullwidth digits
        "٠10180-11117",  # one Arabic-Indic zero; int() reads it, so the checksum agrees
    ],
)
def test_only_ascii_digits_without_trailing_newline_are_a_personal_code(written):
    with pytest.raises(InvalidFormat):
        personal_code.validate(written)
    assert field_codes(PersonalCode(), written) == ["personal_code.format"]


@pytest.mark.parametrize(
    "first_ten",
    [
        "2902011123",  # 29 Feb 2001: not a leap year
        "2902001123",  # 29 Feb 1900: century years are leap only when divisible by 400
        "3104801123",  # 31 April
        "3106801123",  # 31 June
        "3002801123",  # 30 February
        "0001801123",  # day 0
        "0100801123",  # month 0
        "0113801123",  # month 13
    ],
)
def test_impossible_birth_date_is_rejected(first_ten):
    code = with_check_digit(first_ten)
    with pytest.raises(InvalidDate):
        personal_code.validate(code)
    with pytest.raises(InvalidDate):
        personal_code.birth_date(code)
    assert field_codes(PersonalCode(), code) == ["personal_code.date"]


@pytest.mark.parametrize(
    ("first_ten", "born"),
    [("2902002123", dt.date(2000, 2, 29)), ("2902961123", dt.date(1996, 2, 29))],
)
def test_leap_day_is_a_real_birth_date(first_ten, born):
    code = with_check_digit(first_ten)
    assert personal_code.birth_date(code) == born
    assert personal_code.is_valid(code)


@pytest.mark.parametrize("century", "3456789")
def test_century_digit_3_to_9_is_rejected(century):
    code = with_check_digit(f"010180{century}123")
    with pytest.raises(InvalidCentury):
        personal_code.validate(code)
    with pytest.raises(InvalidCentury):
        personal_code.birth_date(code)
    assert field_codes(PersonalCode(), code) == ["personal_code.century"]


@pytest.mark.parametrize(("century", "year"), [("0", 1880), ("1", 1980), ("2", 2080)])
def test_century_digit_0_1_2_gives_1800s_1900s_2000s(century, year):
    code = with_check_digit(f"010180{century}123")
    assert personal_code.birth_date(code) == dt.date(year, 1, 1)


def test_birth_date_after_today_is_rejected():
    code = old_code(dt.date(2020, 8, 2), "123")
    with pytest.raises(FutureDate):
        personal_code.validate(code, today=dt.date(2020, 8, 1))
    assert personal_code.validate(code, today=dt.date(2020, 8, 2)) == f"{code[:6]}-{code[6:]}"


def test_birth_date_in_the_future_by_the_real_clock_is_rejected():
    code = old_code(dt.date.today() + dt.timedelta(days=1), "123")
    assert not personal_code.is_valid(code)
    assert field_codes(PersonalCode(), code) == ["personal_code.future"]


@pytest.mark.parametrize("wrong", "012345689")  # the right check digit is 7
def test_wrong_check_digit_is_rejected(wrong):
    code = f"010180-1111{wrong}"
    with pytest.raises(InvalidChecksum):
        personal_code.validate(code)
    assert field_codes(PersonalCode(), code) == ["personal_code.checksum"]


@pytest.mark.parametrize("value", [1018011117, None, ["010180-11117"]])
def test_field_rejects_non_strings(value):
    expected = ["null"] if value is None else ["type.string"]
    assert field_codes(PersonalCode(), value) == expected


def test_field_loads_the_display_form():
    assert PersonalCode().deserialize("01018011117") == "010180-11117"
    assert PersonalCode().deserialize("32123456789") == "321234-56789"


def test_every_exception_carries_a_known_error_code():
    classes = (InvalidFormat, InvalidDate, InvalidCentury, FutureDate, InvalidChecksum)
    codes = {cls.code for cls in classes}
    assert codes == {
        "personal_code.format",
        "personal_code.date",
        "personal_code.century",
        "personal_code.future",
        "personal_code.checksum",
    }
    assert codes <= set(MESSAGES)
    assert all(issubclass(cls, InvalidPersonalCode) for cls in classes)


# --- format and birth_date ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("01018011117", "010180-11117"),
        ("010180-11117", "010180-11117"),
        ("32123456789", "321234-56789"),
        ("321234-56789", "321234-56789"),
    ],
)
def test_format_shows_ddmmyy_hyphen_nnnnn(written, shown):
    assert personal_code.format(written) == shown


def test_format_and_birth_date_reject_a_wrong_shape():
    with pytest.raises(InvalidFormat):
        personal_code.format("0101801111")
    with pytest.raises(InvalidFormat):
        personal_code.birth_date("01.01.80-11117")


def test_birth_date_of_an_old_code_and_none_for_a_new_code():
    assert personal_code.birth_date("010180-11117") == dt.date(1980, 1, 1)
    assert personal_code.birth_date("150385-12346") == dt.date(1985, 3, 15)
    assert personal_code.birth_date("321234-56789") is None


# --- properties -----------------------------------------------------------------------------

real_birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today())
serials = st.text(DIGITS, min_size=3, max_size=3)


@given(first_ten=st.text(DIGITS, min_size=10, max_size=10))
def test_check_digit_follows_the_published_formula(first_ten):
    assert personal_code.check_digit(first_ten) == reference_check_digit(first_ten)


@given(born=real_birth_dates, serial=serials)
def test_generated_old_code_validates_and_gives_back_the_birth_date(born, serial):
    code = old_code(born, serial)
    shown = personal_code.validate(code)
    assert shown == f"{code[:6]}-{code[6:]}"
    assert personal_code.birth_date(shown) == born
    assert personal_code.birth_date(code) == born


@given(born=real_birth_dates, serial=serials, digit=st.sampled_from(DIGITS))
def test_changing_the_check_digit_is_always_caught(born, serial, digit):
    code = old_code(born, serial)
    assume(digit != code[10])
    with pytest.raises(InvalidChecksum):
        personal_code.validate(code[:10] + digit)


@given(
    born=real_birth_dates,
    serial=serials,
    position=st.integers(min_value=0, max_value=10),
    digit=st.sampled_from(DIGITS),
)
def test_changing_one_digit_is_caught_or_gives_a_new_format_or_check_digit_0_code(
    born, serial, position, digit
):
    """A single changed digit is rejected, with exactly two exceptions.

    1. The change turns the code into a new-format one (first digit 3, second 2-9): those carry no
       check digit, so any such code is valid.
    2. The check digit is 0 and the changed code's residue (1101 − Σ) mod 11 is 0 where the original's
       was 10 or the other way round: the final ``mod 10`` writes both as 0. The changed code must
       then also be a real, non-future old-format date with a valid century digit.
    """
    code = old_code(born, serial)
    assume(code[position] != digit)
    changed = code[:position] + digit + code[position + 1 :]
    try:
        personal_code.validate(changed)
    except InvalidPersonalCode:
        return
    if personal_code.is_new_format(changed):
        assert position in (0, 1)
        return
    assert position < 10
    assert changed[10] == code[10] == "0"
    assert {residue(code[:10]), residue(changed[:10])} == {0, 10}
    assert personal_code.birth_date(changed) <= dt.date.today()


def test_the_check_digit_cannot_tell_residue_0_from_10():
    # 150385-10050 has residue 10 and 150385-14050 residue 0: both get the check digit 0.
    assert residue("1503851005") == 10
    assert residue("1503851405") == 0
    assert personal_code.is_valid("150385-10050")
    assert personal_code.is_valid("150385-14050")
