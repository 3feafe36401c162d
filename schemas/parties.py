"""The people and organisations documents name, and the rules about who they are.

Shared by the plan, the agreement, the delivery act and the reimbursement request: the social service,
the client, the legal representative, officials who sign; and the person rules — a birth date from
the personal code (or given, for new-format codes), age and target group on a day, and who must
represent a minor or a person with restricted capacity.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas import personal_code
from schemas.base import Strict
from schemas.errors import ErrorCollector, problem
from schemas.fields import Choice, Date, Email, Iban, Nested, PersonalCode, Phone, RegistrationNumber, Text

ADULT_AGE = 18
TARGET_GROUPS = ("adult_grt", "child_ft")
MINOR_REPRESENTATIVES = ("parent", "guardian", "foster_family")
TRUSTEE = "trustee"


def Paragraph(**kwargs) -> Text:
    """Free text of a few lines (assessments, goals, measures)."""
    return Text(max_length=kwargs.pop("max_length", 2000), multiline=True, **kwargs)


def Name(**kwargs) -> Text:
    """A person's or an organisation's name."""
    return Text(max_length=120, **kwargs)


class OfficialSchema(Strict):
    """A person who signs for an organisation: name, position and the basis of the authority."""

    name = Name(required=True)
    position = Text(required=True, max_length=120)
    basis = Text(max_length=160, metadata={"description": 'e.g. "nolikums", "pilnvara Nr. 12"'})
    phone = Phone()
    email = Email()


class SocialServiceSchema(Strict):
    name = Text(required=True, max_length=160, metadata={"description": "Sociālais dienests"})
    municipality = Text(required=True, max_length=80)
    registration_number = RegistrationNumber(required=True)
    address = Text(required=True, max_length=200)
    phone = Phone()
    email = Email()
    iban = Iban()


class MunicipalityPartySchema(SocialServiceSchema):
    """The social service as a party to an agreement, with the official who signs for it."""

    representative = Nested(OfficialSchema, required=True)


class ClientSchema(Strict):
    name = Name(required=True)
    personal_code = PersonalCode(required=True)
    birth_date = Date(metadata={"description": "Required for a new-format personal code."})
    declared_address = Text(required=True, max_length=200)
    actual_address = Text(max_length=200)
    phone = Phone()
    email = Email()
    target_group = Choice(TARGET_GROUPS, required=True)


class LegalCapacitySchema(Strict):
    status = Choice(("full", "restricted"), required=True)
    court_ruling_number = Text(max_length=40)
    court_ruling_date = Date()
    scope = Paragraph(max_length=1000)


class RepresentativeSchema(Strict):
    role = Choice((*MINOR_REPRESENTATIVES, TRUSTEE), required=True)
    name = Name(required=True)
    personal_code = PersonalCode(required=True)
    birth_date = Date()
    basis_document = Text(required=True, max_length=200)
    orphan_court_decision = Text(max_length=200, metadata={"description": "Bāriņtiesas lēmums"})
    phone = Phone()
    email = Email()


def age_on(born: dt.date, day: dt.date) -> int:
    """Full years of age on ``day``.

    >>> age_on(dt.date(2002, 8, 2), dt.date(2020, 8, 1)), age_on(dt.date(2002, 8, 1), dt.date(2020, 8, 1))
    (17, 18)
    """
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def birth_date(person: dict[str, Any], path: tuple, errors: ErrorCollector) -> dt.date | None:
    """The person's birth date from the code or the field; a new-format code needs the field."""
    code = person.get("personal_code")
    given = person.get("birth_date")
    if code is None:
        return given
    from_code = personal_code.birth_date(code)
    if from_code is None and given is None:
        errors.add((*path, "birth_date"), problem("birth_date.required"))
    if from_code and given and from_code != given:
        errors.add((*path, "birth_date"), problem("birth_date.mismatch", expected=from_code))
    return from_code or given


def check_age(group: str, born: dt.date, day: dt.date, path: tuple, errors: ErrorCollector) -> None:
    """The target group fits the person's age on ``day`` (children under 18, GRT adults 18+)."""
    age = age_on(born, day)
    if group == "child_ft" and age >= ADULT_AGE:
        errors.add(path, problem("target_group.age_child", age=age, date=day))
    if group == "adult_grt" and age < ADULT_AGE:
        errors.add(path, problem("target_group.age_adult", age=age, date=day))


def check_representation(data: dict[str, Any], born: dt.date, day: dt.date, errors: ErrorCollector) -> None:
    """A minor has a parent, guardian or foster family; restricted capacity has a trustee with references."""
    representative = data.get("representative")
    role = representative.get("role") if representative else None
    capacity = data.get("legal_capacity") or {}
    if age_on(born, day) < ADULT_AGE:
        if representative is None:
            errors.add(("representative",), problem("representative.required_minor", date=day))
        elif role and role not in MINOR_REPRESENTATIVES:
            errors.add(("representative", "role"), problem("representative.role_minor", role=role))
    elif capacity.get("status") == "restricted":
        if not (capacity.get("court_ruling_number") and capacity.get("court_ruling_date")):
            errors.add(("legal_capacity",), problem("legal_capacity.court_ruling"))
        if representative is None:
            errors.add(("representative",), problem("representative.required_restricted"))
        elif role and role != TRUSTEE:
            errors.add(("representative", "role"), problem("representative.role_restricted", role=role))
        elif role and not representative.get("orphan_court_decision"):
            errors.add(
                ("representative", "orphan_court_decision"),
                problem("representative.orphan_court_decision"),
            )
