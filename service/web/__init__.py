"""The web pages for social workers and finance officers: server-rendered Jinja, Latvian first.

Each area is a blueprint in its own module; :mod:`service.web.base` holds what they share (the guard
that signs a request in and checks its CSRF token, the language, the filters, the error pages).
"""

from __future__ import annotations

from flask import Flask

from service.web import (
    acts,
    admin_users,
    agreements,
    base,
    clients,
    home,
    packs,
    plans,
    reference,
    settings,
    signin,
    templates_admin,
)

BLUEPRINTS = (
    signin.bp,
    home.bp,
    clients.bp,
    plans.bp,
    agreements.bp,
    acts.bp,
    packs.bp,
    reference.bp,
    settings.bp,
    admin_users.bp,
)
#: Modules that add routes to a blueprint above (the templates' pages are on ``settings.bp``).
ROUTES_ON_SHARED = (templates_admin,)


def init_app(app: Flask) -> None:
    """Attach every page to ``app``."""
    base.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
