"""The pages that show or change one stored object, and how to make such an object (for the access walk).

``SCOPED_PAGES`` maps a page rule (as in the URL map) to a function ``make(api, headers) -> url``: given a
test client and the bearer headers of Bauska's administrator, it makes an object through the API and returns
the URL of the page (in the rule's shape) that shows or changes it. ``tests/test_web_access.py`` walks the
URL map: a page rule with a variable must be listed here, and Liepāja's administrator must get 404 for it.
"""

from __future__ import annotations

from collections.abc import Callable

SCOPED_PAGES: dict[str, Callable] = {}


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


SCOPED_PAGES.update(
    {
        f"/administresana/lietotaji/<int:user_id>/{action}": _user_page(action)
        for action in ("saite", "atspejot", "iespejot", "atbloket")
    }
)
