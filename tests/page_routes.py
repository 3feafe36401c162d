"""The pages that show or change one stored object, and how to make such an object (for the access walk).

``SCOPED_PAGES`` maps a page rule (as in the URL map) to a function ``make(api, headers) -> url``: given a
test client and the bearer headers of Bauska's administrator, it makes an object through the API and returns
the URL of the page (in the rule's shape) that shows or changes it. ``tests/test_web_access.py`` walks the
URL map: a page rule with a variable must be listed here, and Liepāja's administrator must get 404 for it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from tests import case_helpers

SCOPED_PAGES: dict[str, Callable] = {}


def _settings_page(api, headers) -> str:
    from tests.case_helpers import settings_version

    number = settings_version(api, headers).rsplit("/", 1)[1]
    return f"/administresana/iestatijumi/{number}"


def _template_page(api, headers) -> str:
    from tests.case_helpers import template_version

    kind, number = template_version(api, headers).rsplit("/", 2)[1:]
    return f"/administresana/veidnes/{kind}/{number}"


SCOPED_PAGES |= {
    "/administresana/iestatijumi/<int:number>/logotips": lambda api, h: _settings_page(api, h) + "/logotips",
    "/administresana/iestatijumi/<int:number>/atjaunot": lambda api, h: _settings_page(api, h) + "/atjaunot",
    "/administresana/veidnes/<kind>/<int:number>/dokuments": lambda api, h: (
        _template_page(api, h) + "/dokuments"
    ),
    "/administresana/veidnes/<kind>/<int:number>/atjaunot": lambda api, h: (
        _template_page(api, h) + "/atjaunot"
    ),
}


def _agreement_page(api, headers) -> str:
    return "/ligumi/" + case_helpers.agreement(api, headers).rsplit("/", 1)[1]


def _act_page(api, headers) -> str:
    return "/akti/" + case_helpers.received_act(api, headers, Path(tempfile.mkdtemp()))["id"]


def _pack_page(api, headers, wait: bool = False) -> str:
    from tests.test_packs import finished, order

    body = order()
    body["agreements"] = body["agreements"][:1]
    body["lines"] = [line for line in body["lines"] if line["agreement"] == body["agreements"][0]["number"]]
    answer = api.post("/api/v1/packs", json=body, headers=headers)
    assert answer.status_code in (200, 202), answer.get_data(as_text=True)[:500]
    if wait:
        assert finished(api, answer.json["url"], headers)["state"] == "succeeded"
    return "/paki/" + answer.json["id"]


SCOPED_PAGES |= {
    # acts helper: agreements, delivery acts, packs
    "/plani/<plan_id>/versijas/<int:number>/ligums": lambda api, h: (
        "/plani/" + case_helpers.approved_plan(api, h).rsplit("/", 1)[1] + "/versijas/1/ligums"
    ),
    "/ligumi/<agreement_id>": _agreement_page,
    "/ligumi/<agreement_id>/versijas/<int:number>/dokuments": lambda api, h: (
        _agreement_page(api, h) + "/versijas/1/dokuments"
    ),
    "/ligumi/<agreement_id>/akts": lambda api, h: _agreement_page(api, h) + "/akts?menesis=09.2020.",
    "/akti/<submission_id>": _act_page,
    "/akti/<submission_id>/pienemt": lambda api, h: _act_page(api, h) + "/pienemt",
    "/akti/<submission_id>/noraidit": lambda api, h: _act_page(api, h) + "/noraidit",
    "/paki/<job_id>": _pack_page,
    "/paki/<job_id>/stavoklis": lambda api, h: _pack_page(api, h) + "/stavoklis",
    "/paki/<job_id>/zip": lambda api, h: _pack_page(api, h, wait=True) + "/zip",
}


def _client_page(api, headers) -> str:
    from tests.case_helpers import make_client

    return "/klienti/" + make_client(api, headers).rsplit("/", 1)[1]


def _plan_document(api, headers) -> str:
    from tests.case_helpers import approved_plan

    return "/plani/" + approved_plan(api, headers).rsplit("/", 1)[1] + "/versijas/1/dokuments"


def _bauska_user(api) -> int:
    """A new user of Bauska, made through service.accounts; their id."""
    import uuid

    from service import accounts
    from service.store import database

    with database(api.application).session() as session:
        user, _ = accounts.add_user(session, f"u-{uuid.uuid4().hex[:12]}", "social_worker", "bauska")
        session.flush()
        return user.id


def _user_page(action: str) -> Callable:
    return lambda api, headers: f"/administresana/lietotaji/{_bauska_user(api)}/{action}"


SCOPED_PAGES |= {
    "/klienti/<client_id>": _client_page,
    "/plani/<plan_id>/versijas/<int:number>/dokuments": _plan_document,
}
SCOPED_PAGES |= {
    f"/administresana/lietotaji/<int:user_id>/{action}": _user_page(action)
    for action in ("saite", "atspejot", "iespejot", "atbloket")
}


def _plan_page(tail: str = "", *, valid: bool = True) -> Callable:
    def make(api, headers) -> str:
        return "/plani/" + case_helpers.make_plan(api, headers, valid=valid).rsplit("/", 1)[1] + tail

    return make


SCOPED_PAGES |= {
    # The plan editor (service/web/plans.py).
    "/klienti/<client_id>/plani": lambda api, headers: (
        "/klienti/" + case_helpers.make_client(api, headers).rsplit("/", 1)[1] + "/plani"
    ),
    "/plani/<plan_id>": _plan_page(),
    "/plani/<plan_id>/prieksskatijums.png": _plan_page("/prieksskatijums.png", valid=False),
}
