"""The document kinds: the one place that says which schema, template and file name make a document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema

from schemas.agreement import AgreementSchema
from schemas.delivery import DeliveryActSchema
from schemas.plan import SupportPlanSchema
from schemas.reimbursement import ReimbursementRequestSchema
from service.files import safe_file_name


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document.

    ``context`` is the name the template knows the data by (``plan``); ``file_name`` builds the
    download name (without extension) from the loaded data.
    """

    name: str
    title: str
    schema: type[Schema]
    template: str
    context: str
    file_name: Callable[[dict[str, Any]], str]


KINDS: dict[str, DocumentKind] = {
    kind.name: kind
    for kind in (
        DocumentKind(
            name="support-plan",
            title="Individuālais atbalsta plāns",
            schema=SupportPlanSchema,
            template="support-plan.docx",
            context="plan",
            file_name=lambda plan: f"Atbalsta plāns {safe_file_name(plan['number'])}",
        ),
        DocumentKind(
            name="service-agreement",
            title="Līgums par sociālā pakalpojuma sniegšanu",
            schema=AgreementSchema,
            template="service-agreement.docx",
            context="agreement",
            file_name=lambda agreement: f"Līgums {safe_file_name(agreement['number'])}",
        ),
        DocumentKind(
            name="delivery-act",
            title="Pakalpojuma sniegšanas akts",
            schema=DeliveryActSchema,
            template="delivery-act.docx",
            context="act",
            file_name=lambda act: f"Akts {safe_file_name(act['number'])}",
        ),
        DocumentKind(
            name="reimbursement-request",
            title="Izmaksu kompensācijas pieprasījums",
            schema=ReimbursementRequestSchema,
            template="reimbursement-request.docx",
            context="reimbursement",
            file_name=lambda request: f"Kompensācijas pieprasījums {safe_file_name(request['number'])}",
        ),
        DocumentKind(
            name="client-detail",
            title="Klienta pakalpojumu izklāsts",
            schema=ReimbursementRequestSchema,
            template="client-detail.docx",
            context="reimbursement",
            file_name=lambda request: f"Klienta izklāsts {safe_file_name(request['number'])}",
        ),
        DocumentKind(
            name="cover-letter",
            title="Pavadvēstule",
            schema=ReimbursementRequestSchema,
            template="cover-letter.docx",
            context="reimbursement",
            file_name=lambda request: f"Pavadvēstule {safe_file_name(request['number'])}",
        ),
    )
}
