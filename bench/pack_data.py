"""Pack orders of any size, made from the Bauska sample: each client a copy of one of its clients.

Each made client gets its own agreement and plan number, a new-format personal code with the
template client's birth date, and a Latvian name; it keeps its template's services and the first
``lines_per_client`` delivery lines.

An order larger than a JSON body may be (5 000 agreements, 20 000 lines) is sent as tables:
:func:`order_tables` writes its agreements and lines as the CSV files the API takes (``samples/pack-*.csv``).
"""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

from schemas.personal_code import birth_date
from service.packs.tables import AGREEMENTS, LINES, table_rows

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "pack-order-bauska-2020-09.json"
FIRST_NAMES = ("Ārija", "Dāvis", "Ilze", "Jānis", "Ķērsta", "Laima", "Ņikita", "Oļegs", "Rūta", "Žanis")
SURNAMES = ("Bērziņš", "Čakste", "Ēdelmane", "Gaiļa", "Īvāns", "Kļaviņa", "Ļaksa", "Šmits", "Ūdre", "Zīle")


def client_code(template: dict[str, Any], index: int) -> dict[str, str]:
    """A new-format personal code (no checksum, so any number of them) with the template's birth date."""
    born = template.get("birth_date") or birth_date(template["personal_code"]).isoformat()
    return {"personal_code": f"32{index:09d}", "birth_date": born}


def pack_order(clients: int, *, lines_per_client: int = 5, pdf: bool = False) -> dict[str, Any]:
    """An order with ``clients`` clients, about ``lines_per_client`` lines each."""
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    templates = sample["agreements"]
    lines_of = {
        a["number"]: [line for line in sample["lines"] if line["agreement"] == a["number"]] for a in templates
    }
    agreements, lines = [], []
    for index in range(clients):
        template = templates[index % len(templates)]
        agreement = copy.deepcopy(template)
        number = f"GEN-L-{index:05d}"
        agreement["number"] = number
        agreement["plan_number"] = f"GEN-IAP-{index:05d}"
        client = agreement["client"]
        client.update(client_code(template["client"], index))
        client["name"] = f"{FIRST_NAMES[index % 10]} {SURNAMES[index // 10 % 10]}"
        agreements.append(agreement)
        for line in lines_of[template["number"]][:lines_per_client]:
            lines.append({**line, "agreement": number})
    order = {k: v for k, v in sample.items() if k not in ("agreements", "lines")}
    return {**order, "pdf": pdf, "agreements": agreements, "lines": lines}


def order_tables(order: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The order's header (its JSON without the lists) and its agreements and lines as CSV files
    (";"-separated UTF-8 with a BOM, headers as in the input template), by their multipart field."""
    header = {key: value for key, value in order.items() if key not in ("agreements", "lines")}
    files = {}
    for table, key in ((AGREEMENTS, "agreements"), (LINES, "lines")):
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(column.header for column in table.columns)
        writer.writerows(table_rows(table, order[key]))
        files[key] = out.getvalue().encode("utf-8-sig")
    return header, files
