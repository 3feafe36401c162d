"""The table "Who may do what" in docs/security.md is the permissions the code enforces, role by role."""

from __future__ import annotations

from pathlib import Path

from service.auth import ROLES, permissions


def permission_table() -> dict[str, set[str]]:
    """``{role: permissions}`` from the table "Who may do what" in docs/security.md."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text(encoding="utf-8")
    section = text.split("## Who may do what", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `")]
    header = next(line for line in section.splitlines() if line.startswith("| permission"))
    roles = [cell.strip() for cell in header.split("|")[3:-1]]
    table = {role: set() for role in roles}
    for cells in rows:
        for role, mark in zip(roles, cells[2:], strict=True):
            if mark.strip() == "✓":
                table[role].add(cells[0].strip().strip("`"))
    return table


def test_the_permission_table_in_the_security_docs_is_what_the_code_enforces():
    table = permission_table()
    assert sorted(table) == sorted(ROLES)
    for role in ROLES:
        assert table[role] == set(permissions(role)), role
