"""The house rules, checked: a pure domain core; a service that speaks only domain terms and its own ports;
adapters that never import the store or each other; one composition root; small files and functions; no import
cycles. The product never imports the tests, and the stand-ins for the outside world (bot/standins) serve only
the demo, the tests and the benchmarks."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"
DOMAIN = BOT / "domain"
SERVICE = BOT / "service"
ADAPTERS = ("bot.slack", "bot.git", "bot.deploy", "bot.codehost")
STANDIN_USERS = (BOT / "demo", BOT / "standins")
MIGRATIONS = BOT / "store" / "migrations"  # frozen history: written once, never refactored
EDGES = ("slack_bolt", "slack_sdk", "git", "sqlmodel", "sqlalchemy", "alembic", "apscheduler", "githubkit",
         "prometheus_client", "bot.store", "bot.slack", "bot.git", "bot.deploy", "bot.codehost", "bot.runtime",
         "bot.metrics")
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 40


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, *, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = _top_level_imports(tree) if top_level_only else ast.walk(tree)
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from bot.store import jobs`
    return names


def _top_level_imports(tree: ast.Module) -> Iterator[ast.stmt]:
    """What runs at import time, so what can make a cycle (not `if TYPE_CHECKING:` blocks)."""
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        yield node


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _leaks(path: Path, forbidden: tuple[str, ...]) -> set[str]:
    return {m for m in imported_modules(path) for f in forbidden if within(m, f)}


def _py(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _ids(path: Path) -> str:
    return str(path.relative_to(BOT))


@pytest.mark.parametrize("path", _py(DOMAIN), ids=_ids)
def test_domain_module_imports_nothing_from_the_edges(path: Path) -> None:
    leaks = _leaks(path, EDGES + ("bot.service", "bot.wiring", "bot.config"))
    assert not leaks, f"{path.name} imports {sorted(leaks)}"


@pytest.mark.parametrize("path", _py(SERVICE), ids=_ids)
def test_the_service_speaks_only_domain_terms_and_its_own_ports(path: Path) -> None:
    leaks = _leaks(path, EDGES + ("bot.wiring", "bot.config"))
    assert not leaks, f"{path.relative_to(BOT)} imports {sorted(leaks)}: give the service a port instead"


def _adapter_of(path: Path) -> str | None:
    return next((a for a in ADAPTERS if within(module_name(path), a)), None)


@pytest.mark.parametrize("path", [p for p in _py(BOT) if _adapter_of(p)], ids=_ids)
def test_adapters_never_import_the_store_or_each_other(path: Path) -> None:
    own = _adapter_of(path)
    others = tuple(a for a in ADAPTERS if a != own)
    leaks = _leaks(path, ("bot.store", "bot.wiring") + others)
    assert not leaks, f"{path.relative_to(BOT)} imports {sorted(leaks)}: receive it at construction instead"


COMPOSITION_ROOT = BOT / "wiring.py"


def test_one_composition_root_builds_the_adapters_and_the_store() -> None:
    """Only wiring.py brings the store together with an adapter; the CLI, tools and demo ask wiring for them."""
    mixers = []
    for path in _py(BOT):
        if path == COMPOSITION_ROOT or path.is_relative_to(BOT / "store"):
            continue
        imported = imported_modules(path)
        if any(within(m, "bot.store") for m in imported) and any(within(m, a) for m in imported for a in ADAPTERS):
            mixers.append(str(path.relative_to(BOT)))
    assert not mixers, f"{mixers} build the store and adapters together: that is bot/wiring.py's job"


def test_no_import_cycles() -> None:
    graph = {module_name(p): {m for m in imported_modules(p, top_level_only=True) if within(m, "bot")}
             for p in _py(BOT)}
    graph = {module: {m for m in imports if m in graph and m != module} for module, imports in graph.items()}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> list[str] | None:
        if module in visiting:
            return visiting[visiting.index(module):] + [module]
        if module in done:
            return None
        visiting.append(module)
        for imported in sorted(graph[module]):
            if (cycle := visit(imported)) is not None:
                return cycle
        visiting.pop()
        done.add(module)
        return None

    return next((c for m in sorted(graph) if (c := visit(m)) is not None), None)


def _product_files() -> list[Path]:
    return [p for p in _py(BOT) if not p.is_relative_to(MIGRATIONS)]


@pytest.mark.parametrize("path", _product_files(), ids=_ids)
def test_files_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_FILE_LINES, f"{path.relative_to(BOT)} has {lines} lines; split it by responsibility"


@pytest.mark.parametrize("path", _product_files(), ids=_ids)
def test_functions_stay_small(path: Path) -> None:
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.relative_to(BOT)}: {', '.join(long)}"


@pytest.mark.parametrize("path", _py(BOT), ids=_ids)
def test_the_bot_imports_nothing_from_the_tests(path: Path) -> None:
    leaks = _leaks(path, ("tests",))
    assert not leaks, f"{path.relative_to(BOT)} imports {sorted(leaks)}"


@pytest.mark.parametrize("path", _py(ROOT / "bench"), ids=lambda p: p.name)
def test_the_benchmarks_stand_apart_from_the_tests(path: Path) -> None:
    leaks = _leaks(path, ("tests",))
    assert not leaks, f"bench/{path.name} imports {sorted(leaks)}: use bot.standins"


@pytest.mark.parametrize("path", [p for p in _py(BOT) if not any(map(p.is_relative_to, STANDIN_USERS))], ids=_ids)
def test_only_the_demo_uses_the_stand_ins(path: Path) -> None:
    leaks = _leaks(path, ("bot.standins",))
    assert not leaks, f"{path.relative_to(BOT)} imports {sorted(leaks)}: stand-ins are for the demo, tests, bench"

