"""Engine and transactions for DATABASE_URL: a SQLite file by default, PostgreSQL for several replicas."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

from bot.store import tables  # noqa: F401  (registers the tables)

SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_ONLY = "hotfix_read_only"
WRITER_LOCK = "hotfix_writer_lock"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Python's sqlite3 opens transactions lazily; we issue BEGIN ourselves (below) so that
        # every write transaction takes the lock up front and never fails half-way with "locked".
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    # One writer at a time per SQLite file anyway; queueing this engine's writers on a lock wakes the next one
    # the moment the last commits, where SQLite's busy handler would sleep in 1-100 ms steps.
    return engine.execution_options(**{WRITER_LOCK: threading.RLock()})


def create_schema(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration (bot/store/migrations), keeping every row."""
    from bot.store.migrations import upgrade

    upgrade(engine)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error."""
    with _one_writer(engine), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work: on SQLite it does not take the write lock."""
    with Session(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


def _one_writer(engine: Engine) -> AbstractContextManager:
    return engine.get_execution_options().get(WRITER_LOCK) or nullcontext()
