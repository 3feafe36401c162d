"""Clients in the order of their names, the Latvian way, although every name is kept sealed.

:func:`sort_key` is the Latvian collation (CLDR's ``lv``): č, ģ, ķ, ļ, ņ, š, ž are letters of their own
after c, g, k, l, n, s, z, and y after i; the long vowels ā, ē, ī, ū only break ties (a secondary
difference), and so does case. No collation library is needed for one alphabet.

:class:`NameOrder` keeps, in the process, each municipality's client ids ordered by that key. Nothing
new is written to the database (an order column would put every name's rank — nearly its initials —
beside the sealed record). The list is checked against a change marker on every use — one aggregate
over the municipality's clients (how many, their highest ``updated_at``, the sum of their revisions),
which every add, change, close, reopen and deletion moves — and when it moved only the rows whose
revision changed are opened again. A municipality's list not used for ``idle`` seconds is dropped.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store import Sealer
from service.store.case_models import Client

#: The Latvian alphabet as it sorts (q, w, x for foreign names, y after i as CLDR has it).
ALPHABET = "aābcčdeēfgģhiīyjkķlļmnņoōprŗsštuūvwxzž"
#: Letters that are the same as the one before them at the first level (only a tie-breaker).
_LONG = {"ā": "a", "ē": "e", "ī": "i", "ō": "o", "ū": "u", "ŗ": "r"}
_PRIMARY = {}
for _letter in ALPHABET:
    _PRIMARY.setdefault(_LONG.get(_letter, _letter), len(_PRIMARY) + 1)
_PRIMARY["q"] = _PRIMARY["p"] + 0.5  # q, absent from the alphabet proper, between p and r
del _letter
_OTHER = 100  # everything else sorts after the letters, by its base character


def sort_key(name: str) -> tuple[str, str, str]:
    """The key that puts names in Latvian order: letters first, then long vowels, then case.

    >>> names = ["Žanis", "Zane", "Čaks", "Cēsis", "Ēriks", "Edgars", "Šmits", "Sproģis", "ģirts", "Gints"]
    >>> sorted(names, key=sort_key)
    ['Cēsis', 'Čaks', 'Edgars', 'Ēriks', 'Gints', 'ģirts', 'Sproģis', 'Šmits', 'Zane', 'Žanis']
    >>> sorted(["Ābele", "Abele", "abele", "Ābols", "Ansis"], key=sort_key)
    ['abele', 'Abele', 'Ābele', 'Ābols', 'Ansis']
    >>> sorted(["Anna Ozola", "Anna", "Annija"], key=sort_key)
    ['Anna', 'Anna Ozola', 'Annija']
    """
    primary, secondary, tertiary = [], [], []
    for char in unicodedata.normalize("NFC", name.strip()):
        lower = char.lower()
        base = _LONG.get(lower, lower)
        if base in _PRIMARY:
            weight = int(_PRIMARY[base] * 2)
        elif char.isspace():
            weight = 1
        else:
            stripped = unicodedata.normalize("NFD", lower)[0]
            weight = int(_PRIMARY[stripped] * 2) if stripped in _PRIMARY else _OTHER * 2 + ord(stripped)
        primary.append(chr(weight + 32))
        secondary.append("1" if lower in _LONG else "0")
        tertiary.append("1" if char != lower else "0")
    return "".join(primary), "".join(secondary), "".join(tertiary)


@dataclass
class _Listed:
    marker: tuple
    keys: dict[str, tuple[int, tuple]] = field(default_factory=dict)  # id -> (revision, key)
    order: list[str] = field(default_factory=list)
    used: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def marker(session: Session, municipality: str) -> tuple:
    """What moves whenever a client of the municipality is added, changed or deleted."""
    found = session.execute(
        select(func.count(), func.max(Client.updated_at), func.sum(Client.revision)).where(
            Client.municipality == municipality
        )
    ).one()
    return tuple(found)


class NameOrder:
    """Each municipality's client ids in the Latvian order of their names (see the module's text)."""

    BATCH = 500

    def __init__(self, idle: float = 900.0) -> None:
        self.idle = idle
        self._listed: dict[str, _Listed] = {}
        self._lock = threading.Lock()

    def ids(self, session: Session, sealer: Sealer, municipality: str) -> list[str]:
        """The municipality's client ids, ordered by name (then id); brought up to date first."""
        now = time.monotonic()
        with self._lock:
            for code in [code for code, item in self._listed.items() if now - item.used > self.idle]:
                del self._listed[code]
            listed = self._listed.setdefault(municipality, _Listed(marker=()))
            listed.used = now
        current = marker(session, municipality)
        with listed.lock:
            if listed.marker != current:
                self._refresh(session, sealer, municipality, listed)
                listed.marker = current
            return listed.order

    def _refresh(self, session: Session, sealer: Sealer, municipality: str, listed: _Listed) -> None:
        rows = session.execute(select(Client.id, Client.revision).where(Client.municipality == municipality))
        revisions = {id_: revision for id_, revision in rows}
        stale = [id_ for id_, revision in revisions.items() if listed.keys.get(id_, (None,))[0] != revision]
        keys = {id_: item for id_, item in listed.keys.items() if id_ in revisions}
        for start in range(0, len(stale), self.BATCH):
            rows = session.execute(
                select(Client.id, Client.revision, Client.sealed).where(
                    Client.id.in_(stale[start : start + self.BATCH])
                )
            )
            for id_, revision, sealed in rows:
                person: dict[str, Any] = sealer.open_json(sealed, f"{Client.__tablename__}.sealed:{id_}")
                keys[id_] = (revision, sort_key(person.get("name", "")))
        listed.keys = keys
        listed.order = sorted(keys, key=lambda id_: (keys[id_][1], id_))
