"""Dates, months and numbers as people in Latvia type them: the one reader of people's input.

JSON keeps ISO forms (``2020-09-15``, ``2020-09``, ``12.50``) as the API's contract, read strictly by
:mod:`schemas.fields`. What a person types — into a fillable form today, a table or a web form later —
is read here first and then handed to the same schemas in those ISO forms. A date is written day
first, with dots: ``15.09.2020.`` (the final dot Latvian uses may be left out; a day or month may have
one digit, ``5.9.2020.``, since the order is fixed; one space may follow each dot), or as ISO
``2020-09-15``. Anything else is refused with a coded failure whose message says what to type; above
all the reader never guesses the order of day and month, so ``09/15/2020`` and ``15/09/2020`` are both
refused (``input.date_order``), a two-digit year is refused (``input.date_year``) and so is
``2020.09.15``. A month is ``09.2020.`` or ``2020-09``.

A number may have a decimal comma or a decimal point — one of them, once — and its whole part may be
grouped in threes with spaces (ordinary, no-break or thin): ``2,5``, ``2.5``, ``1 234,50``. A comma and a
point together (``1.234,50``, ``1,234.50``) or either twice (``1.234.567``) are refused as ambiguous
(``input.number_separators``): Latvian groups thousands only with spaces, so a lone point or comma is
always the decimal separator and ``1.234`` is one and a bit. babel (CLDR ``lv``) checks the grouping and
converts (``parse_decimal(strict=True)``); the rest is written here because babel accepts what a person
did not mean — in strict mode too it takes exponents (``1e3``), non-ASCII digits and a leading ``+``,
reads a point as the decimal point only where no grouping space precedes it, and its ``parse_date``
swaps day and month when the month would be over 12 (``09/15/2020`` becomes 15 September) and reads
``15.09.20`` as 2015-09-20.

>>> [read_date(text).isoformat() for text in ("15.09.2020.", "15.09.2020", "2020-09-15", "5.9.2020.")]
['2020-09-15', '2020-09-15', '2020-09-15', '2020-09-05']
>>> read_date("09/15/2020")
Traceback (most recent call last):
    ...
schemas.human_input.AmbiguousDate: The order of day and month is unclear: type the date day first, ...
>>> read_date("2020.09.15")
Traceback (most recent call last):
    ...
schemas.human_input.InvalidDate: Type the date as DD.MM.YYYY., e.g. 15.09.2020.
>>> read_date("15.09.20")
Traceback (most recent call last):
    ...
schemas.human_input.ShortYear: Type the year with all four digits, as DD.MM.YYYY., e.g. 15.09.2020.
>>> read_date("31.02.2020.")
Traceback (most recent call last):
    ...
schemas.human_input.NoSuchDay: There is no such day in the calendar: check the day and the month.
>>> read_month("09.2020."), read_month("2020-09")
(datetime.date(2020, 9, 1), datetime.date(2020, 9, 1))
>>> read_decimal("2,5"), read_decimal("2.5"), read_decimal("1 234,50"), read_decimal("1\\u00a0234,50")
(Decimal('2.5'), Decimal('2.5'), Decimal('1234.50'), Decimal('1234.50'))
>>> read_decimal("1.234,50")
Traceback (most recent call last):
    ...
schemas.human_input.AmbiguousNumber: Use one decimal separator (a comma) and spaces between thousands, ...
>>> read_decimal("12 34")
Traceback (most recent call last):
    ...
schemas.human_input.InvalidGrouping: Group the digits in threes from the decimal comma (1 234,50)...
>>> read_decimal("1e3")
Traceback (most recent call last):
    ...
schemas.human_input.InvalidNumber: Type a number with a decimal comma, e.g. 2,5 or 1 234,50.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal

from schemas.errors import MESSAGES

#: Longer input is neither a date nor a number a person means (and is not worth a regex).
MAX_LENGTH = 40

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATE = re.compile(r"([0-9]{1,2})\. ?([0-9]{1,2})\. ?([0-9]{4})\.?")
_SHORT_YEAR = re.compile(r"[0-9]{1,2}\. ?[0-9]{1,2}\. ?[0-9]{2}\.?")
_OTHER_ORDER = re.compile(r"[0-9]{1,2}[/-][0-9]{1,2}[/-][0-9]{2,4}")
_ISO_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{1,2})\. ?([0-9]{4})\.?")
_SPACES = dict.fromkeys(map(ord, " \u2009\u202f"), "\u00a0")  # babel's lv grouping is U+00A0
_NUMBER = re.compile("-?[0-9]+(?:\u00a0[0-9]+)*(?:[.,][0-9]+)?")


class InvalidInput(ValueError):
    """Base of every failure; ``code`` is the error code of :mod:`schemas.errors`."""

    code = "input.date"

    def __init__(self) -> None:
        super().__init__(MESSAGES[self.code])


class InvalidDate(InvalidInput):
    """Not a date in a form this reader accepts."""

    code = "input.date"


class AmbiguousDate(InvalidDate):
    """Slashes or hyphens with the day or month first: the order cannot be told, so it is not guessed."""

    code = "input.date_order"


class ShortYear(InvalidDate):
    """A two-digit year: the century would be a guess."""

    code = "input.date_year"


class NoSuchDay(InvalidDate):
    """The right form, but not a day of the calendar (31.02.2020.)."""

    code = "input.date_no_such_day"


class InvalidMonth(InvalidInput):
    """Not a month written MM.YYYY. or YYYY-MM."""

    code = "input.month"


class InvalidNumber(InvalidInput):
    """Not a number written with ASCII digits, an optional minus and one decimal separator."""

    code = "input.number"


class AmbiguousNumber(InvalidNumber):
    """A comma and a point, or either twice: which one separates the decimals would be a guess."""

    code = "input.number_separators"


class InvalidGrouping(InvalidNumber):
    """Spaces that do not group the whole part in threes."""

    code = "input.number_grouping"


def read_date(text: str) -> dt.date:
    """The day written ``DD.MM.YYYY.`` (final dot optional) or ``YYYY-MM-DD``; raises :class:`InvalidDate`."""
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise InvalidDate()
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = match.groups()
    elif match := _DATE.fullmatch(text):
        day, month, year = match.groups()
    elif _SHORT_YEAR.fullmatch(text):
        raise ShortYear()
    elif _OTHER_ORDER.fullmatch(text):
        raise AmbiguousDate()
    else:
        raise InvalidDate()
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise NoSuchDay() from None


def read_month(text: str) -> dt.date:
    """The first day of the month written ``MM.YYYY.`` (final dot optional) or ``YYYY-MM``.

    >>> read_month("9.2020")
    datetime.date(2020, 9, 1)
    >>> read_month("13.2020.")
    Traceback (most recent call last):
        ...
    schemas.human_input.InvalidMonth: Type the month as MM.YYYY., e.g. 09.2020.
    """
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise InvalidMonth()
    if match := _ISO_MONTH.fullmatch(text):
        year, month = match.groups()
    elif match := _MONTH.fullmatch(text):
        month, year = match.groups()
    else:
        raise InvalidMonth()
    try:
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise InvalidMonth() from None


def read_decimal(text: str) -> Decimal:
    """The number a person typed, with a decimal comma or point and optional spaces between thousands.

    A leading minus (``-`` or ``−``) is read; whether a negative number is allowed is the schema's rule.

    >>> read_decimal(" 1 234 567 "), read_decimal("−0,25"), read_decimal("1.234")
    (Decimal('1234567'), Decimal('-0.25'), Decimal('1.234'))
    >>> read_decimal("1,234.50")
    Traceback (most recent call last):
        ...
    schemas.human_input.AmbiguousNumber: Use one decimal separator (a comma) and spaces between thousands, ...
    """
    text = text.strip().translate(_SPACES).replace("\u2212", "-")
    if len(text) > MAX_LENGTH:
        raise InvalidNumber()
    if ("," in text and "." in text) or text.count(",") > 1 or text.count(".") > 1:
        raise AmbiguousNumber()
    if not _NUMBER.fullmatch(text):
        raise InvalidNumber()
    if "\u00a0" not in text:  # no grouping to check: what babel would give, at a tenth of its cost
        return Decimal(text.replace(",", "."))
    try:
        return parse_decimal(text.replace(".", ","), locale="lv", strict=True)
    except NumberFormatError:
        raise InvalidGrouping() from None
