"""The fillable delivery act, declared once: its pages, sections, fields and every Latvian word on it.

This is data, not drawing. :mod:`service.forms.pdf_form` (AcroForm) and :mod:`service.forms.docx_form`
(content controls) are two renderers that walk :data:`PAGES` section by section; each knows only how
to draw a kind of section (:class:`Title`, :class:`Header`, :class:`Summary`, :class:`Sessions`,
:class:`Note`, :class:`Paragraph`, :class:`Signatures`). :mod:`service.forms.fields` derives the field
names, their pages and their kinds from the same description, and :mod:`service.forms.values` shows
and reads each kind of value (the templates' filters out, :mod:`schemas.human_input` in).

A field's ``name`` is its schema path (see :mod:`service.forms.fields`); in the session table a column's
``name`` is the path inside one session. The wording of the choices (``form``, ``status``) is the
templates' own, from ``templates_lv/labels.toml``.

>>> [column.title for column in COLUMNS][:3]
['Nr.', 'Datums DD.MM.GGGG.', 'Pakalpojuma kods']
>>> HEADER[1].label, cell_label(4, COLUMNS[7])
('Datums (DD.MM.GGGG.)', '5. rinda: Vienības')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from schemas.delivery import FORMS, STATUSES
from service.documents.labels import STANDARD_LABELS, LabelError, load_labels


class Kind(StrEnum):
    """What a value is: how it is shown on the form and read back from what a person typed."""

    TEXT = "text"
    PARAGRAPH = "paragraph"  # text with line breaks
    DATE = "date"
    MONTH = "month"
    TIME = "time"
    NUMBER = "number"
    MONEY = "money"  # printed only (the agreement's prices)
    CHOICE = "choice"
    ROW_NUMBER = "row number"  # the table's first column: no field, the row's number


#: How to type each kind that has a form, shown beside its label (GGGG: gads, the year).
HINTS = {Kind.DATE: "DD.MM.GGGG.", Kind.MONTH: "MM.GGGG.", Kind.TIME: "hh:mm"}


@dataclass(frozen=True)
class Field:
    """A form field, or a column of the session table (its ``name`` then relative to a session).

    In ``label`` a line break marks where a narrow heading breaks, "-" and a line break a hyphenated
    word: the PDF draws the lines, the DOCX the one-line :attr:`title`. ``width`` is in points for a
    header field and a share of the table's width for a column.
    """

    name: str
    label: str
    kind: Kind = Kind.TEXT
    width: float = 0
    choices: Mapping[str, str] = field(default_factory=dict)  # code → Latvian wording

    @property
    def lines(self) -> list[str]:
        return self.label.split("\n")

    @property
    def title(self) -> str:
        return self.label.replace("-\n", "").replace("\n", " ")


@dataclass(frozen=True)
class Part:
    """One piece of a summary line: the agreement's value at ``path``, after ``prefix``."""

    path: str
    kind: Kind = Kind.TEXT
    prefix: str = ""


@dataclass(frozen=True)
class SummaryLine:
    """A line of the agreement's summary: its label and the parts joined by commas (empty ones left out)."""

    label: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class ServiceLines:
    """The agreed services, one line each, the first under ``label``; the words around their figures."""

    label: str
    quantity: str  # {quantity}: the agreed quantity with its unit
    price: str  # {price}: the agreed unit price, when the agreement sets one


# --- the sections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Title:
    text: str


@dataclass(frozen=True)
class Header:
    """The act's own fields in a row, each with its label above."""

    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Summary:
    """The agreement, printed (it is not a form field: the provider cannot change it)."""

    lines: tuple[SummaryLine, ...]
    services: ServiceLines
    overflow: str  # when the page cannot hold every line; {count}: the lines left out


@dataclass(frozen=True)
class Sessions:
    """Rows ``rows`` (from 0) of the session table, under ``caption``."""

    caption: str
    rows: range


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Paragraph:
    """A multi-line field under its label as a heading."""

    field: Field


@dataclass(frozen=True)
class SignatureBlock:
    heading: str
    fields: tuple[Field, ...]

    def label_of(self, item: Field) -> str:
        """The field's full label (its tooltip): the block's heading and the field's caption."""
        return f"{self.heading}: {item.label}"


@dataclass(frozen=True)
class Signatures:
    heading: str
    blocks: tuple[SignatureBlock, ...]
    line: str  # under the line where each signs


Section = Title | Header | Summary | Sessions | Note | Paragraph | Signatures


# --- the delivery act -----------------------------------------------------------------------------


def _choices(group: str, codes: tuple[str, ...]) -> dict[str, str]:
    labels = load_labels(STANDARD_LABELS).get(group, {})
    missing = [code for code in codes if code not in labels]
    if missing:
        raise LabelError(f"{STANDARD_LABELS}: [{group}] lacks {', '.join(missing)}")
    return {code: labels[code] for code in codes}


TITLE = "Pakalpojuma sniegšanas akts"
#: The description of the embedded agreement (PDF).
AGREEMENT_DESCRIPTION = "Līgums, uz kura pamata sagatavots akts (nemainīt)"
#: Under every page.
PAGE_NUMBER = "{page}. lapa no {pages}"
#: A session row's fields are named in tooltips and titles "5. rinda: Vienības".
ROW_LABEL = "{row}. rinda: {label}"
#: Height of a session row, points.
ROW_HEIGHT = 16.0
#: Session rows in the form: a month's sessions, two a day on some days.
SESSION_ROWS = 40
#: Rows on page 1 (below the act's header and the agreement); the rest are on page 2.
FIRST_PAGE_ROWS = 28

HEADER = (
    Field("number", "Akta Nr.", width=150),
    Field("date", f"Datums ({HINTS[Kind.DATE]})", Kind.DATE, width=90),
    Field("month", f"Par mēnesi ({HINTS[Kind.MONTH]})", Kind.MONTH, width=90),
)

#: The session table's columns; their widths are shares of the table's width.
COLUMNS = (
    Field("", "Nr.", Kind.ROW_NUMBER, 18),
    Field("date", f"Datums\n{HINTS[Kind.DATE]}", Kind.DATE, 56),
    Field("code", "Pakalpo-\njuma kods", width=44),
    Field("specialist", "Speciālists\n(vārds, uzvārds)", width=104),
    Field("specialist_register_number", "Speciālista\nreģistra Nr.", width=56),
    Field("start_time", f"No\n{HINTS[Kind.TIME]}", Kind.TIME, 34),
    Field("end_time", f"Līdz\n{HINTS[Kind.TIME]}", Kind.TIME, 34),
    Field("units", "Vienī-\nbas", Kind.NUMBER, 32),
    Field("form", "Forma", Kind.CHOICE, 70, _choices("form", FORMS)),
    Field("status", "Statuss", Kind.CHOICE, 75, _choices("status", STATUSES)),
)

SUMMARY = Summary(
    lines=(
        SummaryLine("Līgums", (Part("number", prefix="Nr. "), Part("date", Kind.DATE), Part("place"))),
        SummaryLine(
            "Sociālā dienesta lēmums",
            (Part("decision.number", prefix="Nr. "), Part("decision.date", Kind.DATE)),
        ),
        SummaryLine(
            "Individuālais atbalsta plāns", (Part("plan.number", prefix="Nr. "), Part("plan.date", Kind.DATE))
        ),
        SummaryLine("Sociālais dienests", (Part("municipality.name"),)),
        SummaryLine(
            "Pakalpojuma sniedzējs",
            (
                Part("provider.name"),
                Part("provider.registration_number", prefix="reģ. Nr. "),
                Part("provider.register_number", prefix="sociālo pakalpojumu sniedzēju reģistra Nr. "),
            ),
        ),
        SummaryLine(
            "Pakalpojuma saņēmējs",
            (Part("client.name"), Part("client.personal_code", prefix="personas kods ")),
        ),
        SummaryLine("Likumiskais pārstāvis", (Part("representative.name"),)),
    ),
    services=ServiceLines(
        "Līgumā paredzētie pakalpojumi", quantity="{quantity} mēnesī", price="vienības cena {price}"
    ),
    overflow="… un vēl {count} rindas: sk. līgumu",
)

#: The choices and when units are needed, under the table (the choices' wording from their columns).
NOTE = " ".join(
    [f"{column.title}: {', '.join(column.choices.values())}." for column in COLUMNS if column.choices]
    + ["Vienības jānorāda, ja pakalpojumu neuzskaita stundās vai laiks nav norādīts."]
)

PROGRESS = Field("progress", "Progress individuālā atbalsta plāna mērķu sasniegšanā", Kind.PARAGRAPH)

_NAME, _POSITION = "vārds, uzvārds", "amats"
SIGNATURES = Signatures(
    heading="Paraksti",
    blocks=(
        SignatureBlock(
            "Pakalpojuma sniedzējs",
            (Field("signatures.provider.name", _NAME), Field("signatures.provider.position", _POSITION)),
        ),
        SignatureBlock(
            "Pakalpojumu saņēmu", (Field("signatures.recipient", "saņēmējs vai likumiskais pārstāvis"),)
        ),
        SignatureBlock(
            "Pieņemts (sociālais dienests)",
            (
                Field("signatures.social_worker.name", _NAME),
                Field("signatures.social_worker.position", _POSITION),
            ),
        ),
    ),
    line="paraksts",
)

#: The pages, top to bottom.
PAGES: tuple[tuple[Section, ...], ...] = (
    (
        Title(TITLE.upper()),
        Header(HEADER),
        SUMMARY,
        Sessions("Pakalpojuma sniegšanas uzskaite", range(FIRST_PAGE_ROWS)),
    ),
    (
        Sessions("Pakalpojuma sniegšanas uzskaite (turpinājums)", range(FIRST_PAGE_ROWS, SESSION_ROWS)),
        Note(NOTE),
        Paragraph(PROGRESS),
        SIGNATURES,
    ),
)


def cell_label(row: int, column: Field) -> str:
    """The full label (tooltip) of a session cell; ``row`` from 0."""
    return ROW_LABEL.format(row=row + 1, label=column.title)


def column_widths(total: float) -> list[float]:
    """The session table's column widths when the table is ``total`` wide (any unit).

    >>> round(sum(column_widths(500.0)), 6), column_widths(523.0)[:2]
    (500.0, [18.0, 56.0])
    """
    shares = sum(column.width for column in COLUMNS)
    return [total * column.width / shares for column in COLUMNS]
