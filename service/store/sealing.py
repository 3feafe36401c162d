"""Personal data at rest: values sealed with AES-256-GCM, and keyed search tags (HMAC) to find them by.

A :class:`Keyring` is read from a key file readable by its owner only; its first key seals, the others
only open, so a rotation can re-seal old values. A :class:`Sealer` seals bytes or JSON for one place (the
``context``, e.g. ``"clients:42"``, bound to the value as associated data) and makes search tags; the
normalisation helpers below say what a tag is made of. This module knows nothing of Flask or the database.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import tempfile
import unicodedata
from collections.abc import Container
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: The key file's name in the instance folder when ``VEIDLAPAS_DATA_KEY_FILE`` is not set.
DEFAULT_KEY_FILE = "data-keys.json"

VERSION = b"\x01"
KEY_BYTES = 32
NONCE_BYTES = 12
AUTH_TAG_BYTES = 16
_KEY_ID = re.compile(r"[0-9a-f]{8}")
_HEADER = len(VERSION) + 4
SEARCH_INFO = b"veidlapas search tags"
#: A name search needs at least ``SHORTEST`` letters; tags are kept for prefixes up to ``LONGEST``.
SHORTEST = 3
LONGEST = 20


class KeyFileError(ValueError):
    """The key file cannot be used; the message names the file and says what to do."""


class SealBroken(ValueError):
    """A sealed value does not open: an unknown key, another place's value, or damaged bytes."""


# --- keys ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Key:
    """One data key: an id (8 hex characters, carried by every value it seals) and 32 secret bytes."""

    id: str
    secret: bytes = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.fullmatch(self.id):
            raise ValueError(f"key id {self.id!r} is not 8 lowercase hex characters")
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"key {self.id} has {len(self.secret)} bytes, not {KEY_BYTES}")

    @classmethod
    def generate(cls, taken: Container[str] = ()) -> Key:
        """A fresh random key whose id is none of ``taken``."""
        while (key_id := secrets.token_hex(4)) in taken:
            pass
        return cls(key_id, secrets.token_bytes(KEY_BYTES))


@dataclasses.dataclass(frozen=True)
class Keyring:
    """Keys in order: the first (active) one seals new values, every one opens what it sealed."""

    keys: tuple[Key, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a keyring needs at least one key")
        if len({key.id for key in self.keys}) != len(self.keys):
            raise ValueError("two keys have the same id")

    @property
    def active(self) -> Key:
        return self.keys[0]

    @classmethod
    def generate(cls) -> Keyring:
        return cls((Key.generate(),))

    def rotated(self) -> Keyring:
        """A fresh active key in front of these, which still open what they sealed."""
        return Keyring((Key.generate({key.id for key in self.keys}), *self.keys))

    def retired(self) -> Keyring:
        """The active key alone, once everything is sealed with it."""
        return Keyring((self.active,))

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """The keyring in the key file at ``path``, or :class:`KeyFileError` saying what is wrong with it."""
        try:
            with open(path, "rb") as file:
                mode = os.fstat(file.fileno()).st_mode
                if mode & 0o077:
                    raise KeyFileError(
                        f"{path}: the key file is open to its group or to others (mode "
                        f"{stat.filemode(mode)}); make it private: chmod 600 {path}"
                    )
                data = file.read()
        except FileNotFoundError:
            raise KeyFileError(f"{path}: the key file does not exist") from None
        except OSError as exc:
            raise KeyFileError(f"{path}: the key file cannot be read ({exc.strerror})") from None
        try:
            return cls._from_json(data)
        except ValueError as exc:
            raise KeyFileError(f"{path}: not a usable key file: {exc}") from None

    @classmethod
    def _from_json(cls, data: bytes) -> Keyring:
        document = json.loads(data)
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise ValueError('expected {"keys": [{"id": ..., "key": ...}, ...]}')
        return cls(tuple(Key(str(entry.get("id")), _secret(entry.get("key"))) for entry in entries))

    def save(self, path: Path, *, replace: bool = True) -> None:
        """Write the key file at ``path`` (mode 0600 from the start), whole or not at all; with
        ``replace=False`` only when no file is there (:class:`FileExistsError` otherwise)."""
        document = {"keys": [{"id": key.id, "key": _text(key.secret)} for key in self.keys]}
        _write_private(Path(path), json.dumps(document, indent=2).encode() + b"\n", replace=replace)


def _secret(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("a key is not a text")
    try:
        return base64.b64decode(text, altchars=b"-_", validate=True)
    except binascii.Error:
        raise ValueError("a key is not URL-safe base64") from None


def _text(secret: bytes) -> str:
    return base64.urlsafe_b64encode(secret).decode("ascii")


def _write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Write through a temporary file beside ``path`` (mkstemp creates it 0600), flushed to disk, then
    renamed over ``path``, or with ``replace=False`` linked to it, which fails if ``path`` exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def key_file_path(instance_path: str | Path, configured: Path | None) -> Path:
    """The key file: ``DATA_KEY_FILE`` when configured, else ``data-keys.json`` in the instance folder.

    >>> key_file_path("/srv/instance", None).as_posix(), key_file_path("/srv", Path("/keys/k.json")).name
    ('/srv/instance/data-keys.json', 'k.json')
    """
    return Path(configured) if configured else Path(instance_path) / DEFAULT_KEY_FILE


def start_keyring(instance_path: str | Path, configured: Path | None, *, sealed_data: bool) -> Keyring:
    """The keyring a starting service seals with. A configured key file must exist; the embedded default
    is created when missing, but only while no sealed data exists (``sealed_data``): a new key would never
    open old values. Two processes starting at once keep the one file the first of them wrote."""
    path = key_file_path(instance_path, configured)
    if not path.exists():
        if sealed_data:
            raise KeyFileError(
                f"{path}: the key file is missing, but the database holds sealed data; restore the key "
                "file from its backup (a new key would not open that data)"
            )
        if configured is None:
            with contextlib.suppress(FileExistsError):  # another process made it first: use that one
                Keyring.generate().save(path, replace=False)
    return Keyring.load(path)


# --- sealing ------------------------------------------------------------------------------------------


class Sealer:
    """Seals and opens values with a keyring's keys, and makes search tags with its active key."""

    def __init__(self, keyring: Keyring) -> None:
        self._ciphers = {bytes.fromhex(key.id): AESGCM(key.secret) for key in keyring.keys}
        self._active = bytes.fromhex(keyring.active.id)
        derive = HKDF(hashes.SHA256(), length=32, salt=None, info=SEARCH_INFO)
        search_key = derive.derive(keyring.active.secret)
        self._search = hmac.new(search_key, digestmod=hashlib.sha256)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """``plaintext`` sealed for ``context``: version byte, key id (4 bytes), nonce (12 bytes),
        ciphertext and tag. The header and the context are associated data, so the value opens only where
        it was sealed."""
        header = VERSION + self._active
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._active].encrypt(nonce, plaintext, _associated(header, context))
        return header + nonce + sealed

    def open(self, blob: bytes, context: str) -> bytes:
        """The plaintext of a value sealed for ``context``, or :class:`SealBroken`."""
        key_id = _key_id(blob)
        if (cipher := self._ciphers.get(key_id)) is None:
            raise SealBroken(f"sealed with key {key_id.hex()}, which the keyring does not hold")
        nonce = blob[_HEADER : _HEADER + NONCE_BYTES]
        try:
            return cipher.decrypt(nonce, blob[_HEADER + NONCE_BYTES :], _associated(blob[:_HEADER], context))
        except InvalidTag:
            raise SealBroken(f"damaged, or sealed for another place than {context!r}") from None

    def seal_json(self, value: Any, context: str) -> bytes:
        """``value`` as compact JSON (sorted keys, UTF-8), sealed; ``Decimal`` and dates become strings."""
        text = json.dumps(
            value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_plain
        )
        return self.seal(text.encode("utf-8"), context)

    def open_json(self, blob: bytes, context: str) -> Any:
        return json.loads(self.open(blob, context))

    def needs_reseal(self, blob: bytes) -> bool:
        """Whether ``blob`` was sealed with a key other than the active one."""
        return _key_id(blob) != self._active

    def tag(self, purpose: str, text: str) -> str:
        """A search tag: HMAC-SHA256 of ``purpose``, NUL, ``text`` under a key derived from the active key
        (HKDF), 32 hex characters. Equal for equal input under one active key; purposes never collide."""
        if "\x00" in purpose:
            raise ValueError("a tag's purpose holds no NUL")
        mac = self._search.copy()
        mac.update(f"{purpose}\x00{text}".encode())
        return mac.hexdigest()[:32]


def _key_id(blob: bytes) -> bytes:
    if len(blob) < _HEADER + NONCE_BYTES + AUTH_TAG_BYTES or blob[:1] != VERSION:
        raise SealBroken("not a sealed value of a known version")
    return blob[1:_HEADER]


def _associated(header: bytes, context: str) -> bytes:
    return header + context.encode("utf-8")


def _plain(value: Any) -> str:
    """``json.dumps``'s ``default``: the strings of the values JSON has no type for."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


# --- what search tags are made of ---------------------------------------------------------------------


def normal_personal_code(text: str) -> str:
    """The personal code's digits, as its tag is made of them.

    >>> normal_personal_code("150385-12346"), normal_personal_code(" 32 1234-56789 ")
    ('15038512346', '32123456789')
    """
    return re.sub(r"[^0-9]", "", text)


def normal_name(text: str) -> str:
    """A name case-folded, without diacritics, of letters only: every other character separates words.

    >>> normal_name("Ķirse"), normal_name("  ĀČĒĢĪĶĻŅŠŪŽ  āčēģīķļņšūž "), normal_name("Anna-Marija Bērziņa")
    ('kirse', 'acegiklnsuz acegiklnsuz', 'anna marija berzina')
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(
        char if char.isalpha() else " " for char in decomposed if not unicodedata.combining(char)
    )
    return " ".join(letters.split())


def name_prefixes(name: str, shortest: int = SHORTEST, longest: int = LONGEST) -> set[str]:
    """Every prefix, ``shortest`` to ``longest`` letters, of every word of the normalised name; a word
    shorter than ``shortest`` gives none (so a search needs ``shortest`` letters).

    >>> sorted(name_prefixes("Ēriks Gailītis"))
    ['eri', 'erik', 'eriks', 'gai', 'gail', 'gaili', 'gailit', 'gailiti', 'gailitis']
    >>> name_prefixes("Li Bo")
    set()
    """
    return {
        word[:end]
        for word in normal_name(name).split()
        for end in range(shortest, min(len(word), longest) + 1)
    }


def search_prefix(query: str, shortest: int = SHORTEST, longest: int = LONGEST) -> str | None:
    """What a name search looks for: the normalised query's first word cut to ``longest`` letters, or None
    when it has fewer than ``shortest``.

    >>> search_prefix(" Ķir "), search_prefix("Ki"), search_prefix("Vārds" * 5 + " Bērziņa")
    ('kir', None, 'vardsvardsvardsvards')
    """
    words = normal_name(query).split()
    if not words or len(words[0]) < shortest:
        return None
    return words[0][:longest]
