"""What a pack holds, in its fixed order: the documents, their file names and their bookmarks.

Order: the cover letter, the reimbursement request, then client by client (in the request's order) the
client's detail followed by the delivery acts of the client's agreements. ``summary.xlsx``, ``pack.pdf``
and ``manifest.json`` follow the documents. Every name comes through ``safe_member_name``, so whatever a
client's name holds, the member stays inside its folder.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from service.packs.archive import safe_member_name

CLIENTS_FOLDER = "Klienti"
#: The kinds of document a pack holds.
KINDS_IN_PACK = ("cover-letter", "reimbursement-request", "client-detail", "delivery-act")


@dataclass(frozen=True)
class Document:
    """One document of a pack.

    ``kind`` is a registry kind; ``agreements`` narrows the request to one client's agreements (a
    client detail); ``act`` is the index of a delivery act in the pack's acts.
    """

    key: str
    kind: str
    member: str
    bookmarks: tuple[str, ...]
    agreements: tuple[str, ...] = ()
    act: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(**{**data, "bookmarks": tuple(data["bookmarks"]), "agreements": tuple(data["agreements"])})


def documents(request: dict[str, Any], acts: list[dict[str, Any]]) -> list[Document]:
    """The documents of a pack for a loaded request and its loaded delivery acts, in pack order."""
    number = request["number"]
    found = [
        Document("cover", "cover-letter", safe_member_name(f"01 Pavadvestule {number}"), ("Pavadvēstule",)),
        Document(
            "request",
            "reimbursement-request",
            safe_member_name(f"02 Kompensacijas pieprasijums {number}"),
            (f"Izmaksu kompensācijas pieprasījums Nr. {number}",),
        ),
    ]
    acts_by_agreement: dict[str, list[int]] = defaultdict(list)
    for index, act in enumerate(acts):
        acts_by_agreement[act["agreement"]["number"]].append(index)
    width = len(str(len(request["by_client"])))
    for position, client in enumerate(request["by_client"], start=1):
        title = client_title(position, client)
        folder = safe_member_name(
            f"{position:0{width}d} {' '.join(client['plans'])} {client.get('name') or ''}"
        )
        found.append(
            Document(
                f"client-{position}",
                "client-detail",
                safe_member_name(CLIENTS_FOLDER, folder, "Izklasts"),
                (title, "Pakalpojumu izklāsts"),
                agreements=tuple(client["agreements"]),
            )
        )
        for number_ in client["agreements"]:
            for index in acts_by_agreement.get(number_, []):
                act = acts[index]
                found.append(
                    Document(
                        f"act-{index + 1}",
                        "delivery-act",
                        safe_member_name(CLIENTS_FOLDER, folder, f"Akts {act['number']}"),
                        (title, f"Akts Nr. {act['number']} ({act['month'].start:%m.%Y})"),
                        act=index,
                    )
                )
    return found


def client_title(position: int, client: dict[str, Any]) -> str:
    """A client's bookmark: position, name (or personal code) and plan numbers.

    >>> client_title(3, {"name": "Dārta Ķeņģe", "personal_code": "150385-16347", "plans": ["IAP-1"]})
    '3. Dārta Ķeņģe (IAP-1)'
    """
    who = client.get("name") or client["personal_code"]
    return f"{position}. {who} ({', '.join(client['plans'])})"


def batches(found: list[Document], size: int) -> list[list[Document]]:
    """The documents in parts of at most ``size``; a part is the unit of work a worker takes."""
    return [found[start : start + size] for start in range(0, len(found), size)]
