"""The pages that show or change one stored object, and how to make such an object (for the access walk).

``SCOPED_PAGES`` maps a page rule (as in the URL map) to a function ``make(api, headers) -> url``: given a
test client and the bearer headers of Bauska's administrator, it makes an object through the API and returns
the URL of the page (in the rule's shape) that shows or changes it. ``tests/test_web_access.py`` walks the
URL map: a page rule with a variable must be listed here, and Liepāja's administrator must get 404 for it.
"""

from __future__ import annotations

from collections.abc import Callable

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
