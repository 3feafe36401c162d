"""A municipality's own settings, kept as versions over ``municipalities.toml``: what an administrator may
change from an effective date, and what every template sees of the municipality.

A settings version names only what differs from the file: name forms, the town, the address and
registration block, bank details, the signatories (the head and the accountant), the agreement-number
series, named clause texts and a logo. Clauses are plain paragraphs that the standard templates print
where they belong; template code in them is refused, so a clause prints exactly what was typed:

>>> SettingsSchema().load({"effective_from": "2021-01-01", "clauses": {"payment_terms": "Līdz 10. datumam."}})
{'effective_from': datetime.date(2021, 1, 1), 'clauses': {'payment_terms': 'Līdz 10. datumam.'}}
>>> SettingsSchema().validate({"effective_from": "2021-01-01", "clauses": {"payment_terms": "{{ x }}"}})
{'clauses': {'payment_terms': ['Clause texts are plain text: “{{”, “{%” and “{#” may not stand in them.']}}

The logo is a PNG or JPEG, sent as base64, at most :data:`LOGO_MAX_BYTES` and :data:`LOGO_MAX_PIXELS` a
side; its picture is read (not just its name) before it is kept.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema
from PIL import Image, UnidentifiedImageError

from schemas.base import Strict
from schemas.errors import problem
from schemas.fields import Coded, Date, Iban, Nested, RegistrationNumber, Text
from schemas.municipalities import SERIES
from schemas.parties import Name, OfficialSchema

#: The clauses a municipality may word itself; their headings are in ``templates_lv/labels.toml`` ([clause]).
CLAUSES = ("payment_terms", "confidentiality", "complaints", "additional")
#: What a settings version may override; everything else comes from ``municipalities.toml``.
OVERRIDABLE = (
    "name",
    "name_genitive",
    "place",
    "place_locative",
    "registration_number",
    "address",
    "bank",
    "iban",
    "head",
    "accountant",
    "agreement_series",
)
LOGO_MAX_BYTES = 256 * 1024
LOGO_MAX_PIXELS = 2000
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
_TEMPLATE_CODE = re.compile(r"\{[{%#]")


@dataclass(frozen=True)
class Logo:
    """A checked logo: its bytes, media type and size in pixels."""

    data: bytes
    media_type: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return "png" if self.media_type == "image/png" else "jpeg"


def read_logo(data: bytes) -> Logo:
    """The logo in ``data`` once its picture is read and within the limits; ``ValidationError`` otherwise.

    >>> read_logo(b"GIF89a...")
    Traceback (most recent call last):
        ...
    marshmallow.exceptions.ValidationError: The logo must be a PNG or JPEG picture.
    """
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(problem("settings.logo_too_large", size=len(data), max=LOGO_MAX_BYTES))
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind, (width, height) = picture.format, picture.size
            if kind not in LOGO_TYPES:
                raise ValidationError(problem("settings.logo_type"))
            if max(width, height) > LOGO_MAX_PIXELS:
                raise ValidationError(problem("settings.logo_pixels", max=LOGO_MAX_PIXELS))
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(problem("settings.logo_type")) from None
    return Logo(data, LOGO_TYPES[kind], width, height)


class LogoField(Coded, fields.String):
    """A PNG or JPEG logo sent as base64, loaded as a :class:`Logo`."""

    error_codes = {"invalid": "type.string"}

    def _deserialize(self, value, attr, data, **kwargs) -> Logo:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > LOGO_MAX_BYTES * 4 // 3 + 4:
            too_large = problem("settings.logo_too_large", size=len(text) * 3 // 4, max=LOGO_MAX_BYTES)
            raise ValidationError(too_large)
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(problem("settings.logo_base64")) from None
        return read_logo(raw)


class ClauseText(Text):
    """A clause: plain paragraphs, no template code."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _TEMPLATE_CODE.search(text):
            raise ValidationError(problem("settings.clause_code"))
        return text


class ClausesSchema(Strict):
    """The named clauses; each is optional, the standard wording stands where one is missing."""

    payment_terms = ClauseText(max_length=3000, multiline=True)
    confidentiality = ClauseText(max_length=3000, multiline=True)
    complaints = ClauseText(max_length=3000, multiline=True)
    additional = ClauseText(max_length=3000, multiline=True)


class SettingsSchema(Strict):
    """A settings version as an administrator sends it: the date it applies from and what it overrides."""

    effective_from = Date(required=True, metadata={"description": "In force for documents dated from it"})
    name = Text(max_length=160)
    name_genitive = Text(max_length=160, metadata={"description": '"uz Bauskas novada pašvaldības kontu"'})
    place = Text(max_length=80)
    place_locative = Text(max_length=80, metadata={"description": '"Bauskā, 2020. gada 30. janvārī"'})
    registration_number = RegistrationNumber()
    address = Text(max_length=200)
    bank = Text(max_length=80)
    iban = Iban()
    head = Nested(OfficialSchema, metadata={"description": "Who signs requests and letters"})
    accountant = Name()
    agreement_series = Text(max_length=30, metadata={"description": "e.g. L-{year}/{seq:03}"})
    clauses = Nested(ClausesSchema)
    logo = LogoField(metadata={"description": "PNG or JPEG, base64, at most 256 KiB"})

    @validates_schema
    def _series(self, data: dict[str, Any], **kwargs) -> None:
        series = data.get("agreement_series")
        if series is not None and not SERIES.fullmatch(series):
            raise ValidationError({"agreement_series": [problem("municipality.series", series=series)]})


class _HeadSchema(Schema):
    name = fields.String()
    position = fields.String()
    basis = fields.String()


class MunicipalityContextSchema(Schema):
    """What every template sees as ``municipality``: the settings in force on the document's date.

    ``logo`` prints the logo where a template has ``{{r municipality.logo }}`` (nothing without one).
    """

    code = fields.String()
    name = fields.String()
    name_genitive = fields.String()
    place = fields.String()
    place_locative = fields.String()
    registration_number = fields.String()
    address = fields.String()
    bank = fields.String()
    iban = fields.String()
    head = fields.Nested(_HeadSchema)
    accountant = fields.String()
    clauses = fields.Nested(ClausesSchema)
    logo = fields.String()
    settings_version = fields.Integer(metadata={"description": "0: the standard settings"})

