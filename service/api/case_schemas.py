"""The shapes of case records in the API: clients, plans, drafts, versions and their changes."""

from __future__ import annotations

import copy

from marshmallow import Schema, fields

from schemas.agreement import AgreementSchema, FromPlanSchema
from schemas.base import Strict
from schemas.fields import Choice, Date, Money, Month, Nested, Text, in_range
from schemas.parties import Paragraph
from service.api.schemas import Moment, PageArgsSchema, ProblemItemSchema, QueryInteger


class ClientArgsSchema(PageArgsSchema):
    limit = QueryInteger(load_default=20, validate=in_range(1, 1000), metadata={"description": "20 a page"})
    q = Text(max_length=60, metadata={"description": "A personal code (whole) or 3+ letters of a name"})
    status = Choice(("open", "closed"))


class CaseClientSchema(Schema):
    """A client record with its data (name, personal code, addresses, representatives)."""

    id = fields.String()
    url = fields.String()
    municipality = fields.String()
    status = fields.String(metadata={"description": "open or closed"})
    closed_on = fields.Date(allow_none=True)
    target_group = fields.String()
    revision = fields.Integer(metadata={"description": "Send it back in If-Match to change the record"})
    created_at = Moment()
    updated_at = Moment()
    data = fields.Dict(allow_none=True, metadata={"description": "The client's data as stored"})


class ClientListItemSchema(Schema):
    """A client in a list: enough to pick the right person; the whole record is one request away."""

    id = fields.String()
    url = fields.String()
    status = fields.String(metadata={"description": "open or closed"})
    target_group = fields.String()
    name = fields.String()
    personal_code = fields.String()
    updated_at = Moment()


class ClientImportSchema(Schema):
    """An import's result: how many clients were recorded, and each of them as in a list."""

    imported = fields.Integer()
    clients = fields.List(fields.Nested(ClientListItemSchema))


class CloseSchema(Strict):
    date = Date(required=True, metadata={"description": "The day the case closes"})
    reason = Paragraph(required=True, max_length=500)


class DraftSummarySchema(Schema):
    revision = fields.Integer()
    base_version = fields.Integer(metadata={"description": "The version the draft started from (0: none)"})
    problems = fields.Integer(metadata={"description": "How many problems the draft has"})
    updated_at = Moment(allow_none=True)


class VersionSummarySchema(Schema):
    number = fields.Integer()
    state = fields.String(metadata={"description": "approved, superseded"})
    signed = fields.Boolean()
    plan_number = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    review_date = fields.Date(allow_none=True)
    monthly_budget = Money()
    period_budget = Money()
    approved_at = Moment()
    approved_by = fields.Integer(allow_none=True)
    edited_by = fields.Integer(allow_none=True)
    document_id = fields.String(
        allow_none=True, metadata={"description": "The rendered plan in the register"}
    )
    signed_at = Moment(allow_none=True)


class PlanSchema(Schema):
    id = fields.String()
    url = fields.String()
    client_id = fields.String()
    municipality = fields.String()
    latest_version = fields.Integer()
    review_date = fields.Date(allow_none=True)
    draft = fields.Nested(DraftSummarySchema, allow_none=True)
    versions = fields.List(fields.Nested(VersionSummarySchema))


class DraftSchema(Schema):
    revision = fields.Integer(metadata={"description": "Send it back in If-Match to save or approve"})
    base_version = fields.Integer()
    updated_at = Moment(allow_none=True)
    plan = fields.Raw(metadata={"description": "The plan as typed, complete or not"})
    problems = fields.List(fields.Nested(ProblemItemSchema))


class ApproveSchema(Strict):
    note = Paragraph(max_length=1000, metadata={"description": "Why the plan changed"})


class VersionSchema(VersionSummarySchema):
    plan = fields.Raw(metadata={"description": "The plan as approved"})
    note = fields.String()


class ChangeSchema(Schema):
    path = fields.String(metadata={"description": "Where in the plan, e.g. /services/SK-PSIH/quantity"})
    code = fields.String(metadata={"description": "What kind of change, e.g. change.quantity"})
    message = fields.String(metadata={"description": "The change as a line, in the response language"})
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class ChangesArgsSchema(Strict):
    from_version = QueryInteger(data_key="from", required=True, validate=in_range(1, 100_000))
    to_version = QueryInteger(data_key="to", required=True, validate=in_range(1, 100_000))


class ChangesSchema(Schema):
    from_version = fields.Integer(data_key="from")
    to_version = fields.Integer(data_key="to")
    changes = fields.List(fields.Nested(ChangeSchema))


class CountSchema(Schema):
    municipality = fields.String()
    target_group = fields.String()
    status = fields.String()
    clients = fields.Integer()


class PeriodBudgetSchema(Schema):
    """A plan's period and its budgets."""

    period_start = fields.Date()
    period_end = fields.Date()
    monthly_budget = Money()
    period_budget = Money()


class PlanBudgetSchema(PeriodBudgetSchema):
    client = fields.String(metadata={"description": "A pseudonymous reference, not the client's id"})
    municipality = fields.String()
    target_group = fields.String()


class CaseTotalsSchema(Schema):
    counts = fields.List(fields.Nested(CountSchema))
    plans = fields.List(fields.Nested(PlanBudgetSchema), metadata={"description": "Approved plans' budgets"})


class StoredAgreementVersionSchema(Schema):
    number = fields.Integer()
    start = fields.Date()
    end = fields.Date()
    total = Money()
    plan_version = fields.Integer(metadata={"description": "The plan version it was made from"})
    created_at = Moment()
    created_by = fields.Integer(allow_none=True)


class StoredAgreementSchema(Schema):
    id = fields.String()
    url = fields.String()
    number = fields.String(metadata={"description": "Given from the municipality's series when stored"})
    municipality = fields.String()
    client_id = fields.String()
    plan_id = fields.String()
    provider = fields.String(metadata={"description": "The provider's registration number"})
    state = fields.String(metadata={"description": "active or ended"})
    start = fields.Date()
    end = fields.Date()
    ended_on = fields.Date(allow_none=True)
    revision = fields.Integer(metadata={"description": "Send it back in If-Match to amend or end"})
    versions = fields.List(fields.Nested(StoredAgreementVersionSchema))
    agreement = fields.Raw(metadata={"description": "The latest version as stored, the plan inside"})


class DueArgsSchema(Strict):
    today = Date(metadata={"description": "The day to count from (default: today)"})
    days = QueryInteger(
        validate=in_range(0, 366), metadata={"description": "Reviews due within (default 30)"}
    )


class DueReviewSchema(Schema):
    plan_id = fields.String()
    client_id = fields.String()
    review_date = fields.Date()
    overdue = fields.Boolean()


class DueAgreementSchema(Schema):
    agreement_id = fields.String()
    client_id = fields.String()
    number = fields.String()
    end = fields.Date()
    provider = fields.String()


class DueWorkSchema(Schema):
    today = fields.Date()
    review_days = fields.Integer()
    act_month = fields.String(metadata={"description": "The last finished month, whose acts are due"})
    reviews = fields.List(fields.Nested(DueReviewSchema), metadata={"description": "Plans to review"})
    ending = fields.List(fields.Nested(DueAgreementSchema), metadata={"description": "Ending this month"})
    missing_acts = fields.List(fields.Nested(DueAgreementSchema), metadata={"description": "No accepted act"})


class Figure(fields.Decimal):
    """A decimal as a string with ``places`` decimals, below zero too ("-12.50": over a budget)."""

    def __init__(self, places: int = 2, **kwargs):
        super().__init__(places=places, as_string=True, **kwargs)
        self.metadata.setdefault("type", "string")
        self.metadata.setdefault("pattern", rf"^-?[0-9]+\.[0-9]{{{places}}}$")


class BudgetArgsSchema(Strict):
    month = Month(metadata={"description": "A month of the plan period to show (default: this month)"})


class BudgetPlanSchema(PeriodBudgetSchema):
    plan_id = fields.String()
    version = fields.Integer(metadata={"description": "The version whose period is shown"})
    plan_number = fields.String()


class BudgetServiceSchema(Schema):
    """One service's units and euros: planned, contracted (agreements) and delivered (accepted acts)."""

    code = fields.String()
    name = fields.String(metadata={"description": "As the catalogue names it"})
    unit = fields.String()
    planned_units = Figure()
    planned_amount = Figure()
    contracted_units = Figure()
    contracted_amount = Figure()
    delivered_units = Figure()
    delivered_amount = Figure()


class BudgetPeriodServiceSchema(BudgetServiceSchema):
    remaining_units = Figure(metadata={"description": "Planned less delivered"})
    remaining_amount = Figure(metadata={"description": "Planned less delivered"})


class BudgetUseSchema(Schema):
    """Delivered so far against the period budget."""

    delivered_cumulative = Figure(metadata={"description": "Delivered from the period's start"})
    period_remaining = Figure(metadata={"description": "The period budget less delivered so far"})
    percent_used = Figure(places=1)
    warning = fields.Boolean(metadata={"description": "percent_used reached warn_percent"})
    over = fields.Boolean(metadata={"description": "Past the period budget"})


class BudgetTotalsSchema(BudgetUseSchema):
    planned = Figure()
    contracted = Figure()
    delivered = Figure()


class BudgetMonthSchema(BudgetTotalsSchema):
    month = fields.String(metadata={"description": "YYYY-MM"})
    plan_id = fields.String(allow_none=True)
    plan_version = fields.Integer(allow_none=True, metadata={"description": "The version in force"})
    monthly_budget = Figure()
    services = fields.List(fields.Nested(BudgetServiceSchema))
    remaining = Figure(metadata={"description": "The monthly budget less delivered"})
    month_over = fields.Boolean(metadata={"description": "Past the monthly budget"})


class ClientBudgetSchema(Schema):
    """A client's budget over the plan's period, month by month and service by service."""

    client_id = fields.String()
    warn_percent = fields.Integer(metadata={"description": "VEIDLAPAS_BUDGET_WARN_PERCENT"})
    plan = fields.Nested(BudgetPlanSchema, allow_none=True, metadata={"description": "None: no plan"})
    months = fields.List(fields.Nested(BudgetMonthSchema))
    services = fields.List(fields.Nested(BudgetPeriodServiceSchema), metadata={"description": "Period"})
    totals = fields.Nested(BudgetTotalsSchema, allow_none=True)


def _agreement_request() -> type[Schema]:
    """The body that makes or amends a stored agreement: the agreement without its number (given when
    stored) and with only the lines in ``from_plan`` (the plan is the stored version's), the fields the
    plan fills optional."""
    own = {
        name: copy.copy(field)
        for name, field in AgreementSchema._declared_fields.items()
        if not field.dump_only and name not in ("number", "from_plan")
    }
    for name in ("client", "municipality", "plan", "project", "services", "term"):
        own[name].required = False
    lines = Strict.from_dict({"lines": copy.copy(FromPlanSchema._declared_fields["lines"])}, name="PlanLines")
    own["from_plan"] = Nested(lines, required=True)
    return Strict.from_dict(own, name="AgreementRequest")


AgreementRequestSchema = _agreement_request()


class ActArgsSchema(Strict):
    """Which month's act to make, and as what."""

    month = Month(required=True, metadata={"description": "YYYY-MM, within the agreement's term"})
    format = Choice(("pdf", "docx"), load_default="pdf", metadata={"description": "PDF (AcroForm) or DOCX"})
    number = Text(max_length=40, metadata={"description": "The act's number, if already known"})


class RejectSchema(Strict):
    """Rejecting a received act: the reason, kept sealed."""

    reason = Paragraph(required=True, metadata={"description": "Why the act is sent back"})


class AcceptSchema(Strict):
    """Accepting an act; past the period budget only an administrator may, with the reason."""

    override_reason = Paragraph(
        metadata={"description": "Why an act past 100 % of the period budget is accepted (administrators)"}
    )
