"""Files: writing them so that a reader never sees half of one, and naming them safely."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_file(target: Path) -> Iterator[IO[bytes]]:
    """A file to write ``target`` through: a temporary file beside it, renamed into place when the block
    ends normally and removed when it raises, so ``target`` is either the old file or the whole new one."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w+b") as out:  # readable too: a ZIP appended to reads itself
            yield out
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` via a temporary file beside it and a rename."""
    with atomic_file(target) as out:
        out.write(data)


# --- file names ---------------------------------------------------------------------------------------

# Letters that NFKD does not split into a base letter and combining marks.
_FOLD = str.maketrans(
    {"ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D"}
    | {"þ": "th", "Þ": "TH", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i"}
)
_SEPARATORS = re.compile(r"[\\/]+")
_REFUSED_BY_WINDOWS = re.compile(r'[:*?"<>|]+')
_NOT_ASCII_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_DASHES = re.compile(r"-{2,}")
_DOTS = re.compile(r"\.{2,}")
# Device names Windows refuses as file names, with or without an extension.
_DEVICE = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9]|lpt[0-9]|conin\$|conout\$)(\..*)?$")


def safe_file_name(
    text: str, *, ascii_only: bool = False, max_length: int = 80, empty: str = "dokuments"
) -> str:
    """A file name (or one part of a path) that shows what it is wherever it is saved or unpacked.

    Format characters (Unicode Cf: bidi controls, zero-width characters, soft hyphens, BOM) are dropped:
    U+202E would show "Akts 1\\u202efdp.exe" as "Akts 1exe.pdf". Every other unprintable character
    (controls, line separators, odd spaces) counts as a space; path separators become "-", characters
    Windows refuses are dropped, spaces are collapsed, ".." becomes ".", and the name never starts or
    ends with a space, "." or "-", is never a Windows device name, is at most ``max_length`` characters
    (keeping a short extension) and is never empty (``empty``). With ``ascii_only`` (ZIP members) letters
    are folded to ASCII and every run of other characters becomes one "-".

    >>> safe_file_name('IAP-2020/014 "x"'), safe_file_name("Akts 1\\u202efdp.exe"), safe_file_name("\\u200b")
    ('IAP-2020-014 x', 'Akts 1fdp.exe', 'dokuments')
    >>> safe_file_name("Ģirts Ķēniņš\\u00ad\\tā", ascii_only=True), safe_file_name("CON.pdf")
    ('Girts-Kenins-a', '_CON.pdf')
    """
    text = "".join(_visible(char) for char in text)
    text = _SEPARATORS.sub("-", text)
    if ascii_only:
        text = unicodedata.normalize("NFKD", text.translate(_FOLD))
        text = "".join(char for char in text if not unicodedata.combining(char)).translate(_FOLD)
        text = _DASHES.sub("-", _NOT_ASCII_NAME.sub("-", text))
    else:
        text = " ".join(_REFUSED_BY_WINDOWS.sub("", text).split())
    text = _DOTS.sub(".", text).strip(" .-")
    if _DEVICE.match(text):
        text = "_" + text
    return _shortened(text, max_length) or empty


def _visible(char: str) -> str:
    """A character as a file name keeps it: printable as it is, a format character dropped, else a space."""
    if char.isprintable():
        return char
    return "" if unicodedata.category(char) == "Cf" else " "


def _shortened(text: str, max_length: int) -> str:
    if len(text) <= max_length:
        return text
    stem, dot, suffix = text.rpartition(".")
    if dot and stem and len(suffix) <= 10:
        return stem[: max_length - len(suffix) - 1].rstrip(" .-") + "." + suffix
    return text[:max_length].rstrip(" .-")
