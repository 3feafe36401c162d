"""The message catalogs: every code has a Latvian message with the same parameters."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from schemas.errors import MESSAGES, problem
from service import i18n
from service.api.problems import DETAILS, TITLES
from service.forms.uploads import UploadRejected

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


CODE = re.compile(r"(upload|table|form)\.[a-z_]+")


def python_sources() -> list[Path]:
    return sorted(
        path
        for folder in ("schemas", "service")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    )


def string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_every_upload_table_and_form_code_in_the_code_has_a_message():
    used = {text for path in python_sources() for text in string_constants(path) if CODE.fullmatch(text)}
    assert {"upload.zip_bomb", "table.macros", "form.encrypted"} <= used  # the scan finds codes
    assert used - MESSAGES.keys() == set()


def text_of(node: ast.expr) -> str | None:
    """The text of ``"..."`` or ``N_("...")``."""
    if isinstance(node, ast.Call) and node.args:
        node = node.args[0]
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def message_dictionaries(path: Path) -> list[int]:
    """Lines of dict literals that map error codes to sentences: message catalogues."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            messages = [
                key
                for key, value in zip(node.keys, node.values, strict=True)
                if key is not None
                and re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", text_of(key) or "")
                and " " in (text_of(value) or "")
            ]
            if len(messages) >= 3:
                found.append(node.lineno)
    return found


def test_there_is_one_message_catalogue():
    catalogues = {
        path.relative_to(ROOT).as_posix(): lines
        for path in python_sources()
        if (lines := message_dictionaries(path))
    }
    assert list(catalogues) == ["schemas/errors.py"] and len(catalogues["schemas/errors.py"]) == 1


def test_an_upload_refusal_is_translated_like_any_problem():
    refused = UploadRejected("upload.zip_bomb", "a member compressed 1000:1")
    english = MESSAGES["upload.zip_bomb"]
    assert i18n.translate(refused.problem, "en") == ("upload.zip_bomb", english)
    assert i18n.translate(refused.problem, "lv") == ("upload.zip_bomb", catalog("lv").get(english).string)
    assert "1000:1" not in i18n.translate(refused.problem, "lv")[1]  # the detail is for logs, not for people


def test_an_upload_code_without_a_message_is_refused_at_once():
    with pytest.raises(ValueError, match=r"upload\.no_such_code"):
        UploadRejected("upload.no_such_code")


def test_a_latvian_date_ends_its_sentence_with_its_own_period():
    """Latvian dates end with a period (01.02.2020.): a message ending on one adds none ("…2020..")."""
    import datetime as dt

    for code, message in MESSAGES.items():
        names = placeholders(message)
        if not any(re.search(r"date|start|end|day", name) for name in names):
            continue
        dates = {
            name: dt.date(2020, 2, 1) if re.search(r"date|start|end|day", name) else "x" for name in names
        }
        try:
            _, text = i18n.translate(problem(code, **dates), "lv")
        except (KeyError, ValueError, TypeError):  # a parameter that is not a date
            continue
        assert "2020.." not in text, code
