"""The base of every document schema: unknown fields rejected, schema errors coded, all rules run."""

from __future__ import annotations

from marshmallow import RAISE, Schema

from schemas.errors import problem


class Strict(Schema):
    """A schema that rejects unknown fields and reports problems with codes.

    Cross-field rules (``@validates_schema``) are declared with ``skip_on_field_errors=False`` where
    they can still say something useful about partly broken data, so a user sees every problem at once.
    """

    error_messages = {"unknown": problem("unknown_field"), "type": problem("type.object")}

    class Meta:
        unknown = RAISE
        ordered = True
