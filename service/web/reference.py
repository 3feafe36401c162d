"""Read-only pages: the accessibility statement."""

from __future__ import annotations

from flask import Blueprint

from service.web.base import page, public

bp = Blueprint("web_reference", __name__)


@bp.route("/pieklustamiba", methods=["GET"])
@public
def accessibility():
    return page("accessibility.html")
