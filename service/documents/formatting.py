"""Jinja filters that format values for Latvian official documents.

Templates never compute: they only format values through these filters, which are
backed by babel (CLDR data for the ``lv`` locale) and num2words. Every public function
is one filter; :data:`FILTERS` maps filter names to functions for registering them in a
Jinja environment::

    env.filters.update(FILTERS)

Babel puts U+00A0 (no-break space) between digit groups and before the currency, so
figures never wrap across lines in the rendered document.
"""

from calendar import monthrange
from collections.abc import Callable, Mapping
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date, get_month_names
from babel.numbers import format_currency, format_decimal
from num2words import num2words
from num2words.lang_LV import THOUSANDS

_LOCALE = Locale("lv")
_CENT = Decimal("0.01")
_NBSP = "\u00a0"

# CLDR has only nominative month names for lv (its "format" and "stand-alone" names are
# the same: "augusts"), but documents also need "no 2020. gada 1. augusta" (genitive),
# "2020. gada augustā" (locative), "par 2020. gada augustu" (accusative) and "līdz
# 2020. gada 31. augustam" (dative). Babel cannot produce these forms, hence this table.
_MONTH_CASES: dict[str, tuple[str, ...]] = {
    "genitive": (
        "janvāra", "februāra", "marta", "aprīļa", "maija", "jūnija",
        "jūlija", "augusta", "septembra", "oktobra", "novembra", "decembra",
    ),
    "locative": (
        "janvārī", "februārī", "martā", "aprīlī", "maijā", "jūnijā",
        "jūlijā", "augustā", "septembrī", "oktobrī", "novembrī", "decembrī",
    ),
    "accusative": (
        "janvāri", "februāri", "martu", "aprīli", "maiju", "jūniju",
        "jūliju", "augustu", "septembri", "oktobri", "novembri", "decembri",
    ),
    "dative": (
        "janvārim", "februārim", "martam", "aprīlim", "maijam", "jūnijam",
        "jūlijam", "augustam", "septembrim", "oktobrim", "novembrim", "decembrim",
    ),
}  # fmt: skip
CASES = ("nominative", *_MONTH_CASES)

_CURRENCY_PATTERN = _LOCALE.currency_formats["standard"].pattern  # "#,##0.00\xa0¤"
_MONEY_PATTERNS = {"symbol": _CURRENCY_PATTERN, "code": _CURRENCY_PATTERN.replace("¤", "¤¤")}

# Singular scale words as num2words spells them: "tūkstotis", "miljons", "miljards", ...
_SINGULAR_SCALES = frozenset(forms[0] for forms in THOUSANDS.values())


def _check_case(case: str) -> None:
    if case not in CASES:
        raise ValueError(f"unknown case {case!r}, expected one of {CASES}")


def _month_name(month: int, case: str) -> str:
    if case == "nominative":
        return get_month_names("wide", "stand-alone", locale=_LOCALE)[month]
    return _MONTH_CASES[case][month - 1]


def _to_decimal(value: Decimal | int | str) -> Decimal:
    """Convert an exact value to a finite Decimal; floats are refused."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"expected Decimal, int or str, got {type(value).__name__}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def _to_cents(amount: Decimal | int | str) -> Decimal:
    try:
        return _to_decimal(amount).quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the decimal context precision (28)
        raise ValueError(f"amount too large: {amount!r}") from None


def _trim(value: Decimal) -> Decimal:
    """Drop trailing fractional zeros: 2.00 -> 2, 1.50 -> 1.5, 100 stays 100 (not 1E+2)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def date_numeric(d: date | None) -> str:
    """Format a date as dd.mm.yyyy. with the trailing dot used in Latvian.

    >>> date_numeric(date(2020, 8, 1))
    '01.08.2020.'
    >>> date_numeric(None)
    ''
    """
    if d is None:
        return ""
    return format_date(d, "dd.MM.y.", locale=_LOCALE)


def month_numeric(d: date | None) -> str:
    """Format the month of a date as mm.yyyy., the numeric month of Latvian forms.

    >>> month_numeric(date(2020, 9, 30))
    '09.2020.'
    >>> month_numeric(None)
    ''
    """
    if d is None:
        return ""
    return format_date(d, "MM.y.", locale=_LOCALE)


def time_hm(t: time | None) -> str:
    """Format a time of day as HH:MM, the way Latvian documents write it.

    >>> time_hm(time(9, 5))
    '09:05'
    >>> time_hm(None)
    ''
    """
    return "" if t is None else f"{t.hour:02d}:{t.minute:02d}"


def date_long(d: date | None, case: str = "nominative") -> str:
    """Format a date in words, with the month in the given grammatical case.

    ``case`` is one of "nominative", "genitive", "locative", "accusative" or "dative".

    >>> date_long(date(2020, 8, 1))
    '2020. gada 1. augusts'
    >>> date_long(date(2020, 8, 1), "genitive")
    '2020. gada 1. augusta'
    >>> date_long(date(2020, 8, 1), "locative")
    '2020. gada 1. augustā'
    >>> date_long(date(2021, 3, 15), "accusative")
    '2021. gada 15. martu'
    >>> date_long(date(2021, 1, 31), "dative")
    '2021. gada 31. janvārim'
    >>> [date_long(date(2021, m, 1), "dative")[14:] for m in range(1, 13)]  # doctest: +NORMALIZE_WHITESPACE
    ['janvārim', 'februārim', 'martam', 'aprīlim', 'maijam', 'jūnijam',
     'jūlijam', 'augustam', 'septembrim', 'oktobrim', 'novembrim', 'decembrim']
    >>> date_long(None, "genitive")
    ''
    >>> date_long(date(2020, 8, 1), "instrumental")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown case 'instrumental', expected one of ('nominative', ...)
    """
    _check_case(case)
    if d is None:
        return ""
    if case == "nominative":
        return format_date(d, "long", locale=_LOCALE)
    return f"{d.year}. gada {d.day}. {_month_name(d.month, case)}"


def month_year(d: date | None, case: str = "nominative") -> str:
    """Format the month and year of a date, with the month in the given case.

    ``case`` is one of "nominative", "genitive", "locative", "accusative" or "dative".

    >>> month_year(date(2020, 8, 1))
    '2020. gada augusts'
    >>> month_year(date(2020, 8, 31), "genitive")
    '2020. gada augusta'
    >>> month_year(date(2020, 8, 1), "locative")
    '2020. gada augustā'
    >>> month_year(date(2020, 1, 1), "accusative")
    '2020. gada janvāri'
    >>> [month_year(date(2020, m, 1), "accusative")[11:]
    ...  for m in range(1, 13)]  # doctest: +NORMALIZE_WHITESPACE
    ['janvāri', 'februāri', 'martu', 'aprīli', 'maiju', 'jūniju',
     'jūliju', 'augustu', 'septembri', 'oktobri', 'novembri', 'decembri']
    >>> month_year(None)
    ''
    """
    _check_case(case)
    if d is None:
        return ""
    return f"{d.year}. gada {_month_name(d.month, case)}"


def period_long(period: Any) -> str:
    """Write a period (anything with ``.start`` and ``.end`` dates) as the object of "par".

    A calendar month is "2020. gada septembri" and a calendar quarter "2020. gada 3. ceturksni"
    (both accusative, as "par" wants); any other span is "periodu no … līdz …", the start in
    the genitive and the end in the dative, so "par {{ period|period_long }}" always reads.

    >>> from schemas.fields import Period
    >>> period_long(Period(date(2020, 9, 1), date(2020, 9, 30)))
    '2020. gada septembri'
    >>> period_long(Period(date(2024, 2, 1), date(2024, 2, 29)))
    '2024. gada februāri'
    >>> last_days = {1: 31, 4: 30, 7: 30, 10: 31}  # of March, June, September, December
    >>> [period_long(Period(date(2020, m, 1), date(2020, m + 2, last_days[m])))[11:] for m in last_days]
    ['1. ceturksni', '2. ceturksni', '3. ceturksni', '4. ceturksni']
    >>> period_long(Period(date(2020, 1, 1), date(2020, 3, 29)))  # short of the quarter's end (leap year)
    'periodu no 2020. gada 1. janvāra līdz 2020. gada 29. martam'
    >>> period_long(Period(date(2020, 2, 1), date(2021, 1, 31)))
    'periodu no 2020. gada 1. februāra līdz 2021. gada 31. janvārim'
    >>> period_long(Period(date(2020, 2, 1), date(2020, 4, 30)))  # three months, not a quarter
    'periodu no 2020. gada 1. februāra līdz 2020. gada 30. aprīlim'
    >>> period_long(None)
    ''
    """
    if period is None:
        return ""
    start, end = period.start, period.end
    whole_months = start.day == 1 and end.day == monthrange(end.year, end.month)[1] and start.year == end.year
    if whole_months and start.month == end.month:
        return month_year(start, "accusative")
    if whole_months and start.month % 3 == 1 and end.month == start.month + 2:
        return f"{start.year}. gada {(start.month + 2) // 3}. ceturksni"
    return f"periodu no {date_long(start, 'genitive')} līdz {date_long(end, 'dative')}"


def money(amount: Decimal | int | str, style: str = "symbol") -> str:
    r"""Format an amount in euro, rounded half up to whole cents.

    ``style`` is "symbol" (€) or "code" (EUR). Floats are refused: money is never float.
    Negative amounts get the CLDR lv minus sign, which is the ASCII hyphen-minus "-".

    >>> money(Decimal("1234.5"))
    '1\xa0234,50\xa0€'
    >>> money("1234.50", style="code")
    '1\xa0234,50\xa0EUR'
    >>> money(7)
    '7,00\xa0€'
    >>> money(Decimal("1.005"))  # babel alone would round half to even: 1,00
    '1,01\xa0€'
    >>> money(Decimal("-0.5"))
    '-0,50\xa0€'
    >>> money(12.5)
    Traceback (most recent call last):
    ...
    TypeError: expected Decimal, int or str, got float
    """
    if style not in _MONEY_PATTERNS:
        raise ValueError(f"unknown style {style!r}, expected 'symbol' or 'code'")
    return _formatted_cents(str(_to_cents(amount)), style)


@lru_cache(maxsize=4096)
def _formatted_cents(cents: str, style: str) -> str:
    """Babel's formatting of an amount in cents (by its text, so "-0.00" is not "0.00"): a pack prints the
    same few amounts thousands of times, and Babel took a third of a document's rendering."""
    return format_currency(Decimal(cents), "EUR", format=_MONEY_PATTERNS[style], locale=_LOCALE)


def number(value: Decimal | int | str | float, places: int | None = None) -> str:
    r"""Format a number with lv digit grouping and decimal comma.

    With ``places`` the number is rounded half up to that many decimals and always
    shows them; without, it shows every significant decimal and no trailing zeros.
    Floats are accepted (quantities, not money) and read as their shortest repr.

    >>> number(Decimal("1234.5"))
    '1\xa0234,5'
    >>> number(Decimal("1234.5"), places=2)
    '1\xa0234,50'
    >>> number(Decimal("0.125"), places=2)
    '0,13'
    >>> number(Decimal("2.00")), number(Decimal("0.25")), number(Decimal("1.50"))
    ('2', '0,25', '1,5')
    >>> number(1.5), number(100), number("-3.0")
    ('1,5', '100', '-3')
    """
    result = _to_decimal(repr(value) if isinstance(value, float) else value)
    if places is None:
        return format_decimal(_trim(result), locale=_LOCALE, decimal_quantization=False)
    result = result.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(result, format=pattern, locale=_LOCALE)


def plural_form(count: Decimal | int | str | float, forms: Mapping[str, str]) -> str:
    """Pick the word form for ``count`` by its CLDR lv plural category.

    ``forms`` maps the categories "zero", "one" and "other" to words; a missing
    category falls back to "other". The category is taken for the number as
    :func:`number` shows it, so Decimal("0.10") counts as 0.1 ("one"), not as 0.10
    ("other" for CLDR, which looks at the two visible decimals).

    >>> hours = {"zero": "stundu", "one": "stunda", "other": "stundas"}
    >>> [plural_form(n, hours) for n in (0, 1, 2, 10, 11, 21, 22)]
    ['stundu', 'stunda', 'stundas', 'stundu', 'stundu', 'stunda', 'stundas']
    >>> [plural_form(Decimal(n), hours) for n in ("1.00", "10.00", "0.25", "1.5", "0.10")]
    ['stunda', 'stundu', 'stundas', 'stundas', 'stunda']
    >>> plural_form(5, {"one": "diena", "other": "dienas"})
    'dienas'
    """
    value = _trim(_to_decimal(repr(count) if isinstance(count, float) else count))
    category = _LOCALE.plural_form(value)
    return forms.get(category, forms["other"])


def plural(count: Decimal | int | str | float, forms: Mapping[str, str]) -> str:
    r"""Format ``count`` with :func:`number` followed by the matching word form.

    See :func:`plural_form` for ``forms``. The number and the word are joined by a
    no-break space.

    >>> hours = {"zero": "stundu", "one": "stunda", "other": "stundas"}
    >>> plural(1, hours), plural(10, hours), plural(21, hours)
    ('1\xa0stunda', '10\xa0stundu', '21\xa0stunda')
    >>> plural(Decimal("1.50"), hours)
    '1,5\xa0stundas'
    """
    return f"{number(count)}{_NBSP}{plural_form(count, forms)}"


def iban(account: str | None) -> str:
    """Write an IBAN in groups of four, as banks print it.

    >>> iban("LV80BANK0000435195001")
    'LV80 BANK 0000 4351 9500 1'
    >>> iban(None)
    ''
    """
    if not account:
        return ""
    return " ".join(account[i : i + 4] for i in range(0, len(account), 4))


def amount_in_words(amount: Decimal | int | str) -> str:
    """Write a euro amount in words, in the form used in Latvian legal documents.

    Euros are in words, cents in two digits, all lowercase (templates may apply
    Jinja's ``capitalize``). Negative amounts and floats are refused.

    >>> amount_in_words(Decimal("67.38"))
    'sešdesmit septiņi euro un 38 centi'
    >>> amount_in_words(1)
    'viens euro un 00 centu'
    >>> amount_in_words("1001000")
    'viens miljons viens tūkstotis euro un 00 centu'
    >>> amount_in_words("101000.01")
    'simts viens tūkstotis euro un 01 cents'
    >>> amount_in_words("-1")
    Traceback (most recent call last):
    ...
    ValueError: negative amount: '-1'
    """
    value = _to_cents(amount)
    if value < 0:
        raise ValueError(f"negative amount: {amount!r}")
    # Always a Decimal: num2words reads an int as cents (1 -> "nulle euro un 01 cents").
    text = num2words(value, lang="lv", to="currency", currency="EUR_LEGAL", cents=False, separator=" un")
    # num2words 0.5.14 alone is not grammatical Latvian here:
    # - for a group equal to exactly 1 it writes the bare scale word ("tūkstotis euro" for
    #   1000, "miljons tūkstotis euro" for 1 001 000); legal texts write "viens tūkstotis".
    #   A singular scale word is otherwise always right after "viens" ("divdesmit viens
    #   tūkstotis"), so "viens" is added exactly where it is missing;
    # - for 101..109 in any group it writes the genitive "simtu" ("simtu viens tūkstotis"
    #   for 101 000) where the numeral is "simts".
    words: list[str] = []
    for word in text.split(" "):
        if word in _SINGULAR_SCALES and (not words or words[-1] != "viens"):
            words.append("viens")
        words.append("simts" if word == "simtu" else word)
    return " ".join(words)


FILTERS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        date_numeric,
        month_numeric,
        time_hm,
        date_long,
        month_year,
        period_long,
        money,
        number,
        plural,
        plural_form,
        iban,
        amount_in_words,
    )
}
