"""Message translation: Latvian by default, English on request, from compiled babel catalogs.

The English texts in ``schemas.errors.MESSAGES`` and the problem titles are gettext message ids;
``service/translations/<lang>/LC_MESSAGES/messages.po`` holds their translations and the build
compiles them (``make lang``). Parameters are formatted for the language: dates as "01.08.2020." in
Latvian and ISO in English, amounts with the language's separators.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from schemas.errors import Problem

LANGUAGES = ("lv", "en")
DEFAULT_LANGUAGE = "lv"
CATALOGS = Path(__file__).parent / "translations"


class MissingCatalog(RuntimeError):
    """A message catalog was not compiled: run `make lang`."""


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog for ``lang``; English falls back to the message ids."""
    compiled = CATALOGS / lang / "LC_MESSAGES" / "messages.mo"
    if not compiled.exists():
        if lang == "en":
            return NullTranslations()
        raise MissingCatalog(f"{compiled} is missing: run `make lang` to compile the catalogs")
    with compiled.open("rb") as handle:
        return Translations(handle)


def check_catalogs() -> None:
    """Load every catalog now, so a missing one stops start-up rather than a request."""
    for lang in LANGUAGES:
        translations(lang)


def gettext(message: str, lang: str) -> str:
    """``message`` (an English message id) in ``lang``."""
    return translations(lang).gettext(message)


def format_param(value: Any, lang: str) -> str:
    """A message parameter written the way ``lang`` writes it.

    >>> format_param(Decimal("1234.50"), "lv"), format_param(Decimal("1234.50"), "en")
    ('1\\xa0234,50', '1,234.50')
    >>> format_param(dt.date(2020, 8, 1), "lv"), format_param(dt.date(2020, 8, 1), "en")
    ('01.08.2020.', '2020-08-01')
    """
    if isinstance(value, Decimal):
        if value.as_tuple().exponent == -2:  # money keeps its cents
            return format_decimal(value, "#,##0.00", locale=lang)
        return format_decimal(value, locale=lang, decimal_quantization=False)
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y.") if lang == "lv" else value.isoformat()
    return str(value)


def translate(message: str, lang: str) -> tuple[str, str]:
    """``(code, text)`` of a validation message in ``lang``; uncoded messages become "invalid"."""
    if isinstance(message, Problem):
        params = {key: format_param(value, lang) for key, value in message.params.items()}
        return message.code, gettext(message.template, lang).format(**params)
    return "invalid", gettext(Problem("invalid").template, lang)
