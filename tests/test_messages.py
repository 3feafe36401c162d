"""The message catalogs: every code has a Latvian message with the same parameters."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from schemas.errors import MESSAGES, problem
from service import i18n
from service.api.problems import DETAILS, TITLES

ROOT = Path(__file__).resolve().parent.parent


def catalog(lang: str):
    with (i18n.CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def marked_messages() -> set[str]:
    found = set()
    for folder in ("schemas", "service"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords={"N_": None}
        ):
            found.add(message)
    return found


def test_every_marked_message_is_in_the_latvian_catalog():
    latvian = {m.id for m in catalog("lv") if m.id}
    assert marked_messages() - latvian == set(), "run `make messages` and translate the new ids"


@pytest.mark.parametrize("message", sorted({*MESSAGES.values(), *TITLES.values(), *DETAILS.values()}))
def test_latvian_translation_exists_and_keeps_parameters(message):
    entry = catalog("lv").get(message)
    assert entry is not None and entry.string, f"no Latvian for {message!r}"
    assert not entry.fuzzy
    assert placeholders(entry.string) <= placeholders(message)


def test_compiled_catalog_translates_a_problem_with_parameters():
    code, text = i18n.translate(problem("text.too_long", max=200), "lv")
    assert (code, text) == ("text.too_long", "Drīkst būt ne vairāk kā 200 rakstzīmes.")
    assert (
        i18n.translate(problem("text.too_long", max=200), "en")[1] == "Must be at most 200 characters long."
    )


def test_uncoded_message_is_reported_as_invalid():
    assert i18n.translate("Some marshmallow text", "lv") == ("invalid", "Vērtība nav derīga.")
