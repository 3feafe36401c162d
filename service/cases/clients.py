"""Client records: kept sealed, found by keyed hashes of the personal code or of name prefixes.

A client's personal data (``schemas.client.ClientRecordSchema``) is stored only sealed; the target group,
the status and the dates stay in the clear. A personal code is found exactly (its keyed hash), a name by
a prefix of at least three letters of any of its words, diacritics and case ignored ("Kirse" finds
"Ķirse"); both only inside the user's municipality.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from schemas.client import ClientRecordSchema
from schemas.errors import ErrorCollector, problem
from service.auth import Principal, Scope
from service.cases.errors import CaseConflict
from service.store import Sealer
from service.store.case_models import Client, ClientNameTag
from service.store.models import new_id, utcnow
from service.store.sealing import name_prefixes, normal_name, normal_personal_code, search_prefix

CODE_QUERY = re.compile(r"\d{6}-?\d{5}")
TAG_BATCH = 500  # search tags asked for in one query (SQLite allows 999 parameters by default)


def load(raw: dict[str, Any]) -> dict[str, Any]:
    """The client's data validated (``ValidationError`` with every problem otherwise)."""
    return ClientRecordSchema().load(raw)


def code_tag(sealer: Sealer, code: str) -> str:
    return sealer.tag("personal_code", normal_personal_code(code))


def add(session: Session, sealer: Sealer, user: Principal, raw: dict[str, Any]) -> Client:
    """A new client of the user's municipality from valid data; :class:`CaseConflict` if the code is taken."""
    values = load(raw)
    client = new_client(user)
    _store(session, sealer, client, raw, values)
    session.add(client)
    session.flush()
    return client


def update(session: Session, sealer: Sealer, user: Principal, client: Client, raw: dict[str, Any]) -> None:
    """Replace the client's data with valid ``raw`` (the revision moves on)."""
    values = load(raw)
    _store(session, sealer, client, raw, values)
    client.revision += 1
    client.updated_by, client.updated_at = user.id, utcnow()


def _store(session: Session, sealer: Sealer, client: Client, raw: dict, values: dict) -> None:
    tag = code_tag(sealer, values["personal_code"])
    clash = session.scalar(
        select(Client.id).where(
            Client.municipality == client.municipality, Client.code_tag == tag, Client.id != client.id
        )
    )
    if clash:
        raise CaseConflict(("personal_code",), problem("client.exists"))
    seal(client, sealer, raw, values)


def new_client(user: Principal) -> Client:
    """An empty client of the user's municipality, made by the user (None: a command, not a person)."""
    return Client(
        id=new_id(), municipality=user.municipality, created_by=user.id or None, updated_by=user.id or None
    )


def seal(client: Client, sealer: Sealer, raw: dict[str, Any], values: dict[str, Any]) -> None:
    """Keep ``raw`` (loaded as ``values``) as the client's sealed data, with its target group and tags."""
    client.target_group = values["target_group"]
    client.sealed = sealer.seal_json(raw, client.seal_context())
    retag(client, sealer, values)


def recorded_codes(session: Session, municipality: str, tags: list[str]) -> set[str]:
    """Which of the personal codes' keyed hashes ``tags`` are already recorded in the municipality."""
    found: set[str] = set()
    for start in range(0, len(tags), TAG_BATCH):
        batch = tags[start : start + TAG_BATCH]
        found.update(
            session.scalars(
                select(Client.code_tag).where(Client.municipality == municipality, Client.code_tag.in_(batch))
            )
        )
    return found


def retag(client: Client, sealer: Sealer, person: dict[str, Any]) -> None:
    """The keyed hashes a search finds the client by, from its personal code and name, with the active key."""
    client.code_tag = code_tag(sealer, person["personal_code"])
    client.tags = [
        ClientNameTag(tag=sealer.tag("name", prefix), municipality=client.municipality)
        for prefix in sorted(name_prefixes(person["name"]))
    ]


def data(sealer: Sealer, client: Client) -> dict[str, Any]:
    """The client's personal data, opened."""
    return sealer.open_json(client.sealed, client.seal_context())


def close(client: Client, user: Principal, sealer: Sealer, on: dt.date, reason: str) -> None:
    """Close the case on ``on`` for ``reason`` (kept sealed with the client's data)."""
    opened = data(sealer, client)
    opened["closed_reason"] = reason
    client.sealed = sealer.seal_json(opened, client.seal_context())
    client.status, client.closed_on = "closed", on
    client.revision += 1
    client.updated_by, client.updated_at = user.id, utcnow()


def reopen(client: Client, user: Principal, sealer: Sealer) -> None:
    """Open a closed case again; the reason it was closed is dropped."""
    opened = data(sealer, client)
    opened.pop("closed_reason", None)
    client.sealed = sealer.seal_json(opened, client.seal_context())
    client.status, client.closed_on = "open", None
    client.revision += 1
    client.updated_by, client.updated_at = user.id, utcnow()


def search(scope: Scope, sealer: Sealer, query: str, *, every_word: bool = False) -> Select:
    """The clients ``query`` finds in the scope: a personal code exactly, or a name by its prefix; with
    ``every_word``, by the prefix of each of the query's words of three letters or more ("erik gail").

    Raises ``ValueError`` with a coded problem when the query is neither (under three letters).
    """
    return scope.select(Client).where(Client.id.in_(found_ids(scope, sealer, query, every_word=every_word)))


def found_ids(scope: Scope, sealer: Sealer, query: str, *, every_word: bool = False) -> Select:
    """The ids of the clients :func:`search` finds, read from the keyed hashes alone (the code's unique
    index, the name tags' lookup index), never from the records."""
    query = query.strip()
    if CODE_QUERY.fullmatch(query):
        return (
            scope.select(Client)
            .where(Client.code_tag == code_tag(sealer, query))
            .with_only_columns(Client.id)
        )
    prefix = search_prefix(query)
    if prefix is None:
        errors = ErrorCollector()
        errors.add(("q",), problem("client.query_short", min=3))
        errors.raise_if_any()
    prefixes = [prefix]
    if every_word:
        words = [search_prefix(word) for word in normal_name(query).split()[1:]]
        prefixes += [word for word in words if word is not None]
    statement = None
    for each in prefixes:
        tagged = select(ClientNameTag.client_id).where(ClientNameTag.tag == sealer.tag("name", each))
        if not scope.user.reads_everywhere:
            tagged = tagged.where(ClientNameTag.municipality == scope.user.municipality)
        statement = (
            tagged
            if statement is None
            else statement.where(ClientNameTag.client_id.in_(tagged.correlate(None)))
        )
    return statement
