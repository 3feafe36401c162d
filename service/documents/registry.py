"""The document kinds: the one place that says which schema, template and file name make a document, who
may render it, and which sample shows it.

Adding a document kind touches four places: its schema (``schemas/``), its template (``templates_lv/``),
one entry here and its sample (``samples/``). The routes (``/api/v1/documents/<kind>`` and
``/api/v1/validate/<kind>``) and their OpenAPI, the roles' permissions (``service.auth``), the command
line's choices, ``/api/v1/templates``, the templates README check and the tests' kind-to-sample maps all
read this registry.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import Schema

from schemas.agreement import AgreementSchema
from schemas.delivery import DeliveryActSchema
from schemas.plan import SupportPlanSchema
from schemas.reimbursement import ReimbursementRequestSchema
from service.config import ROOT
from service.files import safe_file_name

SAMPLES = ROOT / "samples"


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document.

    ``context`` is the name the template knows the data by (``plan``); ``file_name`` builds the
    download name (without extension) from the loaded data; ``roles`` may render and validate it;
    ``samples`` are ready-to-send bodies (files in ``samples/``, or paths), the first one the README's;
    ``own_templates``: whether a municipality may keep its own template of the kind; ``day`` the
    document's own date, which decides the municipality's template and settings versions in force.
    """

    name: str
    title: str
    schema: type[Schema]
    template: str
    context: str
    file_name: Callable[[dict[str, Any]], str]
    roles: frozenset[str]
    samples: tuple[str, ...]
    own_templates: bool = True
    day: Callable[[dict[str, Any]], dt.date] = operator.itemgetter("date")

    def sample_files(self) -> list[Path]:
        """The sample files, in the registry's order."""
        return [SAMPLES / sample for sample in self.samples]


#: Who may render what: social workers write plans, agreements and acts; finance officers agreements,
#: acts and everything a reimbursement needs; administrators everything.
CASEWORK = frozenset({"social_worker", "finance_officer", "administrator"})
SOCIAL_WORK = frozenset({"social_worker", "administrator"})
FINANCE = frozenset({"finance_officer", "administrator"})
REQUEST_SAMPLES = ("reimbursement-request-bauska-2020-09.json", "reimbursement-request-liepaja-2020-09.json")

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
            roles=SOCIAL_WORK,
            samples=(
                "support-plan-adult-support-person.json",
                "support-plan-child-parent.json",
                "support-plan-adult-trustee.json",
            ),
        ),
        DocumentKind(
            name="service-agreement",
            title="Līgums par sociālā pakalpojuma sniegšanu",
            schema=AgreementSchema,
            template="service-agreement.docx",
            context="agreement",
            file_name=lambda agreement: f"Līgums {safe_file_name(agreement['number'])}",
            roles=CASEWORK,
            samples=(
                "service-agreement-adult-aplp.json",
                "service-agreement-child-care.json",
                "service-agreement-from-plan.json",
            ),
        ),
        DocumentKind(
            name="delivery-act",
            title="Pakalpojuma sniegšanas akts",
            schema=DeliveryActSchema,
            template="delivery-act.docx",
            context="act",
            file_name=lambda act: f"Akts {safe_file_name(act['number'])}",
            roles=CASEWORK,
            samples=("delivery-act-adult-aplp.json",),
            # The act people fill in is drawn by code (service/forms/layout.py); its DOCX must say the same.
            own_templates=False,
        ),
        DocumentKind(
            name="reimbursement-request",
            title="Izmaksu kompensācijas pieprasījums",
            schema=ReimbursementRequestSchema,
            template="reimbursement-request.docx",
            context="reimbursement",
            file_name=lambda request: f"Kompensācijas pieprasījums {safe_file_name(request['number'])}",
            roles=FINANCE,
            samples=REQUEST_SAMPLES,
        ),
        DocumentKind(
            name="client-detail",
            title="Klienta pakalpojumu izklāsts",
            schema=ReimbursementRequestSchema,
            template="client-detail.docx",
            context="reimbursement",
            file_name=lambda request: f"Klienta izklāsts {safe_file_name(request['number'])}",
            roles=FINANCE,
            samples=REQUEST_SAMPLES,
        ),
        DocumentKind(
            name="cover-letter",
            title="Pavadvēstule",
            schema=ReimbursementRequestSchema,
            template="cover-letter.docx",
            context="reimbursement",
            file_name=lambda request: f"Pavadvēstule {safe_file_name(request['number'])}",
            roles=FINANCE,
            samples=REQUEST_SAMPLES[:1],
        ),
    )
}
