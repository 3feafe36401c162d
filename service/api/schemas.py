"""Schemas of the API's own payloads (errors, health, validation reports), for OpenAPI."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from marshmallow import Schema, ValidationError, fields

from schemas.agreement import AgreementSchema
from schemas.base import Strict
from schemas.errors import problem
from schemas.fields import Choice, Coded, Date, Integer, Money, Month, Nested, Number, Text, in_range
from schemas.municipal_settings import MunicipalityContextSchema
from service.api.problems import PROBLEM_JSON
from service.store import sealer


class Moment(Coded, fields.AwareDateTime):
    """An ISO 8601 moment; without a zone it is read as UTC."""

    error_codes = {
        "invalid": "moment.invalid",
        "invalid_awareness": "moment.invalid",
        "format": "moment.invalid",
    }

    def __init__(self, **kwargs):
        super().__init__(default_timezone=dt.UTC, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, dt.datetime) and value.tzinfo is None:  # SQLite keeps no zone; all is UTC
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class TemplatePlaceSchema(Schema):
    """Where something sits in an uploaded template (``service.documents.uploaded.places``)."""

    part = fields.String(metadata={"description": "The template's part, e.g. word/document.xml"})
    where = fields.String(metadata={"description": "Where in the part: body, or table, row and cell"})
    text = fields.String(metadata={"description": "The text of the paragraph around it"})


class ProblemItemSchema(TemplatePlaceSchema):
    path = fields.String(metadata={"description": "JSON pointer to the field, e.g. /services/2/unit"})
    code = fields.String(metadata={"description": "Stable error code, e.g. personal_code.checksum"})
    message = fields.String(metadata={"description": "Message in the response language"})
    # Where the problem sits in an uploaded file (problems.problem_response's places).
    field = fields.String(
        allow_none=True, metadata={"description": "A filled form's field (none: off the form)"}
    )
    page = fields.Integer(metadata={"description": "The form's page, from 1"})
    file = fields.String(metadata={"description": "The uploaded table's multipart field"})
    sheet = fields.String(metadata={"description": "The table's sheet"})
    row = fields.Integer(metadata={"description": "The table's row, from 1"})
    column = fields.String(metadata={"description": "The table's column heading"})
    # A problem that repeats is listed once (schemas.problem_groups); these only when it does.
    count = fields.Integer(metadata={"description": "How many times the problem occurs (only when over 1)"})
    paths = fields.List(fields.String(), metadata={"description": "Every occurrence's JSON pointer"})
    places = fields.List(fields.Dict(), metadata={"description": "Every occurrence's place in a file"})
    rows = fields.List(fields.Integer(), metadata={"description": "Every occurrence's table row"})


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
    pdf = fields.Dict(metadata={"description": "PDF converters: size, busy, waiting, conversions, restarts"})


class TariffSchema(Schema):
    start = fields.Date(data_key="from", metadata={"description": "In force from this day"})
    price = Money(metadata={"description": "EUR per unit"})


class CatalogueServiceSchema(Schema):
    code = fields.String()
    name = fields.String()
    unit = fields.String()
    unit_forms = fields.Dict(keys=fields.String(), values=fields.String())
    step = Number()
    groups = fields.List(fields.String())
    tariffs = fields.List(fields.Nested(TariffSchema))


class CatalogueSchema(Schema):
    services = fields.List(fields.Nested(CatalogueServiceSchema))
    limits = fields.Dict(
        metadata={"description": "APLP hours by level, child-care hours by age, respite days"}
    )


class ProjectInfoSchema(Schema):
    code = fields.String()
    name = fields.String()
    number = fields.String()
    esf_share = Money()
    state_share = Money()
    start = fields.Date()
    end = fields.Date()
    recipient = fields.String()


class TemplateInfoSchema(Schema):
    kind = fields.String()
    title = fields.String()
    template = fields.String(metadata={"description": "File in the templates folder"})
    context = fields.String(metadata={"description": "The name the template knows the data by"})
    schema = fields.String(metadata={"description": "The OpenAPI component the data are checked against"})
    variables = fields.List(fields.String(), metadata={"description": "Every data path the template reads"})
    missing = fields.List(
        fields.String(), metadata={"description": "Paths the schema lacks (should be empty)"}
    )


class QueryInteger(Integer):
    """A whole number in a query string, where every value arrives as text: digits only ("3", "-1"), so
    " 3", "3.0", "+3" and "3_000" are refused as they would be in JSON.

    >>> QueryInteger().deserialize("3"), QueryInteger().deserialize(3)
    (3, 3)
    >>> QueryInteger().deserialize("3.0")
    Traceback (most recent call last):
        ...
    marshmallow.exceptions.ValidationError: Expected a whole number.
    """

    _digits = re.compile(r"-?[0-9]{1,9}\Z")

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, str) and self._digits.match(value):
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class PageArgsSchema(Strict):
    limit = QueryInteger(load_default=100, validate=in_range(1, 1000))
    offset = QueryInteger(load_default=0, validate=in_range(0, 1_000_000))
    since = Moment(metadata={"description": "From this moment (ISO 8601)"})
    until = Moment(metadata={"description": "Before this moment (ISO 8601)"})


class RegisterArgsSchema(PageArgsSchema):
    kind = Text(max_length=40)


class RegisteredDocumentSchema(Schema):
    id = fields.String()
    kind = fields.String()
    file_name = fields.String()
    municipality = fields.String()
    user_id = fields.Integer(allow_none=True)
    created_at = Moment()
    sha256 = fields.String()
    size = fields.Integer()
    stored = fields.Boolean(metadata={"description": "The bytes are kept and can be downloaded"})
    template_version = fields.Integer(
        allow_none=True, metadata={"description": "The municipality's template version; null: the standard"}
    )
    settings_version = fields.Integer(
        allow_none=True, metadata={"description": "The municipality's settings version; null: the standard"}
    )
    job_id = fields.String(allow_none=True, metadata={"description": "The pack job that made it, if any"})


class AuditArgsSchema(PageArgsSchema):
    action = Text(max_length=40)
    username = Text(max_length=80)
    object_id = Text(max_length=64)


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = Moment()
    username = fields.String()
    municipality = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String()
    sha256 = fields.String(allow_none=True)
    outcome = fields.String()
    detail = fields.String(metadata={"description": "JSON: identifiers and counts, never content"})


class FormRequestSchema(Strict):
    """What a fillable delivery act is made from: the agreement it rests on and the month."""

    agreement = Nested(AgreementSchema, required=True)
    month = Month(required=True)
    number = Text(max_length=40, metadata={"description": "The act's number, if already known"})


class SubmissionArgsSchema(PageArgsSchema):
    month = Text(max_length=7, metadata={"description": "YYYY-MM"})
    provider = Text(max_length=11, metadata={"description": "The provider's registration number"})
    status = Choice(("received", "accepted", "rejected"))


class SubmissionSchema(Schema):
    id = fields.String()
    municipality = fields.String()
    received_at = Moment()
    sha256 = fields.String()
    size = fields.Integer()
    file_type = fields.String()
    status = fields.String()
    month = fields.String()
    provider = fields.String()
    agreement_number = fields.String()
    agreement_id = fields.String(
        allow_none=True,
        metadata={"description": "The stored agreement the act is matched to (none: unmatched)"},
    )
    agreement_version = fields.Integer(
        allow_none=True, metadata={"description": "The agreement's version the form carries"}
    )
    client_id = fields.String(allow_none=True)
    accepted_at = Moment(allow_none=True)
    accepted_by = fields.Integer(allow_none=True, metadata={"description": "The user who accepted it"})
    overridden = fields.Function(
        lambda s: s.override_by is not None,
        metadata={"description": "Accepted past the period budget by an administrator"},
    )
    act = fields.Function(
        lambda s: sealer().open_json(s.sealed, s.seal_context()),
        metadata={"description": "The delivery act read from the form"},
    )


class WarningSchema(Schema):
    code = fields.String(metadata={"description": "Stable code, e.g. budget.near"})
    message = fields.String(metadata={"description": "In the response language"})


class PeriodUseSchema(Schema):
    """The period budget of the plan in force, once the act counts."""

    plan_version_id = fields.Function(lambda use: use.version.id)
    period_budget = Money(attribute="budget")
    delivered = Money(
        attribute="after", metadata={"description": "Delivered in the plan's period, this act included"}
    )
    percent = fields.Decimal(attribute="percent_after", as_string=True)


class AcceptanceSchema(Schema):
    """What accepting an act tells besides the submission: the budget it uses, and warnings."""

    warnings = fields.List(
        fields.Nested(WarningSchema),
        metadata={"description": "E.g. budget.near: the client has used most of the period budget"},
    )
    budget = fields.Nested(PeriodUseSchema, attribute="use", allow_none=True)


class AcceptedSchema(SubmissionSchema, AcceptanceSchema):
    """An accepted act (the submission), with the budget it uses and any warnings."""


class JobArgsSchema(PageArgsSchema):
    state = Choice(("queued", "running", "succeeded", "failed", "cancelled"))


class JobErrorSchema(Schema):
    code = fields.String(metadata={"description": "Stable error code, e.g. job.failed_document"})
    message = fields.String(metadata={"description": "Why, in the response language"})
    errors = fields.List(
        fields.Nested(ProblemItemSchema),
        metadata={
            "description": "An order its job validated (pack.invalid_order): every problem, as in a 422"
        },
    )


class JobResultSchema(Schema):
    url = fields.String(metadata={"description": "Where to download the pack"})
    name = fields.String(metadata={"description": "File name of the ZIP"})
    size = fields.Integer()
    sha256 = fields.String()


class JobSchema(Schema):
    """A background job: what it is, how far it got, and where its result is."""

    id = fields.String()
    url = fields.String()
    kind = fields.String()
    title = fields.String(metadata={"description": "What the job makes, e.g. the request number"})
    municipality = fields.String()
    state = fields.String(metadata={"description": "queued, running, succeeded, failed or cancelled"})
    step = fields.String(metadata={"description": "documents, summary, merging or archive while running"})
    done = fields.Integer(metadata={"description": "Documents made so far"})
    total = fields.Integer(metadata={"description": "Documents to make (0 until the job has started)"})
    created_at = Moment()
    started_at = Moment(allow_none=True)
    finished_at = Moment(allow_none=True)
    input_sha256 = fields.String(metadata={"description": "SHA-256 of the job's input"})
    error = fields.Nested(JobErrorSchema, allow_none=True)
    result = fields.Nested(JobResultSchema, allow_none=True)


#: A file answered as it is (DOCX, PDF, ZIP), for OpenAPI.
BINARY = {"type": "string", "format": "binary"}


class OutputFormat(Choice):
    """A document's file format; an unknown one is ``format.unknown``, naming those there are."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if value not in self.choices:
            raise ValidationError(problem("format.unknown", formats=", ".join(self.choices)))
        return value


class RenderArgsSchema(Schema):
    """The query of a render: what to answer, and whether a PDF is for archiving."""

    format = OutputFormat(
        ("docx", "pdf"),
        metadata={"description": "The output; DOCX unless asked (or Accept: application/pdf)"},
    )
    pdfa = Choice(("1", "0", "true", "false"), metadata={"description": "With format=pdf: PDF/A-2b"})


@cache
def validation_report_schema(schema: type[Schema]) -> type[Schema]:
    """The answer of ``/validate/<kind>`` for a kind loaded by ``schema``: one class per schema, so kinds
    that share a schema share its report."""
    name = schema.__name__.removesuffix("Schema")
    return Schema.from_dict(
        {
            "valid": fields.Boolean(),
            "kind": fields.String(),
            "document": fields.Nested(schema, metadata={"description": "The data with derived figures"}),
        },
        name=f"{name}Report",
    )


def file_upload(description: str = "The file") -> dict:
    """The OpenAPI request body of an upload: one file in the multipart field ``file``."""
    file = {"type": "string", "format": "binary", "description": description}
    schema = {"type": "object", "properties": {"file": file}, "required": ["file"]}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def problem_doc(description: str) -> dict:
    """An OpenAPI response that is a problem+json document."""
    return {"description": description, "content": {PROBLEM_JSON: {"schema": ProblemSchema}}}


class TemplateWarningSchema(TemplatePlaceSchema):
    """A repair made to an uploaded template, and where."""

    code = fields.String(metadata={"description": "Stable code, e.g. template.split_tag"})
    message = fields.String(metadata={"description": "In the response language"})


class TemplateVersionSchema(Schema):
    """One version of a municipality's own template of a kind."""

    kind = fields.String()
    number = fields.Integer(metadata={"description": "1, 2, … per municipality and kind"})
    effective_from = fields.Date(metadata={"description": "In force from this day"})
    in_force = fields.Boolean(metadata={"description": "Whether this version is the one in force today"})
    sha256 = fields.String()
    size = fields.Integer()
    warnings = fields.Integer(metadata={"description": "How many repairs the check made"})
    rolled_back_from = fields.Integer(
        allow_none=True, metadata={"description": "The earlier version whose content this one restores"}
    )
    created_at = Moment()
    created_by = fields.Integer(allow_none=True, metadata={"description": "The user's id"})
    url = fields.String(metadata={"description": "The DOCX of this version"})


class TemplateUploadSchema(Schema):
    version = fields.Nested(TemplateVersionSchema)
    warnings = fields.List(fields.Nested(TemplateWarningSchema))


class TemplateRollbackSchema(Strict):
    effective_from = Date(metadata={"description": "In force from this day; today when not given"})


class SettingsVersionSchema(Schema):
    """One version of a municipality's own settings: what it overrides of ``municipalities.toml``."""

    number = fields.Integer(metadata={"description": "1, 2, … per municipality"})
    effective_from = fields.Date(metadata={"description": "In force for documents dated from this day"})
    in_force = fields.Boolean(metadata={"description": "Whether this version is the one in force today"})
    sha256 = fields.String(metadata={"description": "Of the canonical body and the logo"})
    overrides = fields.Dict(
        metadata={"description": "The fields it sets (as sent, without effective_from and logo) and clauses"}
    )
    logo = fields.String(allow_none=True, metadata={"description": "The logo's URL; null without one"})
    rolled_back_from = fields.Integer(
        allow_none=True, metadata={"description": "The earlier version whose content this one restores"}
    )
    created_at = Moment()
    created_by = fields.Integer(allow_none=True, metadata={"description": "The user's id"})
    url = fields.String()


class SettingsInForceSchema(MunicipalityContextSchema):
    """The municipality as documents dated today see it: the file with the version in force laid over it."""

    class Meta:
        exclude = ("logo",)

    agreement_series = fields.String()
    has_logo = fields.Boolean()


class SettingsOverviewSchema(Schema):
    municipality = fields.String()
    in_force = fields.Integer(
        allow_none=True, metadata={"description": "The version in force today; null: the file's"}
    )
    settings = fields.Nested(SettingsInForceSchema)
    versions = fields.List(fields.Nested(SettingsVersionSchema), metadata={"description": "Oldest first"})


class PreviewArgsSchema(Schema):
    format = OutputFormat(("pdf", "png"), metadata={"description": "PDF, or page 1 as PNG; PDF unless asked"})
