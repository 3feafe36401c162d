"""The start page: the user's municipality and what is waiting for them."""

from __future__ import annotations

from flask import Blueprint

from service.web.base import page

bp = Blueprint("web_home", __name__)


@bp.route("/", methods=["GET"])
def home():
    return page("home.html")
