"""A fresh PostgreSQL database per test, on the server these machines run at 127.0.0.1:5432 (trust auth)."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

SERVER = os.environ.get("HOTFIX_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")


@contextmanager
def fresh_database() -> Iterator[str]:
    """Yields the URL of an empty database and drops it afterwards. In CI it must work; elsewhere it may skip."""
    admin = create_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")
    name = f"hotfix_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        if os.environ.get("CI"):
            raise AssertionError(f"PostgreSQL at {SERVER} is needed in CI for the multi-replica tests: {error}") from error
        pytest.skip(f"PostgreSQL at {SERVER} is not reachable: {error}")
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
                               {"db": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
