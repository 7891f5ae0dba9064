"""The domain core stays pure: no Slack, git, database or scheduler imports."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[1] / "bot" / "domain"
FORBIDDEN = ("slack_bolt", "slack_sdk", "git", "sqlmodel", "sqlalchemy", "apscheduler", "bot.store", "bot.slack",
             "bot.git", "bot.service")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_nothing_from_the_edges(path: Path) -> None:
    leaks = {m for m in imported_modules(path) for f in FORBIDDEN if m == f or m.startswith(f + ".")}
    assert not leaks, f"{path.name} imports {sorted(leaks)}"
