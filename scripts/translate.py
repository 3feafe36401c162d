"""Fill empty Latvian translations in messages.po from a JSON file {msgid: msgstr}.

Usage: .venv/bin/python scripts/translate.py translations.json
Keeps every existing translation; reports ids still untranslated.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parent.parent / "service/translations/lv/LC_MESSAGES/messages.po"


def main(source: str) -> None:
    new = json.loads(Path(source).read_text(encoding="utf-8"))
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if message.id and not message.string and message.id in new:
            message.string = new[message.id]
    with CATALOG.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    print("untranslated:", missing or "none")


if __name__ == "__main__":
    main(sys.argv[1])
