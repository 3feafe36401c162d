"""Clients imported from a table: how a municipality starts keeping its cases here.

The sheet "Klienti" of the import template (or a CSV file with its headers) holds one client per row:
the fields of ``schemas.client.ClientRecordSchema`` and, optionally, one representative (role, name,
personal code, birth date, basis document); a client with more representatives gets the others added
later, one at a time. Dates are typed ``15.09.2020.`` or ``2020-09-15`` (``schemas.human_input``); the
target group and the representative's role may be a code or its Latvian name.

An import is all or nothing: every row is validated first, and a personal code twice in the file or
already recorded in the municipality is a problem at its row. Any problem refuses the whole file
(:class:`ImportRejected`, every problem with its path such as ``/clients/3/personal_code`` and its sheet,
row and column); otherwise every client is stored, sealed, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas import human_input
from schemas.errors import Problem, flatten, problem
from schemas.parties import TARGET_GROUPS
from service.auth import Principal
from service.cases import clients
from service.config import UploadLimits
from service.documents.labels import STANDARD_LABELS, load_labels
from service.store import Sealer
from service.store.case_models import Client
from service.store.sealing import normal_personal_code
from service.tables.reading import (
    DATE,
    GROUP,
    TEXT,
    Column,
    PlacedRefusal,
    RowPlaces,
    Table,
    TableRejected,
    read_tables,
    record,
)
from service.tables.sheets import BOLD, CODES, NOTES, TEMPLATE_MOMENT, CodeList, header, notes_sheet
from service.tables.workbook import deterministic_bytes, write_text

MAX_CLIENTS = 10_000
MAX_PROBLEMS = 500  # listed of a refused file: enough to correct it, not a copy of it
#: Refusals of the file itself, by code, answered with their own status; every other problem is 422.
FILE_STATUS = {"upload.too_large": 413, "table.unknown_type": 415, "upload.empty": 400}

_REPRESENTATIVE = ("representatives", 0)
CLIENTS = Table(
    "Klienti",
    "clients",
    (
        Column("Vārds, uzvārds", ("name",), TEXT, 24, "Klienta vārds un uzvārds.", "Līga Kalniņa"),
        Column("Personas kods", ("personal_code",), TEXT, 15, "Klienta personas kods.", "150385-12346"),
        Column(
            "Dzimšanas datums",
            ("birth_date",),
            DATE,
            12,
            "Vajadzīgs tikai jaunā formāta personas kodam (sākas ar 32–39).",
            "12.09.2017",
            required=False,
        ),
        Column(
            "Deklarētā adrese",
            ("declared_address",),
            TEXT,
            32,
            "Deklarētās dzīvesvietas adrese.",
            "Ūdens iela 7-12, Bauska, LV-3901",
        ),
        Column(
            "Faktiskā adrese",
            ("actual_address",),
            TEXT,
            32,
            "Faktiskā dzīvesvieta, ja tā atšķiras.",
            "Ķēniņu iela 3, Bauska, LV-3901",
            required=False,
        ),
        Column("Tālrunis", ("phone",), TEXT, 14, "Klienta tālrunis.", "+371 20000001", required=False),
        Column("E-pasts", ("email",), TEXT, 22, "Klienta e-pasta adrese.", "liga@example.lv", required=False),
        Column(
            "Mērķa grupa",
            ("target_group",),
            GROUP,
            14,
            "Kods vai nosaukums no lapas «Kodi».",
            "adult_grt",
            labels="target_group",
        ),
        Column(
            "Pārstāvja loma",
            (*_REPRESENTATIVE, "role"),
            GROUP,
            14,
            "Likumiskā pārstāvja loma: kods vai nosaukums no lapas «Kodi».",
            "parent",
            required=False,
            labels="role",
        ),
        Column(
            "Pārstāvja vārds, uzvārds",
            (*_REPRESENTATIVE, "name"),
            TEXT,
            24,
            "Pārstāvja vārds un uzvārds.",
            "Anna Kalniņa",
            required=False,
        ),
        Column(
            "Pārstāvja personas kods",
            (*_REPRESENTATIVE, "personal_code"),
            TEXT,
            15,
            "Pārstāvja personas kods.",
            "010180-10006",
            required=False,
        ),
        Column(
            "Pārstāvja dzimšanas datums",
            (*_REPRESENTATIVE, "birth_date"),
            DATE,
            12,
            "Vajadzīgs tikai jaunā formāta personas kodam.",
            "",
            required=False,
        ),
        Column(
            "Pārstāvības pamatojums",
            (*_REPRESENTATIVE, "basis_document"),
            TEXT,
            28,
            "Dokuments, uz kura pamata pārstāvis rīkojas.",
            "Dzimšanas apliecība",
            required=False,
        ),
    ),
)
NOTES_TEXT = (
    "Lapā «Klienti» katra rinda ir viens klients. Ja kādā rindā ir kļūda, netiek ievadīts neviens klients: "
    "izlabojiet norādītās šūnas un iesniedziet datni vēlreiz.",
    "Personas kods datnē drīkst būt tikai vienreiz, un tas vēl nedrīkst būt ievadīts jūsu pašvaldībā.",
    "Pārstāvja kolonnas aizpilda, ja klientam ir likumiskais pārstāvis (vecāks, aizbildnis, aizgādnis, "
    "audžuģimene); citus pārstāvjus var pievienot vēlāk.",
    "Datumus ievadiet kā datumus vai tekstu formā DD.MM.GGGG. (15.09.2020.) vai GGGG-MM-DD (2020-09-15).",
    "Pirmā rinda ir virsraksti: tos nemainiet. Kolonnu secība nav svarīga; liekas kolonnas un tukšas rindas "
    "netiek ņemtas vērā.",
    "Lapu var iesniegt arī kā CSV datni ar tiem pašiem virsrakstiem (atdalītājs – semikols vai komats, "
    "kodējums UTF-8 vai Windows-1257).",
)
_ROLES = ("parent", "guardian", "trustee", "foster_family")
_LISTS = {
    "Mērķa grupa": CodeList(
        "A",
        len(TARGET_GROUPS),
        "Mērķa grupa",
        "Izvēlieties mērķa grupu no saraksta (lapa «Kodi»).",
        "warning",
    ),
    "Pārstāvja loma": CodeList(
        "D", len(_ROLES), "Pārstāvja loma", "Izvēlieties pārstāvja lomu no saraksta (lapa «Kodi»).", "warning"
    ),
}


class ImportRejected(PlacedRefusal):
    """The file is refused: the status to answer, every problem with its path, and each one's place
    (file, sheet, row, column) or None."""


@dataclass(frozen=True)
class ClientTable:
    """The clients read from a file, as raw records, and where each came from."""

    records: list[dict[str, Any]]
    places: RowPlaces

    def place(self, path: tuple) -> dict[str, Any] | None:
        """The sheet, row and column of a path such as ``("clients", 3, "personal_code")``."""
        return self.places.place(tuple(path[1:])) if path[:1] == (CLIENTS.key,) else None


def read_clients(data: bytes, limits: UploadLimits, name: str = "file") -> ClientTable:
    """The clients of an uploaded XLSX or CSV; :class:`ImportRejected` when it cannot be read as one."""
    try:
        found = read_tables({name: data}, (CLIENTS,), limits, {CLIENTS.key: MAX_CLIENTS})
    except TableRejected as rejected:
        problems, places = rejected.listed()
        only = rejected.problems[0].code if len(rejected.problems) == 1 else None
        raise ImportRejected(FILE_STATUS.get(only, 422), problems, places) from None
    table = found[CLIENTS.key]
    return ClientTable(
        [record(values, CLIENTS.columns) for _, values in table.rows], RowPlaces.of(table, CLIENTS)
    )


def import_clients(session: Session, sealer: Sealer, user: Principal, table: ClientTable) -> list[Client]:
    """Every client of ``table`` stored in the user's municipality, or none (:class:`ImportRejected`)."""
    valid = checked(session, sealer, user, table)
    made = []
    for raw, values in valid:
        client = clients.new_client(user)
        clients.seal(client, sealer, raw, values)
        made.append(client)
    session.add_all(made)
    try:
        session.flush()
    except IntegrityError:  # another request recorded one of the codes since they were checked
        session.rollback()
        raise ImportRejected(409, [((), problem("client.import_clash"))], [None]) from None
    return made


def checked(
    session: Session, sealer: Sealer, user: Principal, table: ClientTable
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every record validated, (raw, loaded) each; the first ``MAX_PROBLEMS`` problems of every row as an
    :class:`ImportRejected` otherwise: a record's own, a code twice in the file, a code already recorded."""
    key = CLIENTS.key
    if not table.records:
        raise ImportRejected(422, [((key,), problem("client.import_empty"))], [{"sheet": CLIENTS.sheet}])
    errors: list[tuple[tuple, Problem]] = []
    valid: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for index, raw in enumerate(table.records):
        unread = _typed_dates(raw)
        try:
            valid.append((index, raw, clients.load(raw)))
        except ValidationError as error:
            found = [(path, found) for path, found in flatten(error.messages) if path not in unread]
            errors += [((key, index, *path), found) for path, found in [*found, *unread.items()]]
    first: dict[str, int] = {}
    tags: dict[int, str] = {}
    for index, _, values in valid:
        code = normal_personal_code(values["personal_code"])
        if code in first:
            twice = problem("client.import_twice", row=table.places.rows[first[code]])
            errors.append(((key, index, "personal_code"), twice))
        else:
            first[code] = index
            tags[index] = clients.code_tag(sealer, code)
    recorded = clients.recorded_codes(session, user.municipality, list(tags.values()))
    errors += [
        ((key, i, "personal_code"), problem("client.exists")) for i, tag in tags.items() if tag in recorded
    ]
    if errors:
        errors = sorted(errors, key=lambda error: error[0][1])[:MAX_PROBLEMS]
        raise ImportRejected(422, errors, [table.place(path) for path, _ in errors])
    return [(raw, values) for _, raw, values in valid]


_DATE_PATHS = tuple(column.path for column in CLIENTS.columns if column.kind == DATE)


def _typed_dates(raw: dict[str, Any]) -> dict[tuple, Problem]:
    """Dates typed as text read as people type them (``15.09.2020.``, ``schemas.human_input``): put in
    ``raw`` as ISO, or left as typed with the reader's problem by their path."""
    unread = {}
    for path in _DATE_PATHS:
        node: Any = raw
        for step in path[:-1]:  # a dict's key, or the index of a list the record made
            node = node.get(step) if isinstance(node, dict) else node[step] if node else None
        text = node.get(path[-1]) if isinstance(node, dict) else None
        if isinstance(text, str):
            try:
                node[path[-1]] = human_input.read_date(text).isoformat()
            except human_input.InvalidInput as error:
                unread[path] = problem(error.code)
    return unread


# --- the template -----------------------------------------------------------------------------------------


def import_template() -> bytes:
    """The XLSX to fill clients in: "Norādes", "Klienti" and "Kodi". The same bytes every time."""
    workbook = Workbook()
    notes = workbook.active
    notes.title = NOTES
    notes_sheet(notes, "Klientu ievade: norādes", NOTES_TEXT, (CLIENTS,))
    header(workbook.create_sheet(CLIENTS.sheet), CLIENTS, _LISTS)
    codes = workbook.create_sheet(CODES)
    labels = load_labels(STANDARD_LABELS)
    for column, group, values in ((1, "target_group", TARGET_GROUPS), (4, "role", _ROLES)):
        for number, title in enumerate(("Kods", "Nosaukums"), start=column):
            write_text(codes.cell(1, number), title)
            codes.cell(1, number).font = BOLD
            codes.column_dimensions[get_column_letter(number)].width = 14 if number == column else 52
        for row, code in enumerate(values, start=2):
            write_text(codes.cell(row, column), code)
            write_text(codes.cell(row, column + 1), labels.get(group, {}).get(code, ""))
    codes.freeze_panes = "A2"
    return deterministic_bytes(workbook, TEMPLATE_MOMENT, "Klientu ievade")
