"""Personal data at rest: service.store.sealing's keyring and key file, sealing, search tags, normalising."""

from __future__ import annotations

import ast
import datetime as dt
import json
import stat
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.store import sealing
from service.store.sealing import (
    KeyFileError,
    Keyring,
    SealBroken,
    Sealer,
    name_prefixes,
    normal_name,
    normal_personal_code,
    search_prefix,
    start_keyring,
)

KEYRING = Keyring.generate()
SEALER = Sealer(KEYRING)
PLAN = {"client": {"name": "Ēriks Gailītis", "code": "150385-12346"}, "goals": "Iemācīties gatavot ēst"}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- sealing ------------------------------------------------------------------------------------------


def test_values_open_where_they_were_sealed():
    text = "Ķirse, Ģertrūde: dzīvo viena, Liepājā".encode()
    blob = SEALER.seal(text, "clients:7")
    assert SEALER.open(blob, "clients:7") == text
    assert text not in blob and blob[:1] == b"\x01" and blob[1:5].hex() == KEYRING.active.id
    assert len(blob) == 1 + 4 + 12 + len(text) + 16
    assert SEALER.seal(text, "clients:7") != blob  # a fresh nonce every time


def test_json_round_trips_as_typed_with_decimals_and_dates_as_strings():
    assert SEALER.open_json(SEALER.seal_json(PLAN, "plans:3"), "plans:3") == PLAN
    value = {"price": Decimal("12.50"), "day": dt.date(2020, 9, 15), "at": dt.datetime(2020, 9, 15, 8, 30)}
    assert SEALER.open_json(SEALER.seal_json(value, "plans:3"), "plans:3") == {
        "price": "12.50",
        "day": "2020-09-15",
        "at": "2020-09-15T08:30:00",
    }


def test_json_is_compact_sorted_and_keeps_latvian_letters():
    blob = SEALER.seal_json({"b": "ā", "a": [1, None, True]}, "plans:3")
    assert SEALER.open(blob, "plans:3") == '{"a":[1,null,true],"b":"ā"}'.encode()
    with pytest.raises(TypeError, match="set"):
        SEALER.seal_json({"a": {1}}, "plans:3")


def test_a_value_moved_to_another_row_or_column_does_not_open():
    blob = SEALER.seal(b"Ozola iela 5", "clients:7:address")
    for context in ("clients:8:address", "clients:7:name", ""):
        with pytest.raises(SealBroken, match="another place"):
            SEALER.open(blob, context)


@pytest.mark.parametrize("place", [0, 1, 5, 17, -1])
def test_a_damaged_value_does_not_open(place):
    blob = bytearray(SEALER.seal(b"Ozola iela 5", "clients:7"))
    blob[place] ^= 0x01
    with pytest.raises(SealBroken):
        SEALER.open(bytes(blob), "clients:7")


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x02" + bytes(40), bytes(40)])
def test_what_is_no_sealed_value_does_not_open(blob):
    with pytest.raises(SealBroken, match="not a sealed value"):
        SEALER.open(blob, "clients:7")


def test_a_value_sealed_with_an_unknown_key_does_not_open():
    blob = SEALER.seal(b"Ozola iela 5", "clients:7")
    with pytest.raises(SealBroken, match=f"key {KEYRING.active.id}"):
        Sealer(Keyring.generate()).open(blob, "clients:7")


@settings(derandomize=True, max_examples=200, deadline=None)
@given(text=st.text(), context=st.text())
def test_any_text_round_trips(text, context):
    assert SEALER.open(SEALER.seal(text.encode(), context), context).decode() == text
    assert SEALER.open_json(SEALER.seal_json(text, context), context) == text


# --- rotation -----------------------------------------------------------------------------------------


def test_rotation_opens_old_values_seals_new_ones_with_the_new_key_and_retiring_drops_the_old():
    old = SEALER.seal(b"Ozola iela 5", "clients:7")
    rotated = KEYRING.rotated()
    assert rotated.keys[1:] == KEYRING.keys and rotated.active.id != KEYRING.active.id
    sealer = Sealer(rotated)
    assert sealer.open(old, "clients:7") == b"Ozola iela 5"
    assert sealer.needs_reseal(old) and not SEALER.needs_reseal(old)
    new = sealer.seal(sealer.open(old, "clients:7"), "clients:7")
    assert not sealer.needs_reseal(new)
    retired = Sealer(rotated.retired())
    assert retired.open(new, "clients:7") == b"Ozola iela 5"
    with pytest.raises(SealBroken, match="does not hold"):
        retired.open(old, "clients:7")


# --- the key file -------------------------------------------------------------------------------------


def test_the_key_file_is_private_from_the_start_and_reads_back(tmp_path):
    path = tmp_path / "instance" / "data-keys.json"
    keyring = KEYRING.rotated()
    keyring.save(path)
    assert mode_of(path) == 0o600
    assert Keyring.load(path) == keyring
    assert [entry["id"] for entry in json.loads(path.read_text())["keys"]] == [key.id for key in keyring.keys]
    assert sorted(p.name for p in path.parent.iterdir()) == ["data-keys.json"]  # no temporary file left


def test_saving_without_replacing_never_overwrites(tmp_path):
    path = tmp_path / "data-keys.json"
    KEYRING.save(path)
    with pytest.raises(FileExistsError):
        Keyring.generate().save(path, replace=False)
    assert Keyring.load(path) == KEYRING
    assert [p.name for p in tmp_path.iterdir()] == ["data-keys.json"]


def test_a_key_file_others_may_read_is_refused(tmp_path):
    path = tmp_path / "data-keys.json"
    KEYRING.save(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match=f"{path}.*-rw-r--r--.*chmod 600 {path}"):
        Keyring.load(path)


def test_a_missing_or_unreadable_key_file_is_named(tmp_path):
    with pytest.raises(KeyFileError, match=f"{tmp_path / 'none.json'}: the key file does not exist"):
        Keyring.load(tmp_path / "none.json")
    folder = tmp_path / "folder"
    folder.mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match=f"{folder}: the key file cannot be read"):
        Keyring.load(folder)


GOOD_KEY = "A" * 43 + "="


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "Expecting value"),
        ("[]", "expected"),
        ('{"keys": "x"}', "expected"),
        ('{"keys": []}', "at least one key"),
        ('{"keys": [{"id": "0011aabb", "key": "AAAA"}]}', "3 bytes, not 32"),
        ('{"keys": [{"id": "0011aabb", "key": "A*A="}]}', "not URL-safe base64"),
        ('{"keys": [{"id": "0011aabb", "key": 5}]}', "not a text"),
        (f'{{"keys": [{{"id": "0011AABB", "key": "{GOOD_KEY}"}}]}}', "not 8 lowercase hex"),
        (f'{{"keys": [{{"key": "{GOOD_KEY}"}}]}}', "'None' is not 8"),
        (json.dumps({"keys": [{"id": "0011aabb", "key": GOOD_KEY}] * 2}), "same id"),
    ],
)
def test_a_malformed_key_file_says_what_is_wrong(tmp_path, content, reason):
    path = tmp_path / "data-keys.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=f"{path}: not a usable key file: .*{reason}"):
        Keyring.load(path)


def test_a_key_never_shows_its_secret():
    assert KEYRING.active.secret.hex() not in repr(KEYRING)
    assert KEYRING.active.id in repr(KEYRING)


# --- at start-up --------------------------------------------------------------------------------------


def test_the_default_key_file_is_made_on_the_first_start_and_kept_after(tmp_path):
    first = start_keyring(tmp_path, None, sealed_data=False)
    path = tmp_path / "data-keys.json"
    assert mode_of(path) == 0o600
    assert start_keyring(tmp_path, None, sealed_data=True) == first == Keyring.load(path)


def test_a_missing_key_file_over_sealed_data_stops_the_start(tmp_path):
    with pytest.raises(KeyFileError, match="holds sealed data; restore the key file from its backup"):
        start_keyring(tmp_path, None, sealed_data=True)
    assert list(tmp_path.iterdir()) == []


def test_a_configured_key_file_is_never_made(tmp_path):
    configured = tmp_path / "keys" / "veidlapas.json"
    with pytest.raises(KeyFileError, match=f"{configured}: the key file does not exist"):
        start_keyring(tmp_path, configured, sealed_data=False)
    KEYRING.save(configured)
    assert start_keyring(tmp_path, configured, sealed_data=True) == KEYRING
    assert not (tmp_path / "data-keys.json").exists()


def test_a_start_that_loses_the_race_takes_the_other_process_key(tmp_path, monkeypatch):
    """Two processes starting together: the one whose exclusive write fails loads the file the other wrote."""
    theirs = Keyring.generate()

    def generate_after_the_other_process(cls):
        theirs.save(tmp_path / "data-keys.json")
        return KEYRING

    monkeypatch.setattr(Keyring, "generate", classmethod(generate_after_the_other_process))
    assert start_keyring(tmp_path, None, sealed_data=False) == theirs


# --- search tags --------------------------------------------------------------------------------------


def test_tags_are_stable_under_one_key_and_change_with_the_key_and_the_purpose(tmp_path):
    tag = SEALER.tag("personal_code", "15038512346")
    assert len(tag) == 32 and int(tag, 16) >= 0
    KEYRING.save(tmp_path / "keys.json")
    assert Sealer(Keyring.load(tmp_path / "keys.json")).tag("personal_code", "15038512346") == tag
    assert Sealer(KEYRING.rotated()).tag("personal_code", "15038512346") != tag
    assert SEALER.tag("name", "15038512346") != tag
    assert SEALER.tag("personal_code", "15038512347") != tag
    with pytest.raises(ValueError, match="NUL"):
        SEALER.tag("a\x00b", "c")


# --- normalising --------------------------------------------------------------------------------------


def test_a_personal_code_is_its_digits():
    assert normal_personal_code("150385-12346") == normal_personal_code("15038512346") == "15038512346"
    assert normal_personal_code("٣٢١") == ""  # digits of other scripts are no part of a code


def test_names_lose_case_diacritics_and_everything_but_letters():
    assert normal_name("ĶIRSE") == normal_name("Ķirse") == normal_name("Kirse") == "kirse"
    assert normal_name("Ēriks  O'Gailītis-Bērziņš 3.") == "eriks o gailitis berzins"
    assert normal_name("Straße") == "strasse"
    assert normal_name(" 12 - ") == ""


def test_prefixes_of_a_name_and_what_a_search_looks_for():
    assert name_prefixes("Ēriks Gailītis") == {
        "eri", "erik", "eriks", "gai", "gail", "gaili", "gailit", "gailiti", "gailitis",
    }
    assert search_prefix("Kirse") == search_prefix("Ķirse") == "kirse"
    assert search_prefix("Ķir") in name_prefixes("Kirse")
    assert search_prefix("Ēr") is None and search_prefix("") is None and name_prefixes("Ēr") == set()
    long = "Ābeļkalniņš" * 2 + " Ozoliņa"  # 22 letters, then 7
    assert max(map(len, name_prefixes(long))) == 20 and search_prefix(long) in name_prefixes(long)
    assert name_prefixes("Ēriks", shortest=4, longest=4) == {"erik"}


# --- the module's place ---------------------------------------------------------------------------------


def test_the_module_imports_only_the_standard_library_cryptography_and_service_files():
    tree = ast.parse(Path(sealing.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    outside = {
        name
        for name in imported
        if name.split(".")[0] not in sys.stdlib_module_names | {"__future__", "cryptography"}
        and name != "service.files"
    }
    assert outside == set()
