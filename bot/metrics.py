"""Prometheus metrics: what the bot does, through the few calls of `Metrics`; nothing else touches prometheus_client.

Every process has its own registry, so every replica exposes its own figures and only the leader's count what the
leader does (deliveries, git steps, timers). What lives in the database (active hotfixes, the job queues) is read
when Prometheus scrapes, through a function the composition root hands in: this module never imports the store.
"""
from __future__ import annotations

import errno
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import start_http_server

from bot.config import ConfigError

PREFIX = "hotfix_bot"

_MINUTES = (60, 300, 600, 900, 1800, 2700, 3600, 7200, 14400, 43200, 86400)  # people's steps: minutes to a day
_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)  # the bot's own work


@dataclass(frozen=True)
class DatabaseFigures:
    """Read at scrape time: active hotfixes by (stage, severity); per job queue, jobs waiting or running and the
    age of the oldest of them in seconds."""

    active: Mapping[tuple[str, str], int] = field(default_factory=dict)
    queued: Mapping[str, tuple[int, float]] = field(default_factory=dict)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._steps = Histogram(f"{PREFIX}_step_duration_seconds", "How long each step of the procedure took, "
                                "observed when it completes", ["step"], buckets=_MINUTES, registry=self.registry)
        self._lead_time = Histogram(f"{PREFIX}_reply_lead_time_seconds", "From an event (a click, a git result) to "
                                    "its thread reply posted in Slack", ["event"], buckets=_SECONDS,
                                    registry=self.registry)
        self._slack_calls = Counter(f"{PREFIX}_slack_api_calls_total", "Slack Web API calls made by the outbox",
                                    ["method"], registry=self.registry)
        self._slack_errors = Counter(f"{PREFIX}_slack_api_errors_total", "Slack Web API calls that failed, by "
                                     "Slack's error (rate_limited, server_error, unreachable, or its error code)",
                                     ["method", "error"], registry=self.registry)
        self._slack_limited = Counter(f"{PREFIX}_slack_api_rate_limited_total", "Slack Web API calls answered 429",
                                      ["method"], registry=self.registry)
        self._git_steps = Histogram(f"{PREFIX}_git_step_duration_seconds", "Git steps run by the git worker",
                                    ["step"], buckets=_SECONDS, registry=self.registry)
        self._git_failures = Counter(f"{PREFIX}_git_step_failures_total", "Git steps that failed (remote_unavailable "
                                     "retries by itself; refused waits for Retry)", ["step", "reason"],
                                     registry=self.registry)
        self._lateness = Histogram(f"{PREFIX}_timer_lateness_seconds", "How long after its due time a timer fired",
                                   ["kind"], buckets=_SECONDS, registry=self.registry)
        self._leader = Gauge(f"{PREFIX}_leader", "1 while this process is the leader (runs timers, deliveries and "
                             "git jobs), else 0", registry=self.registry)
        self._leader.set(0)

    # --- what the bot reports -------------------------------------------------------------------------------------
    def step_completed(self, step: str, took: timedelta) -> None:
        self._steps.labels(step).observe(max(took.total_seconds(), 0.0))

    def reply_posted(self, event: str, took: timedelta) -> None:
        self._lead_time.labels(event).observe(max(took.total_seconds(), 0.0))

    def slack_call(self, method: str, error: str | None = None) -> None:
        """`method` as the client names it (chat_postMessage); shown as Slack does (chat.postMessage)."""
        name = method.replace("_", ".", 1)
        self._slack_calls.labels(name).inc()
        if error is not None:
            self._slack_errors.labels(name, error).inc()
            if error == "rate_limited":
                self._slack_limited.labels(name).inc()

    def git_step(self, step: str, seconds: float, failure: str | None = None) -> None:
        self._git_steps.labels(step).observe(seconds)
        if failure is not None:
            self._git_failures.labels(step, failure).inc()

    def timer_fired(self, kind: str, late: timedelta) -> None:
        self._lateness.labels(kind).observe(max(late.total_seconds(), 0.0))

    def watch(self, *, is_leader: Callable[[], bool], database: Callable[[], DatabaseFigures]) -> None:
        """What is read at scrape time: the leadership, and the database."""
        self._leader.set_function(lambda: 1.0 if is_leader() else 0.0)
        self.registry.register(_DatabaseCollector(database))

    # --- exposing them ----------------------------------------------------------------------------------------------
    def exposition(self) -> tuple[bytes, str]:
        """The body and content type of a scrape."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def serve(self, *, host: str, port: int) -> Callable[[], None]:
        """A small HTTP server for Prometheus on its own port (Socket Mode has none); returns how to stop it."""
        try:
            server, thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise ConfigError(f"metrics port {port} on {host} is in use by another process; stop it, or choose "
                                  "another with --metrics-port.") from None
            raise ConfigError(f"can't serve metrics on {host}:{port} ({err.strerror or err}); choose another "
                              "--metrics-port, or --host.") from None

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        return stop


class _DatabaseCollector:
    def __init__(self, read: Callable[[], DatabaseFigures]) -> None:
        self.read = read

    def describe(self) -> list:
        return []  # read only when scraped: registering it must not query the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = self.read()
        active = GaugeMetricFamily(f"{PREFIX}_active_hotfixes", "Hotfixes not yet closed or rejected",
                                   labels=["stage", "severity"])
        for (stage, severity), count in sorted(figures.active.items()):
            active.add_metric([stage, severity], count)
        depth = GaugeMetricFamily(f"{PREFIX}_jobs_queued", "Jobs waiting or running, per queue", labels=["queue"])
        oldest = GaugeMetricFamily(f"{PREFIX}_oldest_job_age_seconds", "Age of the oldest job waiting or running, "
                                   "per queue (0 when none)", labels=["queue"])
        for queue, (count, age) in sorted(figures.queued.items()):
            depth.add_metric([queue], count)
            oldest.add_metric([queue], age)
        yield from (active, depth, oldest)
