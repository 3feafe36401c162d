"""Fixtures: every test gets its own application, instance folder and database (as in Flask's tutorial).

``client`` is signed in as an administrator of Bauska; ``anonymous`` sends no token; ``user_headers``
makes a user of any role and municipality and returns the headers that carry their token.
"""

from __future__ import annotations

import pytest

from service import accounts, create_app


@pytest.fixture
def app(tmp_path):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'veidlapas.db'}",
            "BLOBS_DIR": tmp_path / "blobs",
        }
    )


@pytest.fixture
def user_headers(app):
    made = {}

    def make(role: str = "administrator", municipality: str = "bauska") -> dict[str, str]:
        key = (role, municipality)
        if key not in made:
            with app.extensions["veidlapas.db"].session() as session:
                _, token = accounts.add_user(session, f"{role.replace('_', '-')}.{municipality}", role, municipality)
            made[key] = {"Authorization": f"Bearer {token}"}
        return made[key]

    return make


@pytest.fixture
def auth_headers(user_headers):
    return user_headers("administrator", "bauska")


@pytest.fixture
def client(app, auth_headers):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = auth_headers["Authorization"]
    return client


@pytest.fixture
def anonymous(app):
    return app.test_client()
