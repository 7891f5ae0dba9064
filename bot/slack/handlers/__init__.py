"""Thin Bolt listeners: ack at once, then hand over to the service."""
from slack_bolt import App

from bot.service.hotfixes import HotfixService
from bot.slack.handlers import actions, commands, events, submissions


def register_all(app: App, service: HotfixService) -> None:
    commands.register(app, service)
    actions.register(app, service)
    submissions.register(app, service)
    events.register(app, service)
