"""Plain helpers shared by the schema tests: fresh copies of the samples, errors as codes by path.

Tests assert on stable error *codes* at JSON pointers, never on English text, so a reworded message
or a new translation breaks nothing. A message that carries no code (a bare marshmallow string that
escaped :class:`schemas.errors.Problem`) shows up as ``"UNCODED: <text>"`` and fails the comparison.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tomllib
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from marshmallow import ValidationError, fields

from schemas.agreement import AgreementSchema
from schemas.delivery import DeliveryActSchema
from schemas.errors import flatten, json_pointer
from schemas.plan import SupportPlanSchema
from schemas.reimbursement import ReimbursementRequestSchema
from service.documents.registry import KINDS

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

ADULT_SUPPORT_PERSON = "support-plan-adult-support-person"
CHILD_PARENT = "support-plan-child-parent"
ADULT_TRUSTEE = "support-plan-adult-trustee"
PLAN_SAMPLES = (ADULT_SUPPORT_PERSON, CHILD_PARENT, ADULT_TRUSTEE)


@cache
def _sample_text(name: str) -> str:
    return (SAMPLES / f"{name}.json").read_text(encoding="utf-8")


def sample_text(name: str) -> str:
    """The raw JSON text of ``samples/<name>.json``."""
    return _sample_text(name)


def kind_sample_text(kind: str) -> str:
    """The raw JSON text of the document kind's first sample (as the registry names it)."""
    return KINDS[kind].sample_files()[0].read_text(encoding="utf-8")


def kind_samples(kind: str) -> list[dict[str, Any]]:
    """Fresh copies of every sample the registry names for the document kind."""
    return [json.loads(path.read_text(encoding="utf-8")) for path in KINDS[kind].sample_files()]


def load_sample(name: str) -> dict[str, Any]:
    """A fresh deep copy of the sample's JSON data, free to modify."""
    return copy.deepcopy(json.loads(_sample_text(name)))


def code_of(message: Any) -> str:
    """The stable code of one message, or a visible marker when it has none."""
    return getattr(message, "code", None) or f"UNCODED: {message}"


def error_codes(messages: Any) -> dict[str, list[str]]:
    """marshmallow's nested messages as ``{json pointer: [codes]}`` (``""`` is the root).

    >>> from schemas.errors import problem
    >>> error_codes({"client": {"nickname": [problem("unknown_field")]}, "_schema": ["x"]})
    {'/client/nickname': ['unknown_field'], '': ['UNCODED: x']}
    """
    result: dict[str, list[str]] = {}
    for path, message in flatten(messages):
        result.setdefault(json_pointer(path), []).append(code_of(message))
    return result


def schema_errors(schema: type, data: Any) -> dict[str, list[str]]:
    """The codes ``schema().load(data)`` reports, by pointer; ``{}`` when it loads."""
    try:
        schema().load(data)
    except ValidationError as exc:
        return error_codes(exc.messages)
    return {}


def load_valid(schema: type, data: Any) -> dict[str, Any]:
    """Load data that must be valid; a failure names every code and pointer."""
    try:
        return schema().load(data)
    except ValidationError as exc:
        raise AssertionError(f"{schema.__name__} did not load: {error_codes(exc.messages)}") from None


def plan_errors(data: Any) -> dict[str, list[str]]:
    return schema_errors(SupportPlanSchema, data)


def load_plan(data: Any) -> dict[str, Any]:
    return load_valid(SupportPlanSchema, data)


def agreement_errors(data: Any) -> dict[str, list[str]]:
    return schema_errors(AgreementSchema, data)


def load_agreement(data: Any) -> dict[str, Any]:
    return load_valid(AgreementSchema, data)


def delivery_errors(data: Any) -> dict[str, list[str]]:
    return schema_errors(DeliveryActSchema, data)


def load_delivery(data: Any) -> dict[str, Any]:
    return load_valid(DeliveryActSchema, data)


def reimbursement_errors(data: Any) -> dict[str, list[str]]:
    return schema_errors(ReimbursementRequestSchema, data)


def load_reimbursement(data: Any) -> dict[str, Any]:
    return load_valid(ReimbursementRequestSchema, data)


def field_errors(field: fields.Field, value: Any) -> dict[str, list[str]]:
    """The codes ``field.deserialize(value)`` reports, by pointer; ``{}`` when it loads."""
    try:
        field.deserialize(value)
    except ValidationError as exc:
        return error_codes(exc.messages)
    return {}


def field_codes(field: fields.Field, value: Any) -> list[str]:
    """The codes of a field that reports at its own level (not inside nested keys)."""
    errors = field_errors(field, value)
    assert set(errors) <= {""}, f"expected errors at the field itself, got {errors}"
    return errors.get("", [])


def problems_at(schema: Any, data: Any) -> dict[str, list[Any]]:
    """The :class:`~schemas.errors.Problem` objects (code and parameters) ``schema.load(data)`` reports."""
    try:
        schema.load(data)
    except ValidationError as exc:
        result: dict[str, list[Any]] = {}
        for path, message in flatten(exc.messages):
            result.setdefault(json_pointer(path), []).append(message)
        return result
    return {}


# --- reference figures, read straight from the data files (not through schemas/) ---------------

DATA = Path(__file__).resolve().parent.parent / "schemas" / "data"
CATALOGUE = tomllib.loads((DATA / "catalogue.toml").read_text(encoding="utf-8"))
SERVICES = {service["code"]: service for service in CATALOGUE["services"]}
PROJECTS = {
    p["code"]: p for p in tomllib.loads((DATA / "projects.toml").read_text(encoding="utf-8"))["projects"]
}
CENT = Decimal("0.01")


def tariff_on(code: str, day: dt.date) -> Decimal | None:
    """The price of ``code`` in force on ``day``, from the TOML itself."""
    prices = [Decimal(t["price"]) for t in SERVICES[code]["tariffs"] if t["from"] <= day]
    return prices[-1] if prices else None


def half_up(amount: Decimal) -> Decimal:
    """Cents, half up: the reference rounding the tests compare against."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def freeze_today(monkeypatch, module, day: dt.date) -> None:
    """Make ``module`` (a schemas module that imports ``datetime as dt``) see ``day`` as today."""

    class Frozen(dt.date):
        @classmethod
        def today(cls):
            return day

    monkeypatch.setattr(
        module, "dt", SimpleNamespace(date=Frozen, time=dt.time, timedelta=dt.timedelta, datetime=dt.datetime)
    )


# --- filled delivery-act forms ---------------------------------------------------------------------

#: What a provider types into a fresh form: dates as people write them (ISO is read too), codes of choices.
FILLED_ACT = {
    "date": "02.10.2020.",
    "signatures.social_worker.name": "Gunta Ņikitina",
    "signatures.social_worker.position": "sociālā darbiniece",
    "sessions.0.date": "3.9.2020",
    "sessions.0.code": "APLP",
    "sessions.0.specialist": "Līga Žagare",
    "sessions.0.start_time": "10:00",
    "sessions.0.end_time": "12:00",
    "sessions.0.form": "klatiene",
    "sessions.0.status": "notika",
    "sessions.1.date": "2020-09-04",
    "sessions.1.code": "ATBG",
    "sessions.1.specialist": "Ģirts Čaupjonoks",
    "sessions.1.units": "1",
    "sessions.1.form": "majas",
    "sessions.1.status": "notika",
}


def fill_with_pdftk(form: bytes, values: dict[str, str], folder: Path) -> bytes:
    """The form filled by pdftk (another tool than the one that made it), from UTF-8 XFDF."""
    import subprocess
    from xml.sax.saxutils import escape, quoteattr

    fields = "".join(
        f"<field name={quoteattr(k)}><value>{escape(v)}</value></field>" for k, v in values.items()
    )
    xfdf = f'<?xml version="1.0" encoding="UTF-8"?><xfdf xmlns="http://ns.adobe.com/xfdf/"><fields>{fields}</fields></xfdf>'
    (folder / "form.pdf").write_bytes(form)
    (folder / "data.xfdf").write_text(xfdf, encoding="utf-8")
    subprocess.run(
        ["pdftk", folder / "form.pdf", "fill_form", folder / "data.xfdf", "output", folder / "filled.pdf"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return (folder / "filled.pdf").read_bytes()


def blank_act_form(client, headers=None, output: str = "pdf") -> bytes:
    """A fresh form for the sample act's agreement and September 2020, from the API."""
    act = load_sample("delivery-act-adult-aplp")
    response = client.post(
        f"/api/v1/forms/delivery-act?format={output}",
        json={"agreement": act["agreement"], "month": "2020-09", "number": "AKTS-2020/09-031"},
        headers=headers or {},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.data


def upload(client, data: bytes, name: str = "akts.pdf", headers=None):
    import io

    return client.post(
        "/api/v1/forms",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers or {},
    )
