"""The schema is created and upgraded by Alembic migrations, and an upgrade keeps every incident, approval and event.

Each test runs on a fresh SQLite file and on a fresh PostgreSQL database (in CI PostgreSQL must be there).
"""
from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, MetaData, String, insert, inspect, text
from sqlmodel import SQLModel

from bot.domain.hotfix import Decision, Event, EventKind, Hotfix, Stage
from bot.domain.policy import Severity
from bot.store import migrations
from bot.store.db import create_schema, make_engine, reading, transaction
from bot.store.hotfix_store import HotfixStore, _columns
from bot.store.tables import DecisionRow, HotfixRow
from tests.support.postgres import fresh_database

HEAD = ScriptDirectory.from_config(migrations.alembic_config()).get_current_head()
ADD_A_MIGRATION = (
    "bot/store/tables.py and bot/store/migrations disagree; add a migration: "
    '.venv/bin/python -m bot.store.migrations revision --autogenerate -m "<what changed>", '
    "then review the new file in bot/store/migrations/versions/. Differences (database -> models): {}"
)
AT = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


# --- databases ------------------------------------------------------------------------------------------------------

def _sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/hotfix.db")
    yield engine
    engine.dispose()


def _postgres() -> Iterator[Engine]:
    with fresh_database() as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from (_sqlite(tmp_path) if request.param == "sqlite" else _postgres())


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    yield from _sqlite(tmp_path)


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    yield from _postgres()


def revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def differences(engine: Engine, metadata: MetaData = SQLModel.metadata) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)


def declare(engine: Engine) -> tuple[Hotfix, list[Event]]:
    """One hotfix with an approval and a rejection, and its audit trail, written by the real store."""
    hotfix, events = the_hotfix()
    with transaction(engine) as session:
        store = HotfixStore(session)
        saved = store.add(hotfix, request_key="V0HOTFIX1")
        store.append_events(saved.number, tuple(events))
    return saved, events


def declare_in_an_older_schema(engine: Engine) -> tuple[Hotfix, list[Event]]:
    """The same, written into the columns of the schema the database has now (newer ones are left empty)."""
    hotfix, events = the_hotfix()
    present = {column["name"] for column in inspect(engine).get_columns("hotfixes")}
    row = _columns(hotfix) | {"severity": hotfix.severity.value, "stage": hotfix.stage.value,
                              "request_key": "V0HOTFIX1"}
    with transaction(engine) as session:
        inserted = session.execute(insert(HotfixRow.__table__).values({k: v for k, v in row.items() if k in present}))
        number = inserted.inserted_primary_key[0]
        session.add_all(DecisionRow(hotfix_id=number, role=d.role, user_id=d.user_id, approved=d.approved,
                                    reason=d.reason, at=d.at) for d in hotfix.decisions)
        HotfixStore(session).append_events(number, tuple(events))
    return replace(hotfix, number=number), events


def the_hotfix() -> tuple[Hotfix, list[Event]]:
    hotfix = Hotfix(
        title="Card payments time out", issue_id="PAY-1234", severity=Severity.CRITICAL, impact="EU checkouts fail",
        risk="Low: one timeout value", repo="payments", branch="hotfix/pay-1234", declared_by="UDEV",
        declared_at=AT, security=True, stage=Stage.AWAITING_APPROVAL, merge_targets=("main", "develop"),
        decisions=(Decision("engineering_manager", "UEM", AT), Decision("cto", "UCTO", AT, False, "needs a test")),
    )
    events = [Event(EventKind.DECLARED, "UDEV", AT, {"severity": "critical"}),
              Event(EventKind.APPROVED, "UEM", AT, {"role": "engineering_manager"}),
              Event(EventKind.REJECTED, "UCTO", AT, {"reason": "needs a test"})]
    return hotfix, events


def assert_kept(engine: Engine, hotfix: Hotfix, events: list[Event]) -> None:
    with reading(engine) as session:
        store = HotfixStore(session)
        assert store.get(hotfix.number) == hotfix
        assert store.by_request_key("V0HOTFIX1") == hotfix
        assert store.events(hotfix.number) == events
        assert [h.number for h in store.active()] == [hotfix.number]


# --- the schema is the models ---------------------------------------------------------------------------------------

def test_a_new_database_is_upgraded_to_head_and_matches_the_models(engine: Engine) -> None:
    create_schema(engine)

    assert revision(engine) == HEAD
    drift = differences(engine)
    assert not drift, ADD_A_MIGRATION.format(drift)


def test_the_drift_check_sees_a_model_change_that_has_no_migration(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    create_schema(engine)
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["hotfixes"].append_column(Column("owner", String(), nullable=True))

    drift = differences(engine, changed)

    assert [d[:3] for d in drift] == [("add_column", None, "hotfixes")]


def test_migrations_form_one_line_and_import_no_app_code() -> None:
    scripts = ScriptDirectory.from_config(migrations.alembic_config())
    assert len(scripts.get_heads()) == 1, f"two migrations claim the same parent; merge them: {scripts.get_heads()}"
    assert scripts.get_base() == migrations.BASELINE
    for script in scripts.walk_revisions():
        tree = ast.parse(Path(script.path).read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        app = sorted(m for m in imported if m.split(".")[0] in ("bot", "sqlmodel"))
        assert not app, f"{Path(script.path).name} imports {app}: migrations must not change when app code does"


# --- upgrades keep the data -----------------------------------------------------------------------------------------

def test_an_upgrade_keeps_every_hotfix_approval_and_event(engine: Engine) -> None:
    migrations.upgrade(engine, migrations.BASELINE)
    hotfix, events = declare_in_an_older_schema(engine)

    create_schema(engine)
    create_schema(engine)  # every start runs it: the second time there is nothing to do

    assert revision(engine) == HEAD
    assert_kept(engine, hotfix, events)
    assert not differences(engine)


def test_a_database_made_before_migrations_is_stamped_and_kept(engine: Engine) -> None:
    migrations.upgrade(engine, migrations.BASELINE)  # the schema create_schema made before there were migrations,
    with engine.begin() as connection:  # which left no alembic_version
        connection.execute(text("DROP TABLE alembic_version"))
    hotfix, events = declare_in_an_older_schema(engine)

    create_schema(engine)

    assert revision(engine) == HEAD
    assert_kept(engine, hotfix, events)
    assert not differences(engine)


def test_a_database_made_before_migrations_by_an_older_bot_is_refused_not_stamped(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    SQLModel.metadata.create_all(engine, tables=[SQLModel.metadata.tables["hotfixes"]])

    with pytest.raises(RuntimeError, match="table timers is missing"):
        create_schema(engine)

    assert revision(engine) is None
    assert inspect(engine).get_table_names() == ["hotfixes"]


def test_every_migration_downgrades_and_upgrades_again(engine: Engine) -> None:
    create_schema(engine)
    with engine.begin() as connection:
        command.downgrade(migrations.alembic_config(connection), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}

    create_schema(engine)
    assert not differences(engine)


# --- several replicas starting at once ------------------------------------------------------------------------------

@pytest.mark.postgres
def test_replicas_starting_together_on_postgres_upgrade_once(postgres_engine: Engine) -> None:
    url = postgres_engine.url
    replicas = [make_engine(url.render_as_string(hide_password=False)) for _ in range(4)]
    start = threading.Barrier(len(replicas))
    errors: list[BaseException] = []

    def start_replica(replica: Engine) -> None:
        try:
            start.wait(timeout=10)
            create_schema(replica)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start_replica, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for replica in replicas:
        replica.dispose()

    assert not errors, errors
    assert revision(postgres_engine) == HEAD
    with postgres_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    assert not differences(postgres_engine)
