"""A job kind with no pack in it, for tests/test_jobs.py: its parts write small files, its assembly joins
them. It runs in the local backend's worker processes, which import this module by name.

Input: ``{"words": [...], "per_part": 2, "fail": {"part": 1, "how": "known" | "crash"}}`` (``fail``
optional). Each file records which ``service.packs`` modules its process had loaded: none, if jobs/ is
generic.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from service.jobs.kinds import JobKind, Plan, StepFailed, register
from service.jobs.storage import JobFiles


def pack_modules() -> list[str]:
    return sorted(name for name in sys.modules if name.startswith("service.packs"))


@register
class ToyJob(JobKind):
    name = "toy"
    result_file = "toy.json"
    media_type = "application/json"
    parts_step = "words"

    def plan(self, files: JobFiles) -> Plan:
        data = _input(files)
        return Plan(len(data["words"]), -(-len(data["words"]) // data["per_part"]))

    def make_part(self, files: JobFiles, part: int) -> int:
        data = _input(files)
        fail = data.get("fail") or {}
        if fail.get("part") == part:
            if fail["how"] == "known":
                raise StepFailed("job.failed_document", document=f"toy {part}", reason="test")
            raise RuntimeError("a toy crash")
        words = data["words"][part * data["per_part"] : (part + 1) * data["per_part"]]
        made = {"words": words, "pack_modules": pack_modules()}
        files.write_part(f"{part}.json", json.dumps(made).encode())
        return len(words)

    def assemble(self, files: JobFiles, step: Callable[[str], None]) -> None:
        step("joining")
        parts = sorted((files.folder / "parts").glob("*.json"), key=lambda path: int(path.stem))
        made = [json.loads(path.read_text()) for path in parts]
        loaded = {name for part in made for name in part["pack_modules"]}
        result = {
            "text": " ".join(word for part in made for word in part["words"]),
            "pack_modules": sorted(loaded.union(pack_modules())),
        }
        files.result.write_text(json.dumps(result))


def _input(files: JobFiles) -> dict:
    return json.loads(files.input.read_text(encoding="utf-8"))
