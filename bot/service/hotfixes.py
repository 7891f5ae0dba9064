"""The use cases, grouped by who asks: people (Slack), the workers' reports (git, deploy probe, code host), time,
and reading.

All of them move a hotfix through one engine (bot.service.moves) over the ports of bot.service.ports.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.service.code_host import CodeHostReports
from bot.service.moves import Moves
from bot.service.people import InvalidDeclaration, PeopleSteps
from bot.service.ports import Clock, Measures, Rules, Subscriber, UnitsOfWork
from bot.service.queries import Queries, parse_key
from bot.service.reports import WorkerReports
from bot.service.timers import TimerFiring

__all__ = ["HotfixService", "InvalidDeclaration", "parse_key"]


class HotfixService:
    def __init__(self, units: UnitsOfWork, clock: Clock, rules: Callable[[], Rules], *,
                 subscribers: Sequence[Subscriber] = (), measures: Measures | None = None) -> None:
        moves = Moves(units, clock, rules, subscribers=subscribers, measures=measures)
        self.read = Queries(units)
        self.people = PeopleSteps(moves, self.read, units, clock, rules)
        self.reports = WorkerReports(moves)
        self.code_host = CodeHostReports(moves, units)
        self.timers = TimerFiring(moves, units, clock, rules, measures)
