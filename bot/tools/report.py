"""`hotfix-bot report HF-n`: the post-mortem draft as Markdown, from the database (and hotfix.toml's targets)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine

from bot.config import load_config
from bot.domain import postmortem
from bot.domain.policy import TimeTargets
from bot.store.db import reading
from bot.store.hotfix_store import HotfixStore


class NoSuchHotfix(Exception):
    pass


def post_mortem(engine: Engine, number: int, targets: TimeTargets) -> str:
    with reading(engine) as session:
        store = HotfixStore(session)
        hotfix = store.get(number)
        if hotfix is None:
            raise NoSuchHotfix(f"there is no hotfix HF-{number}")
        return postmortem.to_markdown(hotfix, store.events(number), targets)


def configured_targets(environ: Mapping[str, str]) -> TimeTargets:
    """The team's targets when its hotfix.toml is at hand; otherwise the procedure's defaults."""
    path = Path(environ.get("HOTFIX_CONFIG") or "hotfix.toml")
    return load_config(path).policy().times if path.is_file() else TimeTargets()
