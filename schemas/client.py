"""A client record: the person a municipality supports, as the social worker keeps them between documents.

The same fields a plan names about its client (``schemas.parties.ClientSchema``), with every
representative and the basis documents they act on; a new-format personal code needs the birth date.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from schemas.errors import ErrorCollector
from schemas.fields import List, Nested
from schemas.parties import ClientSchema, RepresentativeSchema, birth_date


class ClientRecordSchema(ClientSchema):
    """A client as stored: who they are, where they live, their target group, who represents them."""

    representatives = List(Nested(RepresentativeSchema), max_length=5)

    @validates_schema(skip_on_field_errors=False)
    def _birth_dates(self, data: dict[str, Any], **_: Any) -> None:
        errors = ErrorCollector()
        birth_date(data, (), errors)
        for index, representative in enumerate(data.get("representatives") or ()):
            birth_date(representative, ("representatives", index), errors)
        errors.raise_if_any()
