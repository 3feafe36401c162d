"""The ``label`` filter: Latvian wording of schema codes, read from ``templates_lv/labels.toml``."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The standard labels, beside the standard templates (a municipality's templates folder has its own).
STANDARD_LABELS = Path(__file__).resolve().parents[2] / "templates_lv" / "labels.toml"


class LabelError(ValueError):
    """The labels file is missing, broken, or lacks a label a template asks for."""


def load_labels(path: Path) -> dict[str, dict[str, str]]:
    """Read the labels file: groups of ``code = "Latvian wording"``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LabelError(f"{path}: {exc}") from None
    for group, labels in data.items():
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise LabelError(f"{path}: [{group}] must map codes to text")
    return data


def label_filter(labels: dict[str, dict[str, str]]) -> Callable[[Any, str], str]:
    """A Jinja filter: ``{{ code|label("group") }}``; booleans read as "true"/"false", None as ""."""

    def label(value: Any, group: str) -> str:
        if value is None:
            return ""
        key = str(value).lower() if isinstance(value, bool) else str(value)
        try:
            return labels[group][key]
        except KeyError:
            raise LabelError(f"labels.toml has no label for {key!r} in [{group}]") from None

    return label
