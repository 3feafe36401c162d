"""What the append-only version tables of a municipality share: who keeps a version, the next number, the
one in force on a day, and the race of two versions saved at once for one number.

A version table (:class:`~service.store.models.TemplateVersion`, ``SettingsVersion``) has ``number``
(1, 2, … within its group: a municipality, and for templates a kind) and ``effective_from``; a unique
constraint makes the second of two versions saved for one number fail, which is :class:`VersionTaken`.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

V = TypeVar("V")


class VersionTaken(Exception):
    """Another version of the same group took the next number meanwhile; nothing of this one was kept."""


class Author(Protocol):
    """Who keeps a version: a user of one municipality."""

    id: int
    municipality: str


def next_number(session: Session, model: type, *where) -> int:
    """The number after the highest of ``model``'s versions matching ``where`` (1 for the first)."""
    return (session.scalar(select(func.max(model.number)).where(*where)) or 0) + 1


def in_force(statement: Select, model: type, day: dt.date) -> Select:
    """``statement`` (the versions of one group) narrowed to the one in force on ``day``: the latest
    ``effective_from`` not after it, the highest number among equals."""
    return (
        statement.where(model.effective_from <= day)
        .order_by(model.effective_from.desc(), model.number.desc())
        .limit(1)
    )


def keep(session: Session, made: V) -> V:
    """Add ``made`` and write it now, so that a number taken meanwhile is :class:`VersionTaken` here."""
    session.add(made)
    try:
        session.flush()
    except IntegrityError:
        raise VersionTaken() from None
    return made
