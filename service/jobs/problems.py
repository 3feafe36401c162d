"""A failed job's list of problems, kept as JSON with the job: each problem's path, code, parameters and
place in the uploaded tables, read back as the problems they were (dates and amounts with their types), so
that the API answers them in the same shape, and the same language, as a 422.

>>> import datetime as dt
>>> from schemas.errors import problem
>>> kept = stored([(("lines", 3, "date"), problem("delivery.future", date=dt.date(2030, 1, 2)))],
...               [{"sheet": "Rindas", "row": 5}])
>>> problems, places = read_back(kept)
>>> problems[0][0], problems[0][1].params, places
(('lines', 3, 'date'), {'date': datetime.date(2030, 1, 2)}, [{'sheet': 'Rindas', 'row': 5}])
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from schemas.errors import Problem, problem


def stored(
    problems: list[tuple[tuple, str]], places: list[dict[str, Any] | None] | None = None
) -> list[dict[str, Any]]:
    """The problems (``flatten``'s pairs) and their places as plain JSON values."""
    return [
        {
            "path": list(path),
            "code": getattr(message, "code", "invalid"),
            "params": {key: _value(value) for key, value in getattr(message, "params", {}).items()},
            "place": places[index] if places else None,
        }
        for index, (path, message) in enumerate(problems)
    ]


def read_back(kept: list[dict[str, Any]]) -> tuple[list[tuple[tuple, Problem]], list[dict[str, Any] | None]]:
    """The problems and their places again, from :func:`stored`'s values."""
    problems = [
        (tuple(item["path"]), problem(item["code"], **{k: _typed(v) for k, v in item["params"].items()}))
        for item in kept
    ]
    return problems, [item.get("place") for item in kept]


def _value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and "decimal" in value:
        return Decimal(value["decimal"])
    if isinstance(value, dict) and "date" in value:
        return dt.date.fromisoformat(value["date"])
    return value
