"""A job's folder in the job storage: its input, the parts made so far and the finished result.

On one machine the storage is the instance folder; across machines it is a volume every web node and
worker mounts at the same path (``VEIDLAPAS_JOBS_DIR``). Every file is written atomically, so a worker
killed in the middle leaves no half-written document for the next one to trust.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from service.files import write_atomically


class JobFiles:
    """The files of one job under ``root/<job id>``; the result is named by the job's kind."""

    def __init__(self, root: Path, job_id: str, result_name: str = "result") -> None:
        if not job_id.isalnum():
            raise ValueError("a job id is letters and digits")
        self.job_id = job_id
        self.folder = Path(root) / job_id
        self.result_name = result_name

    @property
    def input(self) -> Path:
        return self.folder / "input.json"

    @property
    def result(self) -> Path:
        return self.folder / self.result_name

    def part(self, name: str) -> Path:
        """A file a part made (``client-7.docx``), before it goes into the result."""
        return self.folder / "parts" / name

    def write_input(self, data: bytes) -> None:
        write_atomically(self.input, data)

    def write_part(self, name: str, data: bytes) -> None:
        write_atomically(self.part(name), data)

    def remove_parts(self) -> None:
        shutil.rmtree(self.folder / "parts", ignore_errors=True)

    def remove(self) -> None:
        """Everything of the job: input, parts and result (personal data is not kept longer than needed)."""
        shutil.rmtree(self.folder, ignore_errors=True)
