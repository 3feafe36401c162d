"""Personas kods (Latvian personal identity code).

A personal code has 11 digits, written with an optional hyphen after the sixth. Codes issued before
1 July 2017 (the *old format*, DDMMYY-CNNNN) start with the holder's birth date; the seventh digit gives
the century (0 → 1800s, 1 → 1900s, 2 → 2000s) and the last digit is a check digit:
(1101 − Σ dᵢ·wᵢ) mod 11 mod 10 with weights 1, 6, 3, 7, 9, 10, 5, 8, 4, 2. Codes issued since then (the
*new format*) start with 3 and a digit 2–9 and are otherwise random: they carry no date and **no
check digit**, so the birth date has to be given separately.

Written here because python-stdnum has no module for it, and its ``lv.pvn`` applies the old checksum
to new-format codes, which rejects valid ones.

>>> validate('010180-11117')
'010180-11117'
>>> validate('01018011117')
'010180-11117'
>>> validate('321234-56789')
'321234-56789'
>>> birth_date('010180-11117')
datetime.date(1980, 1, 1)
>>> birth_date('321234-56789') is None
True
>>> validate('010180-11116')
Traceback (most recent call last):
    ...
schemas.personal_code.InvalidChecksum: The check digit of the personal code is wrong.
>>> validate('310280-11116')
Traceback (most recent call last):
    ...
schemas.personal_code.InvalidDate: The first six digits of an old-format personal code must be a real date...
>>> validate('010180-31112')
Traceback (most recent call last):
    ...
schemas.personal_code.InvalidCentury: The seventh digit of an old-format personal code must be 0, 1 or 2.
>>> is_valid('12345'), is_valid('01-0180-11115'), is_valid('31234-567890')
(False, False, False)
"""

from __future__ import annotations

import datetime as dt
import re

from schemas.errors import MESSAGES

_SHAPE = re.compile(r"^([0-9]{6})-?([0-9]{5})\Z")  # ASCII digits only; no trailing newline
_WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CENTURIES = {"0": 1800, "1": 1900, "2": 2000}


class InvalidPersonalCode(ValueError):
    """Base of all personal-code failures; ``code`` is the error code of ``schemas.errors``."""

    code = "personal_code.format"

    def __init__(self) -> None:
        super().__init__(MESSAGES[self.code])


class InvalidFormat(InvalidPersonalCode):
    code = "personal_code.format"


class InvalidDate(InvalidPersonalCode):
    code = "personal_code.date"


class InvalidCentury(InvalidPersonalCode):
    code = "personal_code.century"


class FutureDate(InvalidPersonalCode):
    code = "personal_code.future"


class InvalidChecksum(InvalidPersonalCode):
    code = "personal_code.checksum"


def compact(number: str) -> str:
    """The 11 digits without the hyphen; raises InvalidFormat for any other shape.

    >>> compact('010180-11117')
    '01018011117'
    """
    match = _SHAPE.match(number)
    if not match:
        raise InvalidFormat()
    return match.group(1) + match.group(2)


def is_new_format(number: str) -> bool:
    """True for codes issued since 1 July 2017 (3 and a digit 2–9 first).

    >>> is_new_format('321234-56789'), is_new_format('310180-11117')
    (True, False)
    """
    digits = compact(number)
    return digits[0] == "3" and digits[1] in "23456789"


def check_digit(first_ten: str) -> str:
    """The check digit of an old-format code from its first ten digits.

    >>> check_digit('0101801111')
    '7'
    """
    total = sum(int(d) * w for d, w in zip(first_ten, _WEIGHTS, strict=True))
    return str((1101 - total) % 11 % 10)


def birth_date(number: str) -> dt.date | None:
    """The birth date an old-format code carries, or None for a new-format code."""
    digits = compact(number)
    if is_new_format(digits):
        return None
    century = _CENTURIES.get(digits[6])
    if century is None:
        raise InvalidCentury()
    try:
        return dt.date(century + int(digits[4:6]), int(digits[2:4]), int(digits[0:2]))
    except ValueError:
        raise InvalidDate() from None


def validate(number: str, today: dt.date | None = None) -> str:
    """Check a personal code and return it formatted DDMMYY-NNNNN."""
    digits = compact(number)
    if not is_new_format(digits):
        born = birth_date(digits)
        if born is not None and born > (today or dt.date.today()):
            raise FutureDate()
        if check_digit(digits[:10]) != digits[10]:
            raise InvalidChecksum()
    return format(digits)


def is_valid(number: str) -> bool:
    """True when ``validate`` accepts the code."""
    try:
        validate(number)
    except InvalidPersonalCode:
        return False
    return True


def format(number: str) -> str:
    """Display form DDMMYY-NNNNN.

    >>> format('32123456789')
    '321234-56789'
    """
    digits = compact(number)
    return f"{digits[:6]}-{digits[6:]}"
