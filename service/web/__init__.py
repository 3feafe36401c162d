"""The web pages for social workers and finance officers: server-rendered Jinja, Latvian first.

Each area is a blueprint in its own module; :mod:`service.web.base` holds what they share (the guard
that signs a request in and checks its CSRF token, the language, the filters, the error pages).
"""

from __future__ import annotations

from flask import Flask

from service.web import base, home, plans, reference, signin

BLUEPRINTS = (signin.bp, home.bp, reference.bp, plans.bp)


def init_app(app: Flask) -> None:
    """Attach every page to ``app``."""
    base.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
