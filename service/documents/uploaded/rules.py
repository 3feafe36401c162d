"""What an uploaded template may not do, read from its Jinja syntax tree before anything runs: variables
neither its kind's data nor the municipality's settings (``municipality.*``) have (the same contract check
as the standard templates', with a near name suggested), filters and tests that do not exist, blocks
that do not close, and constructs the sandbox would refuse at render time (names starting with ``_``,
calls other than ``range`` and ``loop.cycle``, ``include``/``import``/``extends``).

Each finding is (problem, line, needle): the line of the part as ``docx.prepare`` gave it to Jinja, and
the text to centre the place's excerpt on.

>>> from jinja2.sandbox import SandboxedEnvironment
>>> env = SandboxedEnvironment()
>>> tree = env.parse("{{ d.__class__ }}{{ d.items() }}{% include 'x' %}")
>>> [(p.code, p.params["construct"]) for p, _, _ in forbidden(tree)]
[('template.forbidden', '__class__'), ('template.forbidden', 'items()'), ('template.forbidden', 'include')]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from marshmallow import Schema

from schemas.errors import Problem, problem
from service.documents.contract import MUNICIPALITY, known_paths, missing_paths

Finding = tuple[Problem, int, str]
_BUILTINS = frozenset({"loop", "true", "false", "none", "True", "False", "None"})
_BLOCK = re.compile(r"\{%-?\s*(for|if|endfor|endif)\b")
_UNCLOSED = re.compile(r"innermost block that needs to be closed is '(\w+)'")
_UNKNOWN_TAG = re.compile(r"^Encountered unknown tag '(\w+)'")
_LOADERS = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)
# After docxtpl's cleaning a run-level ``{{r … }}`` stands between runs; a plain ``{{ … }}`` inside text.
_LOGO_IN_TEXT = re.compile(r"<w:t(?:\s[^>]*)?>[^<]*\{\{-?\s*municipality\.logo\b")


def syntax(error: TemplateSyntaxError, source: str) -> Finding:
    """A Jinja syntax error as a problem, at the line that opened an unclosed block."""
    unclosed = _UNCLOSED.search(error.message or "")
    if unclosed:
        block = unclosed.group(1)
        line = _opening_line(source, block) or error.lineno
        return problem("template.unclosed_block", tag=block, end=f"end{block}"), line, block
    unknown = _UNKNOWN_TAG.match(error.message or "")
    if unknown:
        return problem("template.unexpected_tag", tag=unknown.group(1)), error.lineno, unknown.group(1)
    return problem("template.syntax", reason=error.message or ""), error.lineno, ""


def variables(
    tree: nodes.Template, root: str, schema: type[Schema], env: SandboxedEnvironment
) -> list[Finding]:
    """Data paths and names that neither the kind's data nor the municipality's settings have, each with a
    near name when there is one."""
    known = sorted(known_paths(root, schema))
    found = []
    for path in missing_paths(tree, root, schema):
        last = path.rsplit(".", 1)[-1].removesuffix("[]")
        found.append((_unknown("template.unknown_variable", path, known), _line_of(tree, last), last))
    stored = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in {root, MUNICIPALITY, *stored, *_BUILTINS, *env.globals}:
            near = _unknown("template.unknown_variable", node.name, [root, MUNICIPALITY])
            found.append((near, node.lineno, node.name))
    return _once(found)


def logo_in_text(source: str) -> list[Finding]:
    """``municipality.logo`` printed inside a run's text, where a picture cannot stand (``{{r … }}`` is
    the run-level tag that replaces its run with the picture's).

    >>> logo_in_text('<w:p><w:r><w:t>{{ municipality.logo }}</w:t></w:r></w:p>')[0][0].code
    'template.logo_in_text'
    >>> logo_in_text('<w:p>{{ municipality.logo }}</w:p>')
    []
    """
    found = _LOGO_IN_TEXT.search(source)
    if not found:
        return []
    return [(problem("template.logo_in_text"), source.count("\n", 0, found.start()) + 1, "municipality.logo")]


def filters(tree: nodes.Template, env: SandboxedEnvironment) -> list[Finding]:
    """Filters and tests the environment does not have."""
    found = [
        (_unknown("template.unknown_filter", node.name, sorted(env.filters)), node.lineno, node.name)
        for node in tree.find_all(nodes.Filter)
        if node.name not in env.filters
    ]
    found += [
        (_unknown("template.unknown_test", node.name, sorted(env.tests)), node.lineno, node.name)
        for node in tree.find_all(nodes.Test)
        if node.name not in env.tests
    ]
    return _once(found)


def forbidden(tree: nodes.Template) -> list[Finding]:
    """Constructs the sandbox refuses, or that reach beyond the document's data."""
    return _once(list(_forbidden(tree)))


def _forbidden(tree: nodes.Template) -> Iterator[Finding]:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Call, nodes.Filter, *_LOADERS)):
        construct = _construct(node)
        if construct:
            yield problem("template.forbidden", construct=construct), node.lineno, construct.strip("()")


def _construct(node: nodes.Node) -> str | None:
    if isinstance(node, _LOADERS):
        return type(node).__name__.lower().replace("fromimport", "import")
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return node.attr
    if isinstance(node, nodes.Getitem) and _private(node.arg):
        return node.arg.value
    if isinstance(node, nodes.Filter) and node.name == "attr":
        return "attr"
    if isinstance(node, nodes.Call) and not _allowed_call(node.node):
        name = getattr(node.node, "attr", None) or getattr(node.node, "name", None) or "call"
        return f"{name}()"
    return None


def _private(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Const) and isinstance(node.value, str) and node.value.startswith("_")


def _allowed_call(callee: nodes.Node) -> bool:
    if isinstance(callee, nodes.Name):
        return callee.name == "range"
    return (
        isinstance(callee, nodes.Getattr)
        and callee.attr == "cycle"
        and isinstance(callee.node, nodes.Name)
        and callee.node.name == "loop"
    )


def _unknown(code: str, name: str, known: Iterable[str]) -> Problem:
    near = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return problem(f"{code}_near", name=name, near=near[0]) if near else problem(code, name=name)


def _line_of(tree: nodes.Template, name: str) -> int:
    for node in tree.find_all((nodes.Getattr, nodes.Name)):
        if getattr(node, "attr", None) == name or getattr(node, "name", None) == name:
            return node.lineno
    return 1


def _opening_line(source: str, block: str) -> int | None:
    """The line of the innermost ``{% block %}`` left open at the end of ``source``."""
    stack: list[tuple[str, int]] = []
    for match in _BLOCK.finditer(source):
        word = match.group(1)
        if word.startswith("end"):
            if stack and stack[-1][0] == word[3:]:
                stack.pop()
        else:
            stack.append((word, source.count("\n", 0, match.start()) + 1))
    return next((line for word, line in reversed(stack) if word == block), None)


def _once(found: list[Finding]) -> list[Finding]:
    """Each problem once, at its first line."""
    seen, unique = set(), []
    for finding in found:
        key = (finding[0].code, tuple(sorted(finding[0].params.items())))
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
