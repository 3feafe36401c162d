"""Parsing JSON case data strictly: no duplicate keys, no NaN or Infinity, bounded nesting.

Numbers with a fraction become ``Decimal`` so money never passes through a float. The API and the
CLI both read case data through :func:`parse_json`.

JSON sets no bound on exponents, but ``Decimal`` does (``1e99999999999999999999`` raises
``decimal.InvalidOperation``, not a ``ValueError``, out of ``json.loads``): such a number is marked while
parsing and reported with its JSON pointer by the shape check that follows. Numbers that ``Decimal`` holds,
however large (``1e999999``), are left to the schemas' number fields, which refuse them by code.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from schemas.errors import Problem, problem


class InvalidJson(ValueError):
    """The text is not acceptable JSON; ``problem`` says why and ``path`` where (empty: the whole text)."""

    def __init__(self, reason: Problem, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(str(reason))
        self.problem = reason
        self.path = path


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _Constant(ValueError):
    def __init__(self, constant: str) -> None:
        super().__init__(constant)
        self.constant = constant


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _constant(name: str) -> None:
    raise _Constant(name)


class _OutOfRange:
    """Stands for a number whose exponent ``Decimal`` cannot hold, until the shape check reports it."""


_OUT_OF_RANGE = _OutOfRange()


def _number(text: str) -> Decimal | _OutOfRange:
    """``parse_float``: never raises, so the number's place can be reported."""
    try:
        return Decimal(text)
    except InvalidOperation:
        return _OUT_OF_RANGE


def parse_json(text: str, max_depth: int, max_items: int = 20_000) -> Any:
    """Parse ``text`` or raise :class:`InvalidJson` saying what is wrong and where.

    >>> parse_json('{"a": 1.50}', 5)
    {'a': Decimal('1.50')}
    >>> parse_json("[" + "0," * 30 + "0]", 5, max_items=10)
    Traceback (most recent call last):
        ...
    service.jsondata.InvalidJson: A list in the data has more than 10 items.
    >>> try:
    ...     parse_json('{"lines": [{"units": 1}, {"units": 1e99999999999999999999}]}', 5)
    ... except InvalidJson as exc:
    ...     print(exc.problem.code, exc.path)
    body.number_out_of_range ('lines', 1, 'units')
    """
    try:
        data = json.loads(text, parse_float=_number, parse_constant=_constant, object_pairs_hook=_object)
    except _DuplicateKey as exc:
        raise InvalidJson(problem("body.duplicate_key", key=exc.key[:80])) from None
    except _Constant as exc:
        raise InvalidJson(problem("body.constant", constant=exc.constant)) from None
    except json.JSONDecodeError as exc:
        raise InvalidJson(problem("body.json", reason=exc.msg, line=exc.lineno, column=exc.colno)) from None
    except RecursionError:
        raise InvalidJson(problem("body.too_deep", max=max_depth)) from None
    except ValueError:  # an integer beyond Python's digit limit (int_max_str_digits)
        raise InvalidJson(problem("body.number_too_long")) from None
    _check_shape(data, max_depth, max_items)
    return data


def _check_shape(data: Any, max_depth: int, max_items: int) -> None:
    """Nesting depth and list lengths within bounds, and every number readable, checked without recursion."""
    stack: list[tuple[Any, int, tuple | None]] = [(data, 1, None)]  # node, level, (parent's place, key)
    while stack:
        node, level, place = stack.pop()
        if node is _OUT_OF_RANGE:
            raise InvalidJson(problem("body.number_out_of_range"), _path(place))
        if isinstance(node, dict | list):
            if level > max_depth:
                raise InvalidJson(problem("body.too_deep", max=max_depth))
            if isinstance(node, list) and len(node) > max_items:
                raise InvalidJson(problem("body.too_many_items", max=max_items))
            children = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend(
                (child, level + 1, (place, key))
                for key, child in children
                if isinstance(child, dict | list | _OutOfRange)
            )


def _path(place: tuple | None) -> tuple[str | int, ...]:
    """The keys from the root to a place kept as (parent's place, key) links."""
    keys: list[str | int] = []
    while place is not None:
        place, key = place
        keys.append(key)
    return tuple(reversed(keys))
