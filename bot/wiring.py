"""The one composition root: builds every adapter and hands each its collaborators."""
from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from sqlalchemy import Engine

from bot.config import HotfixConfig, Settings
from bot.service.clock import Clock, SystemClock
from bot.deploy.probe import DeployProbe
from bot.service.hotfixes import GIT, PROBE, SLACK, TIMERS, HotfixService
from bot.git.ops import GitOps
from bot.git.refresher import MirrorRefresher
from bot.git.worker import GitWorker
from bot.metrics import Metrics
from bot.scheduling.retention import PRUNE_EVERY, RetentionSchedule
from bot.scheduling.scheduler import TimerScheduler
from bot.service.runner import JobRunner
from bot.slack.errors import ErrorReplies
from bot.slack.delivery import SlackDelivery
from bot.slack.handlers import register_all
from bot.store import gauges
from bot.store.db import create_schema, make_engine
from bot.store.leadership import Leadership


@dataclass
class Bot:
    settings: Settings
    config: HotfixConfig
    engine: Engine
    service: HotfixService
    app: App
    timers: TimerScheduler
    runners: dict[str, JobRunner] = field(default_factory=dict)
    delivery: SlackDelivery | None = None
    metrics: Metrics = field(default_factory=Metrics)
    leadership: Leadership | None = None
    retention: RetentionSchedule | None = None
    mirrors: MirrorRefresher | None = None
    error_replies: ErrorReplies = field(default_factory=ErrorReplies)

    def reload(self, config: HotfixConfig) -> None:
        """A changed hotfix.toml (SIGHUP): new decisions follow it; what hotfixes already recorded stays."""
        self.config = config
        self.service.policy = config.policy()
        self.service.repos = {r.name: r for r in config.repos}
        self.delivery.configure(config.slack)
        self.retention.keep = config.retention.keep
        if self.mirrors:
            self.mirrors.every = config.git.mirror_refresh

    def start_workers(self) -> None:
        """Run timers and jobs while this process is the leader (see bot.store.leadership)."""
        retry = float(os.environ.get("HOTFIX_LEADER_RETRY_SECONDS", "3"))
        self.leadership = Leadership(self.engine, on_elected=self._run_workers, on_deposed=self._stop_workers,
                                     retry_seconds=retry)
        self.leadership.start()

    @property
    def role(self) -> str:
        return self.leadership.role if self.leadership else "follower"

    def stop(self) -> None:
        if self.leadership:
            self.leadership.stop()
        self.error_replies.stop()
        self.engine.dispose()

    def _run_workers(self) -> None:
        for runner in self.runners.values():
            runner.start()
        self.timers.start()
        self.retention.start()
        if self.mirrors:
            self.mirrors.start()

    def _stop_workers(self) -> None:
        self.retention.stop()
        if self.mirrors:
            self.mirrors.stop()
        self.timers.stop()
        for runner in self.runners.values():
            runner.stop()

    def run_pending(self) -> int:
        """Run every job that is due now, in every queue (tests and the demo use this to settle)."""
        total = 0
        while ran := sum(runner.run_pending() for runner in self.runners.values()):
            total += ran
        return total


def build(settings: Settings, config: HotfixConfig, *, clock: Clock | None = None, poll_seconds: float = 1.0,
          prune_every: timedelta = PRUNE_EVERY) -> Bot:
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    wakers: dict[str, Callable[[], None]] = {}
    metrics = Metrics()
    service = HotfixService(engine, config.policy(), {r.name: r for r in config.repos}, clock,
                            wake=lambda queue: wakers[queue]() if queue in wakers else None, metrics=metrics)
    timers = TimerScheduler(service, clock)
    app = _bolt_app(settings)
    error_replies = ErrorReplies()
    error_replies.register(app)
    register_all(app, service)
    delivery = SlackDelivery(service, _web_client(settings, timeout=10), config.slack, metrics)
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    git_ops = _git_ops(settings, config)
    mirrors = MirrorRefresher(git_ops, lambda: service.repos.values(), config.git.mirror_refresh)
    runners = {
        SLACK: JobRunner(engine, SLACK, delivery.handlers, clock, worker_id=worker_id, poll_seconds=poll_seconds),
        GIT: JobRunner(engine, GIT, GitWorker(service, git_ops, metrics).handlers, clock,
                       worker_id=worker_id, poll_seconds=poll_seconds),
        PROBE: JobRunner(engine, PROBE, DeployProbe(service).handlers, clock, worker_id=worker_id,
                         poll_seconds=poll_seconds),
    }
    wakers.update({queue: runner.wake for queue, runner in runners.items()}, **{TIMERS: timers.wake})
    retention = RetentionSchedule(engine, clock, keep=config.retention.keep, every=prune_every)
    bot = Bot(settings, config, engine, service, app, timers, runners, delivery, metrics=metrics,
              retention=retention, mirrors=mirrors, error_replies=error_replies)
    metrics.watch(is_leader=lambda: bot.role == "leader",
                  database=lambda: gauges.read(engine, now=clock.now(), queues=runners))
    return bot


def _git_ops(settings: Settings, config: HotfixConfig) -> GitOps:
    return GitOps(settings.workdir, author_name=config.git.author_name, author_email=config.git.author_email)


def _bolt_app(settings: Settings) -> App:
    return App(
        signing_secret=settings.signing_secret or "",  # None in Socket Mode, whose envelopes are not signed
        client=_web_client(settings, timeout=2),  # inside Slack's 3 s: views.open, ephemeral refusals
        token_verification_enabled=False,  # `hotfix-bot doctor` checks the token; start-up must not need Slack
        # Listeners only touch the database and queue the rest, so they finish in milliseconds; answering after
        # they return also avoids Bolt's race where an error right after ack() loses the acknowledgement.
        process_before_response=True,
    )


def _web_client(settings: Settings, *, timeout: int, token: str | None = None) -> WebClient:
    retries = [ConnectionErrorRetryHandler(max_retry_count=1)]
    return WebClient(token=token or settings.bot_token, base_url=settings.slack_api_url, timeout=timeout,
                     retry_handlers=retries)


# --- for the commands beside `serve` (bot.tools): the same adapters, built here too ----------------------------------
def engine_for(database_url: str) -> Engine:
    """An engine on an existing database: it neither creates nor migrates the schema."""
    return make_engine(database_url)


def web_client(settings: Settings, *, timeout: int, token: str | None = None) -> WebClient:
    """A Web API client like the bot's, for `token` (default: the bot token)."""
    return _web_client(settings, timeout=timeout, token=token)


# --- the code host: GitHub, for the repos that name a GitHub repository (doctor checks it today) ---------------------
from bot.codehost.port import CodeHost  # noqa: E402  (light: the port and the domain only)


def code_host(settings: Settings, config: HotfixConfig, *, timeout: float = 30.0) -> CodeHost | None:
    """GITHUB_TOKEN at GITHUB_API_URL, else at [github] api_url; None without a token (a repo on GitHub is then
    refused at start: see bot.config.load_config)."""
    from bot.codehost.github import GitHubCodeHost  # githubkit is a heavy import: only when GitHub is used
    from bot.codehost.github_client import GitHubClient

    if settings.github.token is None:
        return None
    return GitHubCodeHost(GitHubClient(settings.github.token, settings.github_api_url(config), timeout=timeout))
