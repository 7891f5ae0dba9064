"""Alembic migrations: the only thing that creates or changes the database schema.

bot.store.db.create_schema(engine) calls upgrade(engine) at start-up, so every process brings the database to the
newest revision in versions/ before it touches a row; an upgrade keeps every incident, approval and event.

The Alembic configuration is built here in code (no alembic.ini), with script_location pointing at this folder,
so it works from an installed package and from any working directory.

After changing bot/store/tables.py, add a migration (tests/store/test_migrations.py fails until you do):

    .venv/bin/python -m bot.store.migrations revision --autogenerate -m "what changed"

then read the new file in versions/ (autogenerate is a draft, not a proof) and commit it with the model change.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

HERE = Path(__file__).resolve().parent

# pg_advisory_lock key held while upgrading, so replicas starting together take turns (the first upgrades, the
# rest find the database at head). Arbitrary and fixed; bot.store.leadership uses ...001.
UPGRADE_LOCK_KEY = 7_420_315_002

# The first revision, and the schema SQLModel.metadata.create_all made before there were migrations. A database
# holding these tables but no alembic_version table is stamped BASELINE rather than created again.
# This is history: never edit it when the models change.
BASELINE = "0001"
BASELINE_TABLES: dict[str, frozenset[str]] = {
    "hotfixes": frozenset({
        "id", "title", "issue_id", "severity", "impact", "risk", "repo", "branch", "declared_by", "declared_at",
        "security", "override", "stage", "base_ref", "base_commit", "tag", "tag_commit", "previous_tag",
        "merge_targets", "merged_into", "closed_at", "version", "request_key", "status_channel", "status_ts",
    }),
    "decisions": frozenset({"id", "hotfix_id", "role", "user_id", "approved", "reason", "at"}),
    "events": frozenset({"id", "hotfix_id", "kind", "actor", "at", "detail"}),
    "jobs": frozenset({
        "id", "queue", "lane", "kind", "hotfix_id", "payload", "state", "attempts", "not_before", "claimed_by",
        "lease_until", "last_error", "created_at", "finished_at",
    }),
    "timers": frozenset({"id", "hotfix_id", "kind", "due_at", "state", "round", "created_at", "fired_at"}),
}


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for this package; env.py runs the migrations on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")  # versions/0002_add_something.py
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """The revisions the database is at, and the ones this version of the bot needs."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, set(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision`, in one transaction, one process at a time."""
    with engine.connect() as connection, _one_at_a_time(connection), _sqlite_foreign_keys_deferred(connection):
        with connection.begin():  # on SQLite: BEGIN IMMEDIATE (see bot.store.db), which is the lock
            _stamp_if_created_before_migrations(connection)
            command.upgrade(alembic_config(connection), revision)
            _check_sqlite_foreign_keys(connection)


@contextmanager
def _one_at_a_time(connection: Connection) -> Iterator[None]:
    if connection.dialect.name != "postgresql":
        yield
        return
    # Session-level: held across the upgrade's own transaction, dropped by the server if this process dies.
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
    connection.commit()
    try:
        yield
    except BaseException:
        with suppress(Exception):  # keep the real error; a dead connection has dropped the lock anyway
            _unlock(connection)
        raise
    _unlock(connection)


def _unlock(connection: Connection) -> None:
    if connection.in_transaction():
        connection.rollback()
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": UPGRADE_LOCK_KEY})
    connection.commit()


@contextmanager
def _sqlite_foreign_keys_deferred(connection: Connection) -> Iterator[None]:
    """SQLite's ALTERs are batch table rebuilds (copy, drop, rename): with foreign_keys on, dropping a table that
    others reference fails or cascades. SQLite's own recipe: turn them off around the transaction, check after.
    The pragma is a no-op inside a transaction, so it goes straight to the driver, before BEGIN."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left rows with dangling foreign keys (table, rowid, parent): {broken[:10]}")


def _stamp_if_created_before_migrations(connection: Connection) -> None:
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    if "alembic_version" in existing or not existing & BASELINE_TABLES.keys():
        return  # migrated before, or a new database
    problems = []
    for table, columns in BASELINE_TABLES.items():
        if table not in existing:
            problems.append(f"table {table} is missing")
        elif missing := columns - {column["name"] for column in inspector.get_columns(table)}:
            problems.append(f"{table} lacks {', '.join(sorted(missing))}")
    if problems:
        raise RuntimeError(
            "this database was created before migrations, by an older version than revision "
            f"{BASELINE} describes, so it cannot be upgraded in place: {'; '.join(problems)}"
        )
    command.stamp(alembic_config(connection), BASELINE)
