"""Rotating the data key: every sealed value sealed again with a new key, every keyed hash made again.

:func:`rotate` runs the whole of it against a key file, so that a crash at any step leaves data that
opens: the key file first gets the new key in front of the old ones (old values still open, new ones
are sealed with the new key), then every value sealed with an older key is sealed again and the
clients' search hashes are remade in one transaction, and only then is the old key retired from the
file. Run again after a crash, it carries on from where it stopped. The file before the rotation is kept
beside it as ``<name>.previous`` until the operator has backed up the new one.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.cases import clients
from service.store import Database, Sealer
from service.store.case_models import Client
from service.store.models import Base, Sealed
from service.store.sealing import Keyring


def reseal(session: Session, sealer: Sealer) -> dict[str, int]:
    """Seal again, with ``sealer``'s active key, every value sealed with another; remake every client's
    search hashes. How many values each table had sealed again."""
    counts: dict[str, int] = {}
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if not issubclass(model, Sealed):
            continue
        done = 0
        for row in session.scalars(select(model).execution_options(yield_per=500)):
            for column in model.__sealed_columns__:
                value = getattr(row, column)
                if value is not None and sealer.needs_reseal(value):
                    place = row.seal_context(column)
                    setattr(row, column, sealer.seal(sealer.open(value, place), place))
                    done += 1
        counts[model.__tablename__] = done
    for client in session.scalars(select(Client)):
        clients.retag(client, sealer, clients.data(sealer, client))
    session.flush()
    return counts


def rotate(db: Database, key_file: Path) -> dict[str, int]:
    """Rotate the keys of ``key_file`` over ``db``; the counts of :func:`reseal`."""
    current = Keyring.load(key_file)
    previous = key_file.with_name(key_file.name + ".previous")
    if len(current.keys) == 1:  # a fresh rotation; more keys mean one that stopped half-way
        current.save(previous)
        current = current.rotated()
        current.save(key_file)
    with db.session() as session:
        counts = reseal(session, Sealer(current))
    current.retired().save(key_file)
    return counts
