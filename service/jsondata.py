"""Parsing JSON case data strictly: no duplicate keys, no NaN or Infinity, bounded nesting.

Numbers with a fraction become ``Decimal`` so money never passes through a float. The API and the
CLI both read case data through :func:`parse_json`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from schemas.errors import Problem, problem


class InvalidJson(ValueError):
    """The text is not acceptable JSON; ``problem`` says why."""

    def __init__(self, reason: Problem) -> None:
        super().__init__(str(reason))
        self.problem = reason


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


def parse_json(text: str, max_depth: int, max_items: int = 20_000) -> Any:
    """Parse ``text`` or raise :class:`InvalidJson` saying what is wrong and where.

    >>> parse_json('{"a": 1.50}', 5)
    {'a': Decimal('1.50')}
    >>> parse_json("[" + "0," * 30 + "0]", 5, max_items=10)
    Traceback (most recent call last):
        ...
    service.jsondata.InvalidJson: A list in the data has more than 10 items.
    """
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_constant, object_pairs_hook=_object)
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
    """Nesting depth and list lengths within bounds, checked without recursion."""
    stack = [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            if level > max_depth:
                raise InvalidJson(problem("body.too_deep", max=max_depth))
            if isinstance(node, list) and len(node) > max_items:
                raise InvalidJson(problem("body.too_many_items", max=max_items))
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
