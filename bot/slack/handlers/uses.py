"""What the Slack listeners are given: the use cases they call, and the current rules and time."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.stats import Stats
from bot.service.people import PeopleSteps
from bot.service.ports import Clock, Rules
from bot.service.queries import Queries


@dataclass(frozen=True)
class UseCases:
    """What the listeners may call: people's steps, reading, and the current rules and time."""

    people: PeopleSteps
    read: Queries
    rules: Callable[[], Rules]
    clock: Clock
    stats: Callable[[datetime], Stats]  # the App Home's figures, as of then
