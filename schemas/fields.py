"""Marshmallow fields for case data: text, money, dates, periods and Latvian identifiers.

Every field reports :class:`~schemas.errors.Problem` messages, so each failure has a stable code that
the service translates. Values load into plain Python types: ``str``, ``Decimal``, ``datetime.date``
and :class:`Period`.

>>> Money().deserialize("1234.565")
Decimal('1234.57')
>>> Text(max_length=5).deserialize("Līga\\x07")
Traceback (most recent call last):
    ...
marshmallow.exceptions.ValidationError: Contains a control character (code U+0007) that a document...
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields
from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException
from stdnum import lv as stdnum_lv
from stdnum.exceptions import InvalidChecksum as StdnumChecksum
from stdnum.exceptions import ValidationError as StdnumError

from schemas import personal_code
from schemas.errors import problem

CENT = Decimal("0.01")
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)


def to_money(value: Decimal) -> Decimal:
    """Round to cents, half up: the one rounding rule for money.

    >>> to_money(Decimal("2.675")), to_money(Decimal("-0.005"))
    (Decimal('2.68'), Decimal('-0.01'))
    """
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Coded:
    """Mixin: turn marshmallow's error keys into problems with stable codes."""

    #: marshmallow error key → problem code, extended by each field.
    error_codes: Mapping[str, str] = {}
    _base_codes = {"required": "required", "null": "null", "validator_failed": "invalid"}

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        code = self.error_codes.get(key) or self._base_codes.get(key, "invalid")
        return ValidationError(problem(code))


#: The invisible characters a paragraph may hold: hints a word processor pastes with the text (soft
#: hyphen, zero-width space, zero-width non-joiner and joiner, word joiner). A line — a name, a number,
#: an address — holds none: it must be exactly what it looks like, in a document and in a file name.
PARAGRAPH_FORMAT_CHARACTERS = frozenset("\u00ad\u200b\u200c\u200d\u2060")


class Text(Coded, fields.String):
    """A line (or, with ``multiline``, a paragraph) of text fit to print in a document.

    Rejects control characters (line breaks only where allowed), format characters (Unicode Cf: bidi
    controls such as U+202E, which can make "Akts 1\\u202efdp.exe" show as "Akts 1exe.pdf", and the BOM
    everywhere; zero-width characters and soft hyphens in a line — see
    :data:`PARAGRAPH_FORMAT_CHARACTERS`), unpaired surrogates, empty strings unless ``allow_empty``, and
    anything longer than ``max_length``. Text is kept verbatim.
    """

    error_codes = {"invalid": "type.string", "invalid_utf8": "type.string"}

    def __init__(
        self, *, max_length: int = 200, multiline: bool = False, allow_empty: bool = False, **kwargs
    ):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.multiline = multiline
        self.allow_empty = allow_empty
        self.metadata.setdefault("maxLength", max_length)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        check_text(text, max_length=self.max_length, multiline=self.multiline)
        if not self.allow_empty and not text.strip():
            raise ValidationError(problem("text.empty"))
        return text


def check_text(text: str, *, max_length: int, multiline: bool) -> None:
    """Raise the first problem that keeps ``text`` out of a document.

    >>> check_text("Ķegums\\nRīga", max_length=20, multiline=True)
    >>> check_text("\\ud800", max_length=20, multiline=False)
    Traceback (most recent call last):
        ...
    marshmallow.exceptions.ValidationError: Contains an invalid (unpaired surrogate) character.
    >>> check_text("Akts 1\\u202efdp.exe", max_length=20, multiline=False)
    Traceback (most recent call last):
        ...
    marshmallow.exceptions.ValidationError: Contains an invisible formatting character (code U+202E)...
    >>> check_text("sociālā re\\u00adhabilitācija", max_length=40, multiline=True)
    """
    if len(text) > max_length:
        raise ValidationError(problem("text.too_long", max=max_length))
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            raise ValidationError(problem("text.surrogate"))
        if char == "\n":
            if not multiline:
                raise ValidationError(problem("text.line_break"))
        elif category == "Cc" or char in "\u2028\u2029":
            raise ValidationError(problem("text.control_character", char=f"U+{ord(char):04X}"))
        elif category == "Cf" and not (multiline and char in PARAGRAPH_FORMAT_CHARACTERS):
            raise ValidationError(problem("text.format_character", char=f"U+{ord(char):04X}"))


class Choice(Text):
    """One of a fixed set of string values (codes such as ``"restricted"``)."""

    def __init__(self, choices: Sequence[str], **kwargs):
        super().__init__(max_length=max(len(c) for c in choices), **kwargs)
        self.choices = tuple(choices)
        self.metadata.setdefault("enum", list(self.choices))

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if value not in self.choices:
            raise ValidationError(problem("choice", choices=", ".join(self.choices)))
        return value


class Phone(Text):
    """A phone number as people write it: digits, spaces, +, -, parentheses."""

    _shape = re.compile(r"^\+?[0-9 ()\-]{5,20}$")

    def __init__(self, **kwargs):
        super().__init__(max_length=20, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self._shape.match(text):
            raise ValidationError(problem("phone.invalid"))
        return text


class Email(Coded, fields.Email):
    """An e-mail address."""

    error_codes = {"invalid": "email.invalid"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata.setdefault("maxLength", 254)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if isinstance(value, str):  # an internationalised domain may hold any letter, but no invisible one
            check_text(value, max_length=254, multiline=False)
        return super()._deserialize(value, attr, data, **kwargs)

    def _validate(self, value) -> None:
        try:
            super()._validate(value)
        except ValidationError:
            raise ValidationError(problem("email.invalid")) from None


class Boolean(Coded, fields.Boolean):
    """true or false: JSON booleans only (no guessing from 1, "yes" or "jā")."""

    error_codes = {"invalid": "type.boolean"}

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if value is True or value is False:
            return value
        raise self.make_error("invalid")


def in_range(low: int, high: int):
    """A validator: the number lies between ``low`` and ``high``, both included.

    >>> Integer(validate=in_range(1, 5)).deserialize(9)
    Traceback (most recent call last):
        ...
    marshmallow.exceptions.ValidationError: ['Must be between 1 and 5.']
    """

    def check(value) -> None:
        if not low <= value <= high:
            raise ValidationError(problem("number.range", min=low, max=high))

    return check


class Integer(Coded, fields.Integer):
    """A whole number."""

    error_codes = {"invalid": "type.integer", "too_large": "type.integer"}

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class Number(Coded, fields.Decimal):
    """A non-negative ``Decimal`` with at most ``places`` decimal places, at most ``maximum``.

    JSON numbers and numeric strings are both accepted; floats never reach the value.
    """

    error_codes = {"invalid": "type.number", "special": "number.special"}

    def __init__(self, *, places: int = 2, maximum: Decimal = Decimal("1000000"), positive=False, **kwargs):
        super().__init__(as_string=True, **kwargs)
        # On the wire: a decimal string ("12.50"); JSON numbers are accepted too.
        self.metadata.setdefault("type", "string")
        self.metadata.setdefault("pattern", r"^[0-9]+(\.[0-9]+)?$")
        self.max_places = places
        self.maximum = maximum
        self.positive = positive

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float):
            value = repr(value)
        return super()._validated(value)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        number = super()._deserialize(value, attr, data, **kwargs)
        if not number.is_finite():
            raise ValidationError(problem("number.special"))
        if number < 0:
            raise ValidationError(problem("number.negative"))
        if number > self.maximum:
            raise ValidationError(problem("number.too_large", max=str(self.maximum)))
        number = self._round(number).copy_abs()  # no "-0" and no exponent form such as 1E+2
        if self.positive and number == 0:
            raise ValidationError(problem("number.not_positive"))
        return number

    def _round(self, number: Decimal) -> Decimal:
        exponent = number.as_tuple().exponent
        if exponent > 0:
            return number.quantize(Decimal(1))
        if -exponent > self.max_places:
            raise ValidationError(problem("number.too_many_places", places=self.max_places))
        return number


class Money(Number):
    """An amount in euro: ``Decimal`` rounded to cents, half up.

    >>> Money().deserialize(67.375), Money().deserialize("10")
    (Decimal('67.38'), Decimal('10.00'))
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("maximum", Decimal("10000000"))
        super().__init__(**kwargs)

    def _round(self, number: Decimal) -> Decimal:
        try:
            return to_money(number)
        except InvalidOperation:
            raise ValidationError(problem("number.too_large", max=str(self.maximum))) from None


class Date(Coded, fields.Date):
    """An ISO date (YYYY-MM-DD) between 1900 and 2100.

    >>> Date().deserialize("2020-08-01")
    datetime.date(2020, 8, 1)
    >>> Date().deserialize("2020-W01-1")
    Traceback (most recent call last):
        ...
    marshmallow.exceptions.ValidationError: Expected a date in the form YYYY-MM-DD, e.g. 2020-08-01.
    """

    error_codes = {"invalid": "date.invalid", "format": "date.invalid"}

    _shape = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")

    def _deserialize(self, value, attr, data, **kwargs) -> dt.date:
        if not isinstance(value, str) or not self._shape.match(value):
            raise ValidationError(problem("date.invalid"))
        day = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST <= day <= LATEST:
            raise ValidationError(
                problem("date.out_of_range", min=EARLIEST.isoformat(), max=LATEST.isoformat())
            )
        return day


@dataclass(frozen=True)
class Period:
    """A span of days, both ends included.

    >>> p = Period(dt.date(2020, 8, 1), dt.date(2021, 7, 31))
    >>> p.contains(dt.date(2021, 7, 31)), p.contains(dt.date(2021, 8, 1))
    (True, False)
    >>> Period.month(2020, 2)
    Period(start=datetime.date(2020, 2, 1), end=datetime.date(2020, 2, 29))
    """

    start: dt.date
    end: dt.date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - dt.timedelta(days=1))

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def covers(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end


class PeriodField(Coded, fields.Field):
    """A period: ``{"start": "2020-08-01", "end": "2021-07-31"}`` or a calendar month ``"2020-09"``.

    >>> PeriodField().deserialize("2020-09")
    Period(start=datetime.date(2020, 9, 1), end=datetime.date(2020, 9, 30))
    >>> PeriodField().deserialize({"start": "2021-01-01", "end": "2020-12-31"})
    Traceback (most recent call last):
        ...
    marshmallow.exceptions.ValidationError: {'end': ['The start (2021-01-01) is after the end (2020-12-31).']}
    """

    _month = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata.setdefault(
            "oneOf",
            [
                {
                    "type": "object",
                    "properties": {
                        "start": {"type": "string", "format": "date"},
                        "end": {"type": "string", "format": "date"},
                    },
                    "required": ["start", "end"],
                    "additionalProperties": False,
                },
                {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$"},
            ],
        )

    def _deserialize(self, value, attr, data, **kwargs) -> Period:
        if isinstance(value, str) and (match := self._month.match(value)):
            year = int(match.group(1))
            if not EARLIEST.year <= year <= LATEST.year:
                raise ValidationError(
                    problem("date.out_of_range", min=EARLIEST.isoformat(), max=LATEST.isoformat())
                )
            return Period.month(year, int(match.group(2)))
        if not isinstance(value, Mapping):
            raise ValidationError(problem("period.invalid"))
        errors: dict[str, list] = {}
        ends: dict[str, dt.date] = {}
        for key in value:
            if key not in ("start", "end"):
                errors[key] = [problem("unknown_field")]
        for key in ("start", "end"):
            try:
                ends[key] = Date(required=True).deserialize(value.get(key, fields.missing_))
            except ValidationError as exc:
                errors[key] = exc.messages
        if errors:
            raise ValidationError(errors)
        if ends["start"] > ends["end"]:
            raise ValidationError({"end": [problem("period.reversed", start=ends["start"], end=ends["end"])]})
        return Period(ends["start"], ends["end"])

    def _serialize(self, value: Period | None, attr, obj, **kwargs):
        if value is None:
            return None
        return {"start": value.start.isoformat(), "end": value.end.isoformat()}


class Month(PeriodField):
    """One calendar month, written YYYY-MM, loaded as its Period.

    >>> Month().deserialize("2020-02").end
    datetime.date(2020, 2, 29)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata.pop("oneOf", None)
        self.metadata.update(type="string", pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")

    def _deserialize(self, value, attr, data, **kwargs) -> Period:
        if not isinstance(value, str) or not self._month.match(value):
            raise ValidationError(problem("month.invalid"))
        return super()._deserialize(value, attr, data, **kwargs)

    def _serialize(self, value: Period | None, attr, obj, **kwargs):
        return None if value is None else value.start.strftime("%Y-%m")


class Time(Coded, fields.Field):
    """A time of day, HH:MM (24-hour), loaded as ``datetime.time``.

    >>> Time().deserialize("09:30")
    datetime.time(9, 30)
    """

    _shape = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])\Z")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata.update(type="string", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

    def _deserialize(self, value, attr, data, **kwargs) -> dt.time:
        match = self._shape.match(value) if isinstance(value, str) else None
        if not match:
            raise ValidationError(problem("time.invalid"))
        return dt.time(int(match.group(1)), int(match.group(2)))

    def _serialize(self, value: dt.time | None, attr, obj, **kwargs):
        return None if value is None else value.strftime("%H:%M")


class PersonalCode(Coded, fields.String):
    """A Latvian personal code in either format, loaded as DDMMYY-NNNNN (see schemas.personal_code).

    >>> PersonalCode().deserialize("01018011117")
    '010180-11117'
    """

    error_codes = {"invalid": "type.string"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata.setdefault("pattern", r"^[0-9]{6}-?[0-9]{5}$")

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return personal_code.validate(text)
        except personal_code.InvalidPersonalCode as exc:
            raise ValidationError(problem(exc.code)) from None


class RegistrationNumber(Coded, fields.String):
    """A Latvian company (legal entity) registration number, checked by python-stdnum.

    >>> RegistrationNumber().deserialize("40003245752")
    '40003245752'
    """

    error_codes = {"invalid": "type.string"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata.setdefault("pattern", r"^[4-9][0-9]{10}$")

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(r"\d{11}", text):
            raise ValidationError(problem("registration_number.format"))
        if text[0] < "4":  # 0-3 start personal codes, which lv.pvn also accepts
            raise ValidationError(problem("registration_number.first_digit"))
        try:
            return stdnum_lv.pvn.validate(text)
        except StdnumChecksum:
            raise ValidationError(problem("registration_number.checksum")) from None
        except StdnumError:
            raise ValidationError(problem("registration_number.format")) from None


class Iban(Coded, fields.String):
    """A Latvian IBAN (LV, 21 characters), checked by schwifty; loaded without spaces.

    >>> Iban().deserialize("LV80 BANK 0000 4351 9500 1")
    'LV80BANK0000435195001'
    """

    error_codes = {"invalid": "type.string"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata.setdefault("pattern", r"^LV\d{2}[A-Z]{4}[0-9A-Z]{13}$")

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 42:
            raise ValidationError(problem("iban.format"))
        try:
            iban = IBAN(text)
        except InvalidChecksumDigits:
            raise ValidationError(problem("iban.checksum")) from None
        except SchwiftyException:
            raise ValidationError(problem("iban.format")) from None
        if iban.country_code != "LV":
            raise ValidationError(problem("iban.country"))
        return iban.compact


class Nested(Coded, fields.Nested):
    """A nested object."""

    error_codes = {"type": "type.object"}


class Keyed(Coded, fields.Dict):
    """An object with free keys (e.g. units by name); a value's errors sit at ``/<key>``."""

    error_codes = {"invalid": "type.object"}

    def _deserialize(self, value, attr, data, **kwargs) -> dict:
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as exc:
            if not isinstance(exc.messages, dict):
                raise
            raise ValidationError(
                {key: errors.get("value", errors) for key, errors in exc.messages.items()}
            ) from None


class List(Coded, fields.List):
    """A list with a length limit (and a minimum, e.g. at least one service)."""

    error_codes = {"invalid": "type.list"}

    def __init__(self, inner, *, max_length: int = 100, min_length: int = 0, **kwargs):
        super().__init__(inner, **kwargs)
        self.max_length = max_length
        self.min_length = min_length
        self.metadata.setdefault("maxItems", max_length)
        if min_length:
            self.metadata.setdefault("minItems", min_length)

    def _deserialize(self, value, attr, data, **kwargs) -> list:
        if isinstance(value, list | tuple):
            if len(value) > self.max_length:
                raise ValidationError(problem("list.too_long", max=self.max_length))
            if len(value) < self.min_length:
                raise ValidationError(problem("list.too_short", min=self.min_length))
        return super()._deserialize(value, attr, data, **kwargs)
