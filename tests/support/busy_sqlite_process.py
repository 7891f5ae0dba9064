"""Another process on the bot's SQLite file, busy the way a second bot process or a backup would be.

    python -m tests.support.busy_sqlite_process hold DB_FILE SECONDS MARKER
        takes the write lock (BEGIN IMMEDIATE), writes MARKER, holds the lock SECONDS, then commits.
    python -m tests.support.busy_sqlite_process declare COUNT PREFIX
        a second bot process (the bot's environment) declaring COUNT hotfixes, issue IDs PREFIX-0, PREFIX-1, …
"""
from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

from bot.config import Settings, load_config
from bot.domain.declaration import Declaration
from bot.domain.policy import Severity
from bot.wiring import build


def hold(database: str, seconds: str, marker: str) -> None:
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    Path(marker).touch()
    time.sleep(float(seconds))
    connection.execute("COMMIT")


def declare(count: str, prefix: str) -> None:
    settings = Settings.from_env(os.environ)
    bot = build(settings, load_config(settings.config_path))
    for n in range(int(count)):
        form = Declaration(title=f"Busy {prefix} {n}", issue_id=f"{prefix}-{n}", severity=Severity.HIGH,
                           impact="Checkout fails", risk="Revenue loss", repo="payments")
        bot.service.people.declare(form, declared_by="UDEV")


if __name__ == "__main__":
    {"hold": hold, "declare": declare}[sys.argv[1]](*sys.argv[2:])
