"""The blueprint every API resource is declared on: flask-smorest's, with JSON bodies read strictly.

``@blp.arguments(Schema)`` documents a body from its schema and loads it; here the body is read by
:func:`service.api.body.json_body` (media type, size, UTF-8, no duplicate keys, no NaN, bounded depth,
``Decimal`` numbers) instead of webargs' lenient ``json.loads``, and a failed load raises marshmallow's
``ValidationError`` itself, which ``service.api.problems`` answers as 422 with every problem's path (or,
where the declaration asks for another ``error_status_code``, a problem with that status).
"""

from __future__ import annotations

from typing import Any, NoReturn

import flask_smorest
from marshmallow import ValidationError
from webargs.flaskparser import FlaskParser

from schemas.errors import flatten
from service.api.body import json_body
from service.api.problems import RequestProblem


class StrictParser(FlaskParser):
    """webargs' Flask parser with the service's JSON reading and error path."""

    def _raw_load_json(self, req: Any) -> Any:
        return json_body()

    def handle_error(
        self, error: ValidationError, req: Any, schema: Any, *, error_status_code: int | None, **_: Any
    ) -> NoReturn:
        # webargs files the messages under their location ({"query": {...}}); a path starts at the body or
        # the query itself.
        (messages,) = error.messages.values()
        if error_status_code in (None, 422):
            raise ValidationError(messages) from None
        raise RequestProblem.located(error_status_code, flatten(messages))


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose arguments are parsed by :class:`StrictParser`."""

    ARGUMENTS_PARSER = StrictParser()
