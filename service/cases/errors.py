"""What a change to a case can clash with; ``service.api`` answers each with its HTTP status."""

from __future__ import annotations

from schemas.errors import Problem


class CaseConflict(ValueError):
    """The change clashes with what is stored (a personal code taken, a draft already approved …): 409,
    with the problem at ``path`` of the request's data."""

    def __init__(self, path: tuple, reason: Problem) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason
