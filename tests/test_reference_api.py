"""GET /api/v1/catalogue, /projects and /templates: the configuration and the template contract, shown."""

from __future__ import annotations

from service.documents import KINDS


def test_catalogue_lists_services_with_dated_tariffs_and_limits(client):
    body = client.get("/api/v1/catalogue").json
    services = {s["code"]: s for s in body["services"]}
    assert services["SK-PSIH"]["tariffs"] == [
        {"from": "2016-01-01", "price": "28.00"},
        {"from": "2020-01-01", "price": "30.00"},
    ]
    assert services["APRB"]["groups"] == ["child_ft"]
    assert services["SK-PSIH"]["unit_forms"] == {"one": "stunda", "other": "stundas", "zero": "stundu"}
    assert body["limits"]["aplp"]["in_force"][0]["levels"] == {"1": "6", "2": "16", "3": "30"}
    assert body["limits"]["respite"]["in_force"][0]["days_per_year"] == "30"


def test_projects_show_both_funding_splits(client):
    projects = {p["code"]: p for p in client.get("/api/v1/projects").json}
    assert (projects["IBM"]["esf_share"], projects["IBM"]["state_share"]) == ("85.00", "15.00")
    assert (projects["ZEMGALE-DI"]["esf_share"], projects["ZEMGALE-DI"]["state_share"]) == ("86.69", "13.31")
    assert projects["ZEMGALE-DI"]["number"] == "9.2.2.1/15/I/001"


def test_templates_list_every_kind_with_its_variables_and_no_missing_ones(client):
    listing = {t["kind"]: t for t in client.get("/api/v1/templates").json}
    assert set(listing) == set(KINDS)
    for kind, info in listing.items():
        assert info["missing"] == [], kind
        assert info["variables"], kind
        assert all(v.startswith((KINDS[kind].context, "municipality")) for v in info["variables"])
    assert "plan.client.name" in listing["support-plan"]["variables"]
    assert "municipality.clauses.confidentiality" in listing["service-agreement"]["variables"]
