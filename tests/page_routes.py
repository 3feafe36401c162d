"""The pages that show or change one stored object, and how to make such an object (for the access walk).

``SCOPED_PAGES`` maps a page rule (as in the URL map) to a function ``make(api, headers) -> url``: given a
test client and the bearer headers of Bauska's administrator, it makes an object through the API and returns
the URL of the page (in the rule's shape) that shows or changes it. ``tests/test_web_access.py`` walks the
URL map: a page rule with a variable must be listed here, and Liepāja's administrator must get 404 for it.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.case_helpers import make_client, make_plan


def _plan_page(tail: str = "", *, valid: bool = True) -> Callable:
    def make(api, headers) -> str:
        return "/plani/" + make_plan(api, headers, valid=valid).rsplit("/", 1)[1] + tail

    return make


SCOPED_PAGES: dict[str, Callable] = {
    # The plan editor (service/web/plans.py).
    "/klienti/<client_id>/plani": lambda api, headers: (
        "/klienti/" + make_client(api, headers).rsplit("/", 1)[1] + "/plani"
    ),
    "/plani/<plan_id>": _plan_page(),
    "/plani/<plan_id>/prieksskatijums.png": _plan_page("/prieksskatijums.png", valid=False),
}
