"""The contract between a template and its schema: every variable a template uses must exist in the data.

A template's variables are read from its Jinja syntax tree as dotted paths (``plan.client.name``;
``plan.services[].amount`` inside ``{% for s in plan.services %}``); the schema's paths come from its
fields. A path the schema lacks would print nothing, silently — so tests and the API check it. Every template
also sees the municipality's settings as ``municipality`` (:class:`MunicipalityContextSchema`), so its paths
are checked as well, whatever the kind.

>>> from marshmallow import Schema, fields
>>> class Line(Schema):
...     amount = fields.Decimal()
>>> class Doc(Schema):
...     number = fields.String()
...     lines = fields.List(fields.Nested(Line))
>>> from jinja2 import Environment
>>> tree = Environment().parse("{{ d.number }}{% for l in d.lines %}{{ l.amount }}{{ l.price }}{% endfor %}")
>>> sorted(template_paths(tree, "d"))
['d.lines', 'd.lines[].amount', 'd.lines[].price', 'd.number']
>>> missing_paths(tree, "d", Doc)
['d.lines[].price']
>>> missing_paths(Environment().parse("{{ municipality.name }}{{ municipality.nam }}"), "d", Doc)
['municipality.nam']
"""

from __future__ import annotations

from collections.abc import Iterator

from jinja2 import nodes
from marshmallow import Schema, fields

from schemas.fields import PeriodField
from schemas.municipal_settings import MunicipalityContextSchema

#: The name every template knows the municipality's settings by.
MUNICIPALITY = "municipality"

# Names Jinja provides inside templates; they are not data.
_BUILTINS = frozenset({"loop", "range", "true", "false", "none", "True", "False", "None"})


def template_paths(tree: nodes.Template, root: str) -> set[str]:
    """Every data path the template reads below ``root``."""
    return {path for path in _walk(tree, {root: root}) if path.split(".")[0].split("[")[0] == root}


def schema_paths(schema: type[Schema] | Schema, prefix: str) -> set[str]:
    """Every path the schema's data can have, with ``[]`` for list items and ``.*`` under mappings."""
    paths = {prefix}
    instance = schema() if isinstance(schema, type) else schema
    for name, field in instance.fields.items():
        paths |= _field_paths(field, f"{prefix}.{name}")
    return paths


def known_paths(root: str, schema: type[Schema]) -> set[str]:
    """Every path a template of ``schema``'s kind may read: its data's, and the municipality's."""
    return schema_paths(schema, root) | schema_paths(MunicipalityContextSchema, MUNICIPALITY)


def used_paths(tree: nodes.Template, root: str) -> set[str]:
    """Every path the template reads below ``root`` or ``municipality``."""
    return template_paths(tree, root) | template_paths(tree, MUNICIPALITY)


def missing_paths(tree: nodes.Template, root: str, schema: type[Schema]) -> list[str]:
    """Template paths that neither the schema nor the municipality's settings have, sorted."""
    known = known_paths(root, schema)
    return sorted(p for p in used_paths(tree, root) if not _covered(p, known))


def _covered(path: str, known: set[str]) -> bool:
    if path in known:
        return True
    parts = path.split(".")
    return any(".".join(parts[:i]) + ".*" in known for i in range(1, len(parts)))


def _field_paths(field: fields.Field, path: str) -> set[str]:
    if isinstance(field, fields.Nested):
        return schema_paths(field.schema, path)
    if isinstance(field, fields.List):
        return {path} | _field_paths(field.inner, f"{path}[]")
    if isinstance(field, PeriodField):
        return {path, f"{path}.start", f"{path}.end"}
    if isinstance(field, fields.Dict):
        return {path, f"{path}.*"}
    return {path}


def _walk(node: nodes.Node, scope: dict[str, str]) -> Iterator[str]:
    if isinstance(node, nodes.For):
        yield from _walk(node.iter, scope)
        inner = dict(scope)
        iterated = _path(node.iter, scope)
        if isinstance(node.target, nodes.Name) and iterated:
            inner[node.target.name] = f"{iterated}[]"
        for child in (*node.body, *node.else_, *([node.test] if node.test else [])):
            yield from _walk(child, inner)
        return
    path = _path(node, scope) if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name) else None
    if path:
        yield path
        return
    for child in node.iter_child_nodes():
        yield from _walk(child, scope)


def _path(node: nodes.Node, scope: dict[str, str]) -> str | None:
    """The dotted data path of an expression such as ``s.unit_forms``, or None if it is not data."""
    if isinstance(node, nodes.Name):
        return None if node.name in _BUILTINS else scope.get(node.name, node.name)
    if isinstance(node, nodes.Getattr):
        base = _path(node.node, scope)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        base = _path(node.node, scope)
        key = node.arg.value
        return (f"{base}[]" if isinstance(key, int) else f"{base}.{key}") if base else None
    return None
