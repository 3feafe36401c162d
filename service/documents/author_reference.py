"""The template author's reference of a document kind: a DOCX listing every variable its data has, with
an example value from the kind's first sample, and every filter with an example of what it prints.

A person writing a municipality's own template in Word opens it beside the template: the paths are
those of the template contract (``service.documents.contract.known_paths``: the kind's data, and the
municipality's settings as ``municipality.*`` with the sample municipality's values), so a variable found
here passes the upload check. Filter examples are computed by the filters themselves, so they cannot drift.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from docx import Document

from schemas.fields import Period
from schemas.municipal_settings import CLAUSES
from service.documents import formatting
from service.documents.contract import MUNICIPALITY, known_paths
from service.documents.municipal import SAMPLE_MUNICIPALITY, standard
from service.documents.registry import DocumentKind

EXAMPLE_DATE = dt.date(2020, 1, 30)
EXAMPLE_QUARTER = Period(dt.date(2020, 7, 1), dt.date(2020, 9, 30))
MAX_EXAMPLE = 80
#: What the reference shows for the settings a municipality may leave unset.
UNSET_NOTES = {
    f"{MUNICIPALITY}.logo": "(logotips, ja pašvaldībai tāds ir; drukā ar {{r municipality.logo }})",
    f"{MUNICIPALITY}.clauses": "(pašvaldības punkti)",
}
UNSET_CLAUSE = "(pašvaldības teksts, ja tā to iestatījusi; citādi nekas)"

#: Each filter: what it does (Latvian), how a template calls it, and the value it is shown on.
FILTER_EXAMPLES: dict[str, tuple[str, str, Callable[[], Any]]] = {
    "date_numeric": (
        "datums ciparos",
        "{{ d | date_numeric }}",
        lambda: formatting.date_numeric(EXAMPLE_DATE),
    ),
    "month_numeric": (
        "mēnesis ciparos",
        "{{ d | month_numeric }}",
        lambda: formatting.month_numeric(EXAMPLE_DATE),
    ),
    "time_hm": ("laiks", "{{ t | time_hm }}", lambda: formatting.time_hm(dt.time(9, 30))),
    "date_long": (
        "datums vārdiem: nominative, genitive, locative, dative",
        "{{ d | date_long('locative') }}",
        lambda: formatting.date_long(EXAMPLE_DATE, "locative"),
    ),
    "month_year": (
        "mēnesis un gads vārdiem, tajos pašos locījumos",
        "{{ d | month_year('genitive') }}",
        lambda: formatting.month_year(EXAMPLE_DATE, "genitive"),
    ),
    "period_long": (
        "periods: mēnesis, ceturksnis vai no … līdz …",
        "par {{ request.period | period_long }}",
        lambda: "par " + formatting.period_long(EXAMPLE_QUARTER),
    ),
    "money": ("summa ar € zīmi", "{{ a | money }}", lambda: formatting.money(Decimal("1234.5"))),
    "number": ("skaitlis ar komatu", "{{ n | number }}", lambda: formatting.number(Decimal("2.5"))),
    "plural": (
        "skaitlis ar mērvienību pareizajā formā",
        "{{ n | plural(s.unit_forms) }}",
        lambda: formatting.plural(21, {"one": "stunda", "other": "stundas", "zero": "stundu"}),
    ),
    "plural_form": (
        "tikai mērvienības forma",
        "{{ n | plural_form(s.unit_forms) }}",
        lambda: formatting.plural_form(10, {"one": "stunda", "other": "stundas", "zero": "stundu"}),
    ),
    "iban": ("konta numurs grupās", "{{ a | iban }}", lambda: formatting.iban("LV87UNLA0050014387101")),
    "amount_in_words": (
        "summa vārdiem",
        "{{ a | amount_in_words }}",
        lambda: formatting.amount_in_words(Decimal("67.38")),
    ),
}


def example_values(data: Any, prefix: str) -> dict[str, Any]:
    """Each path of loaded ``data`` (``plan.services[].code``) with its value, the first list item's.

    >>> example_values({"a": [{"b": 1}], "c": {"d": "x"}}, "p")
    {'p.a': [{'b': 1}], 'p.a[]': {'b': 1}, 'p.a[].b': 1, 'p.c': {'d': 'x'}, 'p.c.d': 'x'}
    """
    found = {}

    def walk(value: Any, path: str) -> None:
        if path != prefix:
            found[path] = value
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}")
        elif isinstance(value, list) and value:
            walk(value[0], f"{path}[]")

    walk(data, prefix)
    return found


def municipality_examples() -> dict[str, Any]:
    """Each ``municipality.*`` path with the sample municipality's value, or a note where it has none."""
    examples = example_values(standard(SAMPLE_MUNICIPALITY).context(), MUNICIPALITY)
    examples.update(UNSET_NOTES)
    for name in CLAUSES:
        examples.setdefault(f"{MUNICIPALITY}.clauses.{name}", UNSET_CLAUSE)
    return examples


def shown(value: Any) -> str:
    """A value as the reference prints it: leaves as the template gets them, structures named."""
    if isinstance(value, dict):
        return "(grupa)"
    if isinstance(value, list):
        return f"(saraksts, {len(value)})"
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)
    return text if len(text) <= MAX_EXAMPLE else text[: MAX_EXAMPLE - 1] + "…"


def reference_docx(kind: DocumentKind) -> bytes:
    """The reference of ``kind`` as a DOCX: its variables with example values, and the filters."""
    sample = json.loads(kind.sample_files()[0].read_text(encoding="utf-8"))
    examples = {
        **municipality_examples(),
        **example_values(kind.schema().load(sample), kind.context),
    }
    document = Document()
    document.core_properties.created = dt.datetime(2020, 1, 1)
    document.add_heading(f"{kind.title}: veidnes mainīgie un filtri", level=1)
    document.add_paragraph(
        f"Veidne saņem datus ar nosaukumu „{kind.context}”. Mainīgo raksta {{{{ ceļš }}}}, sarakstu — "
        f"{{% for s in {kind.context}.… %}} … {{% endfor %}}; [] ceļā nozīmē saraksta rindu. Piemēri ņemti "
        f"no parauga {kind.samples[0]}."
    )
    document.add_paragraph(
        "Katra veidne redz arī pašvaldības iestatījumus ar nosaukumu „municipality”: nosaukumu, rekvizītus, "
        "parakstītājus, logotipu un pašvaldības punktus. Logotipu drukā atsevišķā rindkopā ar "
        "{{r municipality.logo }}, punktu — tikai tad, ja tas iestatīts: "
        "{%p if municipality.clauses.complaints %} … {%p endif %}. "
        "Piemēri ņemti no Bauskas novada iestatījumiem."
    )
    table = document.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Mainīgais", "Piemērs no parauga"
    for path in sorted(known_paths(kind.context, kind.schema) - {kind.context, MUNICIPALITY}):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = path, shown(examples.get(path))
    document.add_heading("Filtri", level=2)
    filters = document.add_table(rows=1, cols=3)
    filters.style = "Table Grid"
    for cell, text in zip(filters.rows[0].cells, ("Filtrs", "Ko dara", "Piemērs → rezultāts"), strict=True):
        cell.text = text
    for name in formatting.FILTERS:
        meaning, call, example = FILTER_EXAMPLES[name]
        cells = filters.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = name, meaning, f"{call} → {example()}"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
