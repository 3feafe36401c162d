"""Repeated problems listed once: the one rule every list of problems (API, command line, pages) follows.

Two problems are *the same* when they have the same code, the same message parameters (compared as the
message that shows them) and the same path once every list index is left out: a wrong period on every
line (``/lines/0/date``, ``/lines/1/date`` …, ``reimbursement.outside_period`` with the same start and
end) is one problem, as is the same unknown agreement number on 3 000 lines; the same code with another
agreement number, or at another field, is another. Problems at no index (the same path twice, or a file's
problems at the root) group by the same rule. A group keeps the first problem's path, place and message,
in the order the first occurrence had, and lists every occurrence's path and place (the first included),
so nothing is lost; a problem that occurs once is a group of one and is shown exactly as before.

>>> from schemas.errors import problem
>>> wrong = problem("reimbursement.outside_period", start="2020-09-01", end="2020-09-30")
>>> found = [(("lines", 0, "date"), wrong), (("lines", 0, "units"), problem("required")),
...          (("lines", 1, "date"), wrong), (("lines", 2, "date"), wrong)]
>>> [(g.path, g.problem.code, g.count, g.paths) for g in group_problems(found)]
[(('lines', 0, 'date'), 'reimbursement.outside_period', 3,
  (('lines', 0, 'date'), ('lines', 1, 'date'), ('lines', 2, 'date'))),
 (('lines', 0, 'units'), 'required', 1, (('lines', 0, 'units'),))]
>>> group_problems(found, [{"row": 2}, {"row": 2}, {"row": 3}, {"row": 4}])[0].rows
(2, 3, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schemas.errors import Path, Problem, problem

__all__ = ["ProblemGroup", "group_problems", "problem_key"]

#: How many of the other rows the text after a repeated problem's message names.
ROWS_NAMED = 10


@dataclass(frozen=True)
class ProblemGroup:
    """One problem and every place it occurs: ``path``, ``problem`` and ``place`` are the first's;
    ``paths`` and ``places`` (None where a problem has no place in a file) list all, the first included."""

    problem: str
    paths: tuple[Path, ...]
    places: tuple[dict[str, Any] | None, ...]

    @property
    def path(self) -> Path:
        return self.paths[0]

    @property
    def place(self) -> dict[str, Any] | None:
        return self.places[0]

    @property
    def count(self) -> int:
        return len(self.paths)

    @property
    def rows(self) -> tuple[int, ...] | None:
        """The table row of each occurrence when every one has a row (a file's problems), else None."""
        rows = tuple(place.get("row") if place else None for place in self.places)
        return None if None in rows else rows

    def also(self, named: int = ROWS_NAMED) -> Problem:
        """What follows the message of a repeated problem where it is shown once (a command's table, a
        page): the other rows, the first ``named`` of them, and how many in all.

        >>> from schemas.errors import problem
        >>> group = ProblemGroup(problem("required"), (("a", 0), ("a", 1), ("a", 2)), ({"row": 2},) * 3)
        >>> group.also().params, group.also(1).params
        ({'rows': '2, 2', 'count': 3}, {'rows': '2 …', 'count': 3})
        >>> ProblemGroup(problem("required"), (("a", 0), ("a", 1)), (None, None)).also().code
        'problems.repeated'
        """
        if self.rows is None:
            return problem("problems.repeated", count=self.count)
        others = [str(row) for row in self.rows[1:]]
        text = ", ".join(others[:named]) + (" …" if len(others) > named else "")
        return problem("problems.repeated_rows", rows=text, count=self.count)


def problem_key(path: Path, message: str) -> tuple:
    """What makes two problems the same: code, parameters (as the message, which shows them, has them),
    and the path without its list indexes.

    >>> from schemas.errors import problem
    >>> problem_key(("lines", 7, "agreement"), problem("reimbursement.unknown_agreement", number="L-9"))
    ('reimbursement.unknown_agreement', 'No accepted agreement has the number L-9.',
     ('lines', None, 'agreement'))
    """
    shape = tuple(None if isinstance(part, int) else part for part in path)
    return getattr(message, "code", None), str(message), shape


def group_problems(
    problems: Sequence[tuple[Path, str]], places: Sequence[dict[str, Any] | None] | None = None
) -> list[ProblemGroup]:
    """The problems (``(path, problem)`` pairs, with a place each or none) grouped, in first-seen order."""
    groups: dict[tuple, tuple[str, list[Path], list[dict[str, Any] | None]]] = {}
    for index, (path, message) in enumerate(problems):
        key = problem_key(tuple(path), message)
        if key not in groups:
            groups[key] = (message, [], [])
        groups[key][1].append(tuple(path))
        groups[key][2].append(places[index] if places else None)
    return [ProblemGroup(message, tuple(paths), tuple(found)) for message, paths, found in groups.values()]
