"""The one way lists are read: what the user may see, filtered by equality and time, newest first, paged."""

from __future__ import annotations

from typing import Any

from service.auth import scope
from service.store import database
from service.store.models import Scoped


def listed(
    model: type[Scoped], args: dict[str, Any], *, time_column: str, equal: tuple[str, ...] = ()
) -> list:
    """Objects of ``model`` in the user's scope matching ``args`` (``equal`` keys, ``since``/``until``)."""
    moment = getattr(model, time_column)
    statement = scope().select(model)
    for key in equal:
        if key in args:
            statement = statement.where(getattr(model, key) == args[key])
    if "since" in args:
        statement = statement.where(moment >= args["since"])
    if "until" in args:
        statement = statement.where(moment < args["until"])
    statement = statement.order_by(moment.desc(), model.__mapper__.primary_key[0].desc())
    with database().session() as session:
        return list(session.scalars(statement.limit(args["limit"]).offset(args["offset"])))
