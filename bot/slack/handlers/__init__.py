"""Thin Bolt listeners: ack at once, then hand over to the use cases."""
from __future__ import annotations

from slack_bolt import App

from bot.slack.handlers import actions, commands, events, submissions
from bot.slack.handlers.uses import UseCases

__all__ = ["UseCases", "register_all"]


def register_all(app: App, uses: UseCases) -> None:
    commands.register(app, uses)
    actions.register(app, uses)
    submissions.register(app, uses)
    events.register(app, uses)
