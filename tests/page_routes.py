"""The pages that show or change one stored object, and how to make such an object (for the access walk).

``SCOPED_PAGES`` maps a page rule (as in the URL map) to a function ``make(api, headers) -> url``: given a
test client and the bearer headers of Bauska's administrator, it makes an object through the API and returns
the URL of the page (in the rule's shape) that shows or changes it. ``tests/test_web_access.py`` walks the
URL map: a page rule with a variable must be listed here, and Liepāja's administrator must get 404 for it.
"""

from __future__ import annotations

from collections.abc import Callable

SCOPED_PAGES: dict[str, Callable] = {}


def _client_page(api, headers) -> str:
    from tests.case_helpers import make_client

    return "/klienti/" + make_client(api, headers).rsplit("/", 1)[1]


def _plan_document(api, headers) -> str:
    from tests.case_helpers import approved_plan

    return "/plani/" + approved_plan(api, headers).rsplit("/", 1)[1] + "/versijas/1/dokuments"


SCOPED_PAGES.update(
    {
        "/klienti/<client_id>": _client_page,
        "/plani/<plan_id>/versijas/<int:number>/dokuments": _plan_document,
    }
)
