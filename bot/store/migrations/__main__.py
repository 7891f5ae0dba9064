"""Alembic's commands on this package's migrations, for developers (there is no alembic.ini):

    .venv/bin/python -m bot.store.migrations revision --autogenerate -m "add hotfixes.owner"
    .venv/bin/python -m bot.store.migrations history
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python -m bot.store.migrations current

Commands run on DATABASE_URL if it is set, else on a scratch SQLite database brought to head first, which is what
`revision --autogenerate` needs: it writes the difference between that database and bot/store/tables.py.
New revisions are numbered after the head (0002, 0003, ...) unless --rev-id is given. `upgrade` takes the same
lock and stamps a pre-migration database exactly as the bot does at start-up.
"""
from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence

from alembic import command
from alembic.config import CommandLine, Config
from alembic.script import ScriptDirectory

from bot.store.db import make_engine
from bot.store.migrations import alembic_config, upgrade


def main(argv: Sequence[str] | None = None) -> int:
    cli = CommandLine(prog="python -m bot.store.migrations")
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.print_help()
        return 2
    url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(url or f"sqlite:///{scratch}/scratch.db")
        try:
            if url is None:
                upgrade(engine)
            if options.cmd[0] is command.upgrade:
                upgrade(engine, options.revision)
                return 0
            with engine.begin() as connection:
                config = alembic_config(connection)
                config.cmd_opts = options
                if options.cmd[0] is command.revision and not options.rev_id:
                    options.rev_id = _next_rev_id(config)
                cli.run_cmd(config, options)
        finally:
            engine.dispose()
    return 0


def _next_rev_id(config: Config) -> str | None:
    heads = ScriptDirectory.from_config(config).get_heads()
    if len(heads) == 1 and heads[0].isdigit():
        return f"{int(heads[0]) + 1:0{len(heads[0])}d}"
    return None  # Alembic picks a random one


if __name__ == "__main__":
    sys.exit(main())
