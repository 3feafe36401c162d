"""Kinds of background job: what each step of a job does, keyed by the ``jobs.kind`` column.

A kind says how its job's input splits into parts, how one part is made and how the parts become the
result; :mod:`service.jobs.runner` does everything around that (state, progress, attempts, idempotency,
failure, cancellation) the same way for every kind. A kind registers itself when its module is imported
(:func:`register`); worker processes import the modules the settings name (:func:`load`), so this
package never imports a kind.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, NamedTuple, TypeVar

from sqlalchemy.orm import Session

from service.jobs.storage import JobFiles
from service.store.models import Job

_KINDS: dict[str, type[JobKind]] = {}
K = TypeVar("K", bound="type[JobKind]")


class Plan(NamedTuple):
    """How big a job is: the units it makes (documents, shown as done/total) and the parts they come in."""

    total: int
    parts: int


class StepFailed(Exception):
    """A step cannot be done for a known reason: the job fails with this coded problem."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class JobKind:
    """The kind-specific work of a job's three steps.

    One instance per process and kind, made on first use from the kind's plain settings and shared by
    the threads of that process: what it caches, it guards. Every step may run more than once for the
    same job and part (a redelivered task, a resumed job) and must give the same result; a known failure
    is raised as :class:`StepFailed`, anything else fails the job as unexpected.
    """

    name: ClassVar[str]
    #: The finished file in the job's folder, and how it is served.
    result_file: ClassVar[str]
    media_type: ClassVar[str]
    #: The job's step while its parts are made.
    parts_step: ClassVar[str] = "parts"

    @classmethod
    def settings(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """The plain settings (JSON values) an instance needs in any process, from the app's configuration."""
        return {}

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def plan(self, files: JobFiles) -> Plan:
        """Read the job's input (``files.input``) and say how many units and parts it makes."""
        raise NotImplementedError

    def make_part(self, files: JobFiles, part: int) -> int:
        """Make one part (skipping what an earlier run made); the units it holds."""
        raise NotImplementedError

    def assemble(self, files: JobFiles, step: Callable[[str], None]) -> None:
        """Write ``files.result`` from the parts; ``step`` names each stage as it begins."""
        raise NotImplementedError

    def record(self, session: Session, job: Job, files: JobFiles) -> None:
        """Record what the finished job made, in the transaction that marks it succeeded (nothing here)."""

    def close(self) -> None:
        """Stop what the instance started in this process (converters, pools)."""


def register(kind: K) -> K:
    """Make ``kind`` known by its name (its module does this when imported)."""
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> type[JobKind]:
    """The kind named ``name``; KeyError when no imported module registered it."""
    return _KINDS[name]


def load(modules: Iterable[str]) -> None:
    """Import the modules that register the kinds (in a worker process that has not yet)."""
    for module in modules:
        importlib.import_module(module)
