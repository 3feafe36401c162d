"""Fixtures: every test gets its own application with its own instance folder (as in Flask's tutorial)."""

from __future__ import annotations

import pytest

from service import create_app


@pytest.fixture
def app(tmp_path):
    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})


@pytest.fixture
def client(app):
    return app.test_client()
