"""The domain core stays pure: no Slack, git, database or scheduler imports. The product never imports the tests,
and the stand-ins for the outside world (bot/standins) serve only the demo, the tests and the benchmarks."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
DOMAIN = BOT / "domain"
STANDIN_USERS = (BOT / "demo", BOT / "standins")
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


def _imports_from(path: Path, package: str) -> set[str]:
    return {m for m in imported_modules(path) if m == package or m.startswith(package + ".")}


@pytest.mark.parametrize("path", sorted(BOT.rglob("*.py")), ids=lambda p: str(p.relative_to(BOT)))
def test_the_bot_imports_nothing_from_the_tests(path: Path) -> None:
    leaks = _imports_from(path, "tests")
    assert not leaks, f"{path.relative_to(BOT)} imports {sorted(leaks)}"


@pytest.mark.parametrize("path", sorted(p for p in BOT.rglob("*.py") if not any(map(p.is_relative_to, STANDIN_USERS))),
                         ids=lambda p: str(p.relative_to(BOT)))
def test_only_the_demo_uses_the_stand_ins(path: Path) -> None:
    leaks = _imports_from(path, "bot.standins")
    assert not leaks, f"{path.relative_to(BOT)} imports {sorted(leaks)}: stand-ins are for the demo, tests, bench"


SERVICE = BOT / "service"
SERVICE_FORBIDDEN = ("sqlalchemy", "sqlmodel", "slack_bolt", "slack_sdk", "apscheduler", "prometheus_client", "git",
                     "bot.store", "bot.slack", "bot.git", "bot.deploy", "bot.metrics", "bot.runtime", "bot.config",
                     "bot.wiring")


@pytest.mark.parametrize("path", sorted(SERVICE.glob("*.py")), ids=lambda p: p.name)
def test_the_service_speaks_only_domain_terms_and_its_own_ports(path: Path) -> None:
    leaks = {m for m in imported_modules(path) for f in SERVICE_FORBIDDEN if m == f or m.startswith(f + ".")}
    assert not leaks, f"bot/service/{path.name} imports {sorted(leaks)}"
