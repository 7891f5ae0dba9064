"""The one composition root: builds every adapter and hands each its collaborators."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, ServerErrorRetryHandler
from sqlalchemy import Engine

from bot.config import HotfixConfig, Settings
from bot.service.clock import Clock, SystemClock
from bot.service.hotfixes import GIT, SLACK, HotfixService
from bot.service.runner import JobRunner
from bot.slack import errors
from bot.slack.delivery import SlackDelivery
from bot.slack.handlers import register_all
from bot.store.db import create_schema, make_engine


@dataclass
class Bot:
    settings: Settings
    config: HotfixConfig
    engine: Engine
    service: HotfixService
    app: App
    runners: dict[str, JobRunner] = field(default_factory=dict)

    def start_workers(self) -> None:
        for runner in self.runners.values():
            runner.start()

    def stop(self) -> None:
        for runner in self.runners.values():
            runner.stop()
        self.engine.dispose()

    def run_pending(self) -> int:
        """Run every job that is due now, in every queue (tests and the demo use this to settle)."""
        total = 0
        while ran := sum(runner.run_pending() for runner in self.runners.values()):
            total += ran
        return total


def build(settings: Settings, config: HotfixConfig, *, clock: Clock | None = None, poll_seconds: float = 1.0) -> Bot:
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    runners: dict[str, JobRunner] = {}
    service = HotfixService(engine, config.policy(), config.repo_names, clock,
                            wake=lambda queue: runners[queue].wake() if queue in runners else None)
    app = _bolt_app(settings)
    errors.register(app)
    register_all(app, service)
    delivery = SlackDelivery(service, _web_client(settings, retries=False), channel=config.slack.channel,
                             security_channel=config.slack.security_channel)
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    runners[SLACK] = JobRunner(engine, SLACK, delivery.handlers, clock, worker_id=worker_id, poll_seconds=poll_seconds)
    runners[GIT] = JobRunner(engine, GIT, {}, clock, worker_id=worker_id, poll_seconds=poll_seconds)
    return Bot(settings, config, engine, service, app, runners)


def _bolt_app(settings: Settings) -> App:
    return App(
        token=settings.bot_token,
        signing_secret=settings.signing_secret,
        client=_web_client(settings, retries=True),
        token_verification_enabled=False,  # `hotfix-bot doctor` checks the token; start-up must not need Slack
    )


def _web_client(settings: Settings, *, retries: bool) -> WebClient:
    handlers = [ConnectionErrorRetryHandler(max_retry_count=2)]
    if retries:
        handlers.append(ServerErrorRetryHandler(max_retry_count=1))
    return WebClient(token=settings.bot_token, base_url=settings.slack_api_url, timeout=10, retry_handlers=handlers)
