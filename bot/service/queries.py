"""Reading hotfixes, for the Slack handlers, the outbox's workers and the tests: no write lock taken."""
from __future__ import annotations

import re

from bot.domain.hotfix import Event, Hotfix
from bot.domain.timers import Timer
from bot.domain.transitions import Refused, Remedy
from bot.service.moves import no_such_hotfix
from bot.service.ports import UnitsOfWork

_KEY = re.compile(r"^(?:HF-?)?(\d{1,9})$", re.IGNORECASE)


class Queries:
    def __init__(self, units: UnitsOfWork) -> None:
        self.units = units

    def get(self, key: str) -> Hotfix:
        """The hotfix a person named (HF-12, hf12, 12)."""
        return self.load(parse_key(key))

    def load(self, number: int) -> Hotfix:
        with self.units.reading() as unit:
            hotfix = unit.hotfixes.get(number)
        if hotfix is None:
            raise no_such_hotfix(number)
        return hotfix

    def active(self) -> list[Hotfix]:
        with self.units.reading() as unit:
            return unit.hotfixes.active()

    def timeline(self, key: str) -> tuple[Hotfix, list[Event]]:
        """The hotfix a person named, with its audit trail, oldest first."""
        return self.history(parse_key(key))

    def history(self, number: int) -> tuple[Hotfix, list[Event]]:
        with self.units.reading() as unit:
            hotfix = unit.hotfixes.get(number)
            if hotfix is None:
                raise no_such_hotfix(number)
            return hotfix, unit.hotfixes.events(number)

    def pending_timers(self, number: int) -> list[Timer]:
        with self.units.reading() as unit:
            return unit.timers.pending(number)


def parse_key(key: str) -> int:
    """For text people type; inside the bot, hotfixes travel as their number."""
    match = _KEY.match(key.strip())
    if not match:
        shown = key.strip()[:40] or "(nothing)"
        raise Refused(f"“{shown}” is not a hotfix ID; they look like HF-12.", Remedy.SEE_THE_ACTIVE_ONES)
    return int(match.group(1))
