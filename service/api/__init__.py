"""The HTTP API: flask-smorest blueprints under /api/v1, OpenAPI at /openapi.json, Swagger UI at /docs."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from swagger_ui_bundle import swagger_ui_path

from service.api import (
    agreements,
    audit_log,
    budget,
    clients,
    documents,
    forms,
    health,
    jobs,
    municipality_settings,
    municipality_templates,
    packs,
    plans,
    problems,
    reference,
    register,
    templates,
)
from service.api.schemas import ProblemSchema
from service.documents import KINDS

OPENAPI_SETTINGS = {
    "API_TITLE": "Veidlapas",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/docs/static/",
    "API_SPEC_OPTIONS": {
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "info": {
            "description": "Latvian case documents for community-based social services: "
            "individual support plans and the documents that follow from them. "
            "Errors are application/problem+json, in Latvian unless Accept-Language asks for English."
        },
    },
}


class ProblemApi(Api):
    """flask-smorest's Api with our problem+json errors in place of its own error payload."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        problems.register(self._app)

    def _register_responses(self) -> None:
        """Error responses documented as what they are: application/problem+json."""
        for status in HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any error: RFC 9457 problem details", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def init_app(app: Flask) -> None:
    """Attach the API, its documentation and the offline Swagger UI assets to ``app``."""
    for key, value in OPENAPI_SETTINGS.items():
        app.config.setdefault(key, value)
    api = ProblemApi(app)
    api.register_blueprint(health.blp)
    api.register_blueprint(documents.blueprint(KINDS.values()))
    api.register_blueprint(reference.blp)
    api.register_blueprint(templates.blp)
    api.register_blueprint(municipality_templates.blueprint(KINDS.values()))
    api.register_blueprint(municipality_settings.blp)
    api.register_blueprint(register.blp)
    api.register_blueprint(audit_log.blp)
    api.register_blueprint(forms.blp)
    api.register_blueprint(packs.blp)
    api.register_blueprint(jobs.blp)
    api.register_blueprint(clients.blp)
    api.register_blueprint(plans.blp)
    api.register_blueprint(agreements.blp)
    api.register_blueprint(budget.blp)
    app.add_url_rule(
        "/docs/static/<path:filename>",
        "swagger_ui_static",
        lambda filename: send_from_directory(swagger_ui_path, filename),
    )
