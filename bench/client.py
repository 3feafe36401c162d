"""The service as the benchmarks drive it: Flask's test client signed in as an administrator.

Every ``/api/v1`` request but the health check carries a bearer token, so a benchmark makes a user in
the application's database, as the tests do, and sends its token with each request.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from service import accounts
from service.store import database


def signed_in(app: Flask, username: str = "bench.bauska") -> FlaskClient:
    """A test client of ``app`` whose requests carry the token of a new Bauska administrator."""
    with database(app).session() as session:
        _, token = accounts.add_user(session, username, "administrator", "bauska")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client
