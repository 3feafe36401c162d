"""Read-only pages: the service catalogue, the projects, the document kinds with their template variables
(and the template authors' reference DOCX for administrators), and the accessibility statement.

They show what ``GET /api/v1/catalogue``, ``/api/v1/projects`` and ``/api/v1/templates`` answer, read from
the same sources (:func:`schemas.catalogue.default`, :func:`schemas.projects.default`, the compiled
templates and :mod:`service.documents.contract`).
"""

from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, request, send_file

from schemas import catalogue as catalogue_data
from schemas import projects as projects_data
from service.api.documents import DOCX
from service.auth import NotVisible, authorize
from service.documents import KINDS, templates
from service.documents.author_reference import reference_docx
from service.documents.contract import used_paths
from service.documents.labels import STANDARD_LABELS, load_labels
from service.web.base import page, public

bp = Blueprint("web_reference", __name__)

#: When the accessibility statement was prepared and last reviewed (change it with the statement).
STATEMENT_DATE = dt.date(2026, 12, 3)


@bp.route("/uzzinas/pakalpojumi", methods=["GET"])
def catalogue():
    authorize("reference:read")
    current = catalogue_data.default()
    groups = load_labels(STANDARD_LABELS).get("target_group", {})
    services = [
        {
            "code": service.code,
            "name": service.name,
            "unit": service.unit.forms.get("other", service.unit.name),
            "step": service.unit.step,
            "groups": [groups.get(group, group) for group in service.groups],
            "tariffs": list(service.tariffs),
        }
        for service in current.services.values()
    ]
    names = {service["code"]: service["name"] for service in services}
    return page("reference/catalogue.html", services=services, limits=current.limits, names=names)


@bp.route("/uzzinas/projekti", methods=["GET"])
def projects():
    authorize("reference:read")
    return page("reference/projects.html", projects=list(projects_data.default().values()))


@bp.route("/uzzinas/dokumenti", methods=["GET"])
def documents():
    authorize("reference:read")
    compiled = templates()
    kinds = []
    for kind in KINDS.values():
        trees = compiled.get(kind).asts.values()
        variables = sorted(set().union(*(used_paths(tree, kind.context) for tree in trees)))
        kinds.append({"kind": kind, "variables": variables})
    return page("reference/documents.html", kinds=kinds)


@bp.route("/uzzinas/dokumenti/atsauce", methods=["GET"])
def author_reference():
    """For template authors (administrators): the kind's variables and the filters, as a DOCX — the same
    document as ``GET /api/v1/template-reference``."""
    authorize("template:manage")
    name = request.args.get("veids", "")
    if name not in KINDS:
        raise NotVisible()
    data = io.BytesIO(reference_docx(KINDS[name]))
    return send_file(data, mimetype=DOCX, as_attachment=True, download_name=f"Veidnes mainīgie {name}.docx")


@bp.route("/pieklustamiba", methods=["GET"])
@public
def accessibility():
    return page("accessibility.html", statement_date=STATEMENT_DATE)
