"""Schemas of the API's own payloads (errors, health, validation reports), for OpenAPI."""

from __future__ import annotations

from marshmallow import Schema, fields


class ProblemItemSchema(Schema):
    path = fields.String(metadata={"description": "JSON pointer to the field, e.g. /services/2/unit"})
    code = fields.String(metadata={"description": "Stable error code, e.g. personal_code.checksum"})
    message = fields.String(metadata={"description": "Message in the response language"})


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Nested(ProblemItemSchema))


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok"})
    version = fields.String()
    documents = fields.List(fields.String(), metadata={"description": "Document kinds served"})
