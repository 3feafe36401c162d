"""GET /api/v1/catalogue and /api/v1/projects: the configuration documents are checked against."""

from __future__ import annotations

from schemas import catalogue, projects
from service.api.blueprint import Blueprint
from service.api.schemas import CatalogueSchema, ProjectInfoSchema

blp = Blueprint("reference", __name__, url_prefix="/api/v1", description="Service catalogue and projects")


@blp.route("/catalogue", methods=["GET"])
@blp.response(200, CatalogueSchema)
def show_catalogue():
    """The services with their units, target groups and dated tariffs, and the limits."""
    current = catalogue.default()
    limits = current.limits
    return {
        "services": [
            {
                "code": s.code,
                "name": s.name,
                "unit": s.unit.name,
                "unit_forms": s.unit.forms,
                "step": s.unit.step,
                "groups": list(s.groups),
                "tariffs": [{"start": start, "price": price} for start, price in s.tariffs],
            }
            for s in current.services.values()
        ],
        "limits": {
            "aplp": {
                "service": limits.aplp_service,
                "in_force": [
                    {"from": str(d), **{k: _plain(v) for k, v in e.items()}} for d, e in limits.aplp
                ],
            },
            "child_care": {
                "service": limits.child_care_service,
                "in_force": [
                    {
                        "from": str(d),
                        "bands": [{"from_age": a, "to_age": b, "hours": str(h)} for a, b, h in bands],
                    }
                    for d, bands in limits.child_care
                ],
            },
            "respite": {
                "service": limits.respite_service,
                "in_force": [{"from": str(d), "days_per_year": str(days)} for d, days in limits.respite],
            },
        },
    }


def _plain(value):
    return {k: str(v) for k, v in value.items()} if isinstance(value, dict) else str(value)


@blp.route("/projects", methods=["GET"])
@blp.response(200, ProjectInfoSchema(many=True))
def list_projects():
    """The projects: number, ESF and state shares, period and the recipient of requests."""
    return [
        {
            "code": p.code,
            "name": p.name,
            "number": p.number,
            "esf_share": p.esf_share,
            "state_share": p.state_share,
            "start": p.window.start,
            "end": p.window.end,
            "recipient": p.recipient,
        }
        for p in projects.default().values()
    ]
