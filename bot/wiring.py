"""The one composition root: builds every adapter and hands each its collaborators."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from sqlalchemy import Engine

from bot.config import HotfixConfig, Settings
from bot.codehost.port import CodeHost
from bot.codehost.worker import CodeHostWorker
from bot.deploy.probe import DeployProbe
from bot.domain.stats import Stats
from bot.git.ops import GitOps
from bot.git.refresher import MirrorRefresher
from bot.git.worker import GitWorker
from bot.metrics import Metrics
from bot.runtime.leadership import Leadership
from bot.runtime.retention import PRUNE_EVERY, RetentionSchedule
from bot.runtime.runner import JobRunner
from bot.runtime.scheduler import TimerScheduler
from bot.runtime.wakeups import Wakeups
from bot.service.clock import Clock, SystemClock
from bot.service.hotfixes import HotfixService
from bot.service.jobs import CODE_HOST, GIT, PROBE
from bot.service.ports import Rules
from bot.slack.delivery import SlackDelivery
from bot.slack.errors import ErrorReplies
from bot.slack.handlers import UseCases, register_all
from bot.slack.notifier import SLACK, slack_jobs
from bot.store import gauges, jobs
from bot.store.migrations import revisions
from bot.store.db import create_schema, make_engine
from bot.store.statistics import HOME_SPAN, hotfix_stats
from bot.store.status_messages import StoredStatusMessages
from bot.store.unit_of_work import StoredUnits


@dataclass(frozen=True)
class _Snapshot:
    config: HotfixConfig
    rules: Rules


class CurrentConfig:
    """hotfix.toml as one frozen snapshot; a reload swaps the whole of it in one assignment, nothing is mutated."""

    def __init__(self, config: HotfixConfig) -> None:
        self.swap(config)

    def swap(self, config: HotfixConfig) -> None:
        rules = Rules(config.policy(), MappingProxyType({r.name: r for r in config.repos}),
                      people=config.people_on_github(), code_host_poll=config.github.poll,
                      ci_wait=config.github.ci_wait)
        self._snapshot = _Snapshot(config, rules)

    def config(self) -> HotfixConfig:
        return self._snapshot.config

    def rules(self) -> Rules:
        return self._snapshot.rules


@dataclass
class Bot:
    settings: Settings
    current: CurrentConfig
    engine: Engine
    clock: Clock
    service: HotfixService
    app: App
    timers: TimerScheduler
    status_messages: StoredStatusMessages
    runners: dict[str, JobRunner] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    leadership: Leadership | None = None
    retention: RetentionSchedule | None = None
    mirrors: MirrorRefresher | None = None
    error_replies: ErrorReplies = field(default_factory=ErrorReplies)

    @property
    def config(self) -> HotfixConfig:
        return self.current.config()

    def reload(self, config: HotfixConfig) -> None:
        """A changed hotfix.toml (SIGHUP): new decisions follow it; what hotfixes already recorded stays."""
        self.current.swap(config)

    def start_workers(self) -> None:
        """Run timers and jobs while this process is the leader (see bot.runtime.leadership)."""
        self.leadership = Leadership(self.engine, on_elected=self._run_workers, on_deposed=self._stop_workers,
                                     retry_seconds=self.settings.leader_retry_seconds)
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
        if self.retention:
            self.retention.start()
        if self.mirrors:
            self.mirrors.start()

    def _stop_workers(self) -> None:
        if self.retention:
            self.retention.stop()
        if self.mirrors:
            self.mirrors.stop()
        self.timers.stop()
        for runner in self.runners.values():
            runner.stop()

    def unfinished_jobs(self) -> int:
        """Jobs queued and not yet done, in every queue (the demo waits for none before it goes on)."""
        return jobs.unfinished(self.engine, now=self.clock.now())

    def run_pending(self) -> int:
        """Run every job that is due now, in every queue (tests and the demo use this to settle)."""
        total = 0
        while ran := sum(runner.run_pending() for runner in self.runners.values()):
            total += ran
        return total


def build(settings: Settings, config: HotfixConfig, *, clock: Clock | None = None, poll_seconds: float = 1.0,
          prune_every: timedelta = PRUNE_EVERY, github_write_interval: float | None = None) -> Bot:
    """`github_write_interval`: seconds between writes to GitHub (default: as GitHub asks; tests use 0)."""
    clock = clock or SystemClock()
    current = CurrentConfig(config)
    engine = make_engine(settings.database_url)
    create_schema(engine)
    wakeups = Wakeups()  # the runners below register their queues
    metrics = Metrics()
    service = HotfixService(StoredUnits(engine, clock, wakeups.wake), clock, current.rules,
                            subscribers=[slack_jobs], measures=metrics)
    status_messages = StoredStatusMessages(engine)
    app = _bolt_app(settings)
    error_replies = ErrorReplies()
    error_replies.register(app)
    register_all(app, UseCases(service.people, service.read, current.rules, clock, _home_stats(engine, current)))
    repos = lambda: current.rules().repos  # noqa: E731
    delivery = SlackDelivery(service.read, status_messages, _web_client(settings, timeout=10),
                             channels=lambda: current.config().slack, rules=current.rules, clock=clock, metrics=metrics)
    git_ops = _git_ops(settings, config)
    runner = dict(clock=clock, worker_id=f"{socket.gethostname()}:{os.getpid()}", wakeups=wakeups,
                  poll_seconds=poll_seconds)
    runners = {
        SLACK: JobRunner(engine, SLACK, delivery.handlers, **runner),
        GIT: JobRunner(engine, GIT, GitWorker(service.reports, service.read, git_ops, repos, metrics).handlers,
                       **runner),
        PROBE: JobRunner(engine, PROBE, DeployProbe(service.reports, service.read, repos).handlers, **runner),
    }
    if (host := code_host(settings, config, write_interval=github_write_interval)) is not None:
        runners[CODE_HOST] = JobRunner(engine, CODE_HOST, _code_host_worker(service, host, current).handlers, **runner)
    bot = Bot(settings, current, engine, clock, service, app, TimerScheduler(service.timers, clock, wakeups=wakeups),
              status_messages, runners, metrics=metrics,
              retention=RetentionSchedule(engine, clock, keep=lambda: current.config().retention.keep,
                                          every=prune_every),
              mirrors=MirrorRefresher(git_ops, lambda: repos().values(), lambda: current.config().git.mirror_refresh),
              error_replies=error_replies)
    metrics.watch(is_leader=lambda: bot.role == "leader",
                  database=lambda: gauges.read(engine, now=clock.now(), queues=runners))
    return bot


def _code_host_worker(service: HotfixService, host: CodeHost, current: CurrentConfig) -> CodeHostWorker:
    return CodeHostWorker(service.code_host, service.reports, service.read, host, current.rules)


def _home_stats(engine: Engine, current: CurrentConfig):
    def stats(now: datetime) -> Stats:
        return hotfix_stats(engine, current.rules().policy.times, now=now, span=HOME_SPAN)
    return stats


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


def scratch_git_ops(workdir: Path, *, network_timeout: float) -> GitOps:
    """GitOps in a directory of its own (doctor's): a running bot's mirrors are never touched."""
    return GitOps(workdir, network_timeout=network_timeout)


def schema_revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """The migration revisions the database is at, and the ones this version needs."""
    return revisions(engine)


# --- the code host: GitHub, for the repos that name a GitHub repository (doctor checks it today) ---------------------


def code_host(settings: Settings, config: HotfixConfig, *, timeout: float = 30.0,
              write_interval: float | None = None) -> CodeHost | None:
    """GITHUB_TOKEN, else the GitHub App (GITHUB_APP_ID and its key), at GITHUB_API_URL, else at [github] api_url;
    None without either (a repo on GitHub is then refused at start: see bot.config.load_config)."""
    from bot.codehost.github import GitHubCodeHost  # githubkit is a heavy import: only when GitHub is used
    from bot.codehost.github_app import GitHubApp
    from bot.codehost.github_client import GitHubClient

    github, url = settings.github, settings.github_api_url(config)
    options = {"timeout": timeout} if write_interval is None else {"timeout": timeout, "write_interval": write_interval}
    if github.token is not None:
        return GitHubCodeHost(GitHubClient(github.token, url, **options))
    if github.app_id is not None and github.app_key is not None:
        return GitHubCodeHost(GitHubApp(github.app_id, github.app_key, url, **options))
    return None
