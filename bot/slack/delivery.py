"""Delivers the Slack outbox: the status message (posted once, then updated in place) and thread replies."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import SlackSection
from bot.domain.hotfix import EventKind, Hotfix
from bot.domain.timers import Timer
from bot.metrics import Metrics
from bot.runtime.errors import RetryLater
from bot.runtime.runner import Handler
from bot.service.ports import Clock, Rules
from bot.service.queries import Queries
from bot.slack import github_status, replies, views
from bot.slack.notifier import DirectMessage, StakeholderLine, StatusRefresh, ThreadReply

log = logging.getLogger(__name__)


class StatusMessages(Protocol):
    """Where each hotfix's status message is: Slack's business, kept by the store for us."""

    def where(self, hotfix: int) -> tuple[str, str] | None: ...

    def remember(self, hotfix: int, channel: str, ts: str) -> None: ...


class SlackDelivery:
    def __init__(self, read: Queries, status_messages: StatusMessages, client: WebClient, *,
                 channels: Callable[[], SlackSection], rules: Callable[[], Rules], clock: Clock,
                 metrics: Metrics | None = None) -> None:
        self.read, self.status_messages, self.client = read, status_messages, client
        self.channels, self.rules, self.clock = channels, rules, clock
        self.metrics = metrics or Metrics()

    @property
    def handlers(self) -> dict[type, Handler]:
        return {StatusRefresh: self.post_status, ThreadReply: self.announce, DirectMessage: self.direct_message,
                StakeholderLine: self.tell_stakeholders}

    def post_status(self, job: StatusRefresh, attempt: int = 1) -> None:
        self._status(self.read.load(job.hotfix))

    def announce(self, job: ThreadReply, attempt: int = 1) -> None:
        assert job.event is not None
        hotfix, event, policy = self.read.load(job.hotfix), job.event, self.rules().policy
        events = self.read.history(job.hotfix)[1] if event.kind is EventKind.CLOSED else ()
        channel, thread_ts = self.status_messages.where(job.hotfix) or self._status(hotfix)
        message = replies.announcement(event, hotfix, policy.approvals, events, times=policy.times,
                                       private=self._is_security_channel(channel), github=self._on_github(hotfix))
        if message is None:
            return
        self._call("chat_postMessage", channel=channel, thread_ts=thread_ts, **message.as_kwargs())
        self.metrics.reply_posted(event.kind.value, self.clock.now() - event.at)

    def direct_message(self, job: DirectMessage, attempt: int = 1) -> None:
        assert job.event is not None
        hotfix = self.read.load(job.hotfix)
        message = replies.direct_message(job.event, hotfix, self.rules().policy.approvals)
        if message is not None:
            self._call("chat_postMessage", channel=job.user, **message.as_kwargs())

    def tell_stakeholders(self, job: StakeholderLine, attempt: int = 1) -> None:
        """One short line per phase change, with a link to the thread."""
        stakeholders = self.channels().stakeholders_channel
        if not stakeholders:
            return
        hotfix = self.read.load(job.hotfix)
        channel, ts = self.status_messages.where(job.hotfix) or self._status(hotfix)
        link = self._call("chat_getPermalink", channel=channel, message_ts=ts)["permalink"]
        message = views.stakeholder_line(hotfix, job.before, job.after, link)
        self._call("chat_postMessage", channel=stakeholders, **message.as_kwargs())

    def _status(self, hotfix: Hotfix) -> tuple[str, str]:
        assert hotfix.number is not None
        timers = self.read.pending_timers(hotfix.number)
        if where := self.status_messages.where(hotfix.number):
            message = self._status_message(hotfix, timers, channel=where[0])
            try:
                self._call("chat_update", channel=where[0], ts=where[1], **message.as_kwargs())
                return where
            except SlackApiError as err:
                if err.response.get("error") != "message_not_found":
                    raise
                log.warning("%s: status message was deleted; posting a new one", hotfix.key)
        channels = self.channels()
        channel = channels.security_channel if hotfix.security and channels.security_channel else channels.channel
        message = self._status_message(hotfix, timers, channel=channel)
        response = self._call("chat_postMessage", channel=channel, **message.as_kwargs())
        self.status_messages.remember(hotfix.number, response["channel"], response["ts"])
        return response["channel"], response["ts"]

    def _status_message(self, hotfix: Hotfix, timers: list[Timer], *, channel: str) -> views.Message:
        """A security hotfix's details only in a message that lives in the security channel: a reload that adds
        the channel must not reveal them in a message posted to the public one before."""
        private = self._is_security_channel(channel)
        github = None
        if self._on_github(hotfix):
            assert hotfix.number is not None
            github = github_status.on_github(hotfix, self.read.history(hotfix.number)[1])
        return views.status_message(hotfix, self.rules().policy.approvals, timers, now=self.clock.now(),
                                    private=private, github=github)

    def _on_github(self, hotfix: Hotfix) -> bool:
        """The repo is reviewed on GitHub (a repo gone from the configuration since: as declared, plain git)."""
        spec = self.rules().repos.get(hotfix.repo)
        return spec is not None and spec.on_github

    def _is_security_channel(self, channel: str) -> bool:
        security = self.channels().security_channel
        return security is not None and channel == security

    def _call(self, method: str, **kwargs):
        try:
            answer = getattr(self.client, method)(**kwargs)
        except SlackApiError as err:
            status = err.response.status_code
            self.metrics.slack_call(method, error=_error_name(err))
            if status == 429:
                retry_after = int(err.response.headers.get("Retry-After", "1") or 1)
                raise RetryLater(f"Slack rate limit on {method}", after=timedelta(seconds=retry_after)) from err
            if status >= 500:
                raise RetryLater(f"Slack answered {status} to {method}") from err
            raise
        except OSError as err:  # connection refused, DNS, timeouts
            self.metrics.slack_call(method, error="unreachable")
            raise RetryLater(f"Slack unreachable for {method}: {err}") from err
        self.metrics.slack_call(method)
        return answer


def _error_name(err: SlackApiError) -> str:
    """A bounded label: rate_limited, server_error, or Slack's own error code (channel_not_found...)."""
    status = err.response.status_code
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return str(err.response.get("error") or f"http_{status}")
