"""The database as the commands beside `serve` meet it: opened, never created; named without its password."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.config import DEFAULT_DATABASE_URL, ConfigError
from bot.wiring import engine_for


def existing_database(url: str) -> Engine:
    """An engine on the database `serve` made; a SQLite path with no file is a ConfigError, never a new file."""
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path not in (None, "", ":memory:"):
        if not Path(path).is_file():
            raise ConfigError(f"there is no database at {path}; set DATABASE_URL to the one `hotfix-bot serve` "
                              f"uses (default {DEFAULT_DATABASE_URL}, relative to where it runs).")
    return engine_for(url)


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def first_line(err: Exception) -> str:
    cause = getattr(err, "orig", None) or err  # a driver's own words, not SQLAlchemy's wrapper
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]
