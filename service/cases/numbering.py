"""Numbers from a municipality's series without gaps or duplicates, also under concurrent requests.

The series' counter (``number_series``: one row per municipality and year's prefix) is moved by a
write first — ``UPDATE … SET last = last + 1 … RETURNING last`` — so concurrent transactions queue on
the row (PostgreSQL) or on the database's write lock (SQLite) instead of reading the same value. The
number is taken in the transaction that stores what it numbers: if that fails, the number goes back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.municipalities import SEQUENCE
from service.store.case_models import NumberSeries


def series_key(pattern: str, day: dt.date) -> str:
    """The counter's name: the pattern with its year filled in and its sequence left out, so that a wider
    ``{seq:04}`` goes on counting where ``{seq:03}`` stopped.

    >>> series_key("L-{year}/{seq:03}", dt.date(2020, 2, 27))
    'L-2020/'
    """
    return SEQUENCE.sub("", pattern.replace("{year}", f"{day.year:04d}"))


def formatted(pattern: str, day: dt.date, sequence: int) -> str:
    """>>> formatted("L-{year}/{seq:03}", dt.date(2020, 2, 27), 7)
    'L-2020/007'
    >>> formatted("LVP-L-{year}/{seq:04}", dt.date(2021, 1, 4), 12)
    'LVP-L-2021/0012'
    """
    return pattern.format(year=f"{day.year:04d}", seq=sequence)


def next_number(session: Session, municipality: str, pattern: str, day: dt.date) -> str:
    """The next number of ``pattern`` for ``day``'s year in ``municipality``."""
    key = series_key(pattern, day)
    moved = (
        update(NumberSeries)
        .where(NumberSeries.municipality == municipality, NumberSeries.series == key)
        .values(last=NumberSeries.last + 1)
        .returning(NumberSeries.last)
    )
    for _ in range(3):
        taken = session.execute(moved).scalar()
        if taken is not None:
            return formatted(pattern, day, taken)
        try:
            with session.begin_nested():
                session.add(NumberSeries(municipality=municipality, series=key, last=1))
            return formatted(pattern, day, 1)
        except IntegrityError:  # another request started the series at the same moment
            continue
    raise RuntimeError(f"the number series {key} could not be moved")
