"""One-way structure: every module's imports go down the layers of docs/architecture.md, never up or round.

The layers are read from the table in the architecture document, so the document and the code cannot
drift apart. Imports are read from the source (inside functions too, where lazy imports hide); only
``if TYPE_CHECKING:`` blocks are left out, because they never run.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGES = ("service", "schemas")


def layer_table(text: str) -> dict[str, int]:
    """``{module prefix: layer}`` from the rows of the "Layers" table (``| 2 name | `a`, `b` |``).

    >>> layer_table("| layer | packages |\\n|---|---|\\n| 1 docs | `service.documents`, `service.forms` |")
    {'service.documents': 1, 'service.forms': 1}
    """
    layers = {}
    for row in re.finditer(r"^\| (\d+) [^|]*\| (.+) \|$", text, re.MULTILINE):
        for name in re.findall(r"`([a-z_.]+)`", row.group(2)):
            layers[name] = int(row.group(1))
    return layers


LAYERS = layer_table(ARCHITECTURE.read_text(encoding="utf-8"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules() -> dict[str, Path]:
    """Every module of the service and the schemas (migrations are Alembic's, not imported by name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


MODULES = source_modules()


def layer_of(module: str) -> int | None:
    """The layer of the longest prefix of ``module`` the table names."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if (prefix := ".".join(parts[:end])) in LAYERS:
            return LAYERS[prefix]
    return None


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def imports_of(path: Path, module: str) -> set[str]:
    """The project modules ``module`` imports; ``from package import name`` counts as ``package.name``
    when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name.split(".")[0] in PACKAGES}


GRAPH = {module: imports_of(path, module) for module, path in MODULES.items()}


def test_the_table_names_a_layer_for_every_module():
    assert [module for module in MODULES if layer_of(module) is None] == []


def test_imports_go_down_or_sideways_never_up():
    upward = [
        f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})"
        for module, targets in GRAPH.items()
        for target in sorted(targets)
        if layer_of(target) is not None and layer_of(target) > layer_of(module)
    ]
    assert upward == []


def test_no_modules_import_each_other_in_a_circle():
    assert find_cycle(GRAPH) is None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports, if there is one (depth-first search with a path stack).

    >>> find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}})
    ['a', 'b', 'c', 'a']
    >>> find_cycle({"a": {"b"}, "b": set()}) is None
    True
    """
    done: set[str] = set()
    for start in graph:
        path: list[str] = []
        branches = [iter([start])]
        while branches:
            target = next(branches[-1], None)
            if target is None:
                branches.pop()
                if path:
                    done.add(path.pop())
            elif target in path:
                return [*path[path.index(target) :], target]
            elif target not in done and target in graph:
                path.append(target)
                branches.append(iter(sorted(graph[target])))
    return None


def test_the_checker_sees_an_upward_import_and_a_lazy_one(tmp_path):
    low = tmp_path / "low.py"
    low.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from service.api import problems\n"
        "def later():\n    from service.jobs import runner\n",
        encoding="utf-8",
    )
    assert imports_of(low, "service.files") == {"service.jobs.runner"}


@pytest.mark.parametrize(
    "module", ["service.packs.merge", "service.store", "service.forms.uploads", "schemas.plan"]
)
def test_importing_a_low_module_does_not_import_the_application(module):
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    assert not {"service.app", "service.api", "service.jobs", "flask_smorest", "celery"} & set(loaded)
