"""Delivers the Slack outbox: the status message (posted once, then updated in place) and thread replies."""
from __future__ import annotations

import logging
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import SlackSection
from bot.domain.hotfix import EventKind, Hotfix
from bot.domain.timers import Timer
from bot.metrics import Metrics
from bot.service.hotfixes import HotfixService, event_from_payload
from bot.service.runner import Handler, RetryLater
from bot.slack import replies, views
from bot.store.jobs import Job

log = logging.getLogger(__name__)


class SlackDelivery:
    def __init__(self, service: HotfixService, client: WebClient, channels: SlackSection,
                 metrics: Metrics | None = None) -> None:
        self.service = service
        self.client = client
        self.metrics = metrics or Metrics()
        self.configure(channels)

    def configure(self, channels: SlackSection) -> None:
        self.channel = channels.channel
        self.security_channel = channels.security_channel
        self.stakeholders_channel = channels.stakeholders_channel

    @property
    def handlers(self) -> dict[str, Handler]:
        return {"status": self.post_status, "announce": self.announce, "dm": self.direct_message,
                "stakeholders": self.tell_stakeholders}

    def post_status(self, job: Job) -> None:
        hotfix = self.service.get(f"HF-{job.hotfix_id}")
        self._status(hotfix)

    def announce(self, job: Job) -> None:
        hotfix = self.service.get(f"HF-{job.hotfix_id}")
        event = event_from_payload(job.payload)
        events = self.service.timeline(hotfix.key)[1] if event.kind is EventKind.CLOSED else ()
        channel, thread_ts = self.service.status_message_of(hotfix) or self._status(hotfix)
        message = replies.announcement(event, hotfix, self.service.policy.approvals, events,
                                       times=self.service.policy.times, private=self._is_security_channel(channel))
        if message is None:
            return
        self._call("chat_postMessage", channel=channel, thread_ts=thread_ts, **message.as_kwargs())
        self.metrics.reply_posted(event.kind.value, self.service.clock.now() - event.at)

    def direct_message(self, job: Job) -> None:
        hotfix = self.service.get(f"HF-{job.hotfix_id}")
        message = replies.direct_message(event_from_payload(job.payload), hotfix, self.service.policy.approvals)
        if message is not None:
            self._call("chat_postMessage", channel=job.payload["user"], **message.as_kwargs())

    def tell_stakeholders(self, job: Job) -> None:
        """One short line per phase change, with a link to the thread."""
        if not self.stakeholders_channel:
            return
        hotfix = self.service.get(f"HF-{job.hotfix_id}")
        channel, ts = self.service.status_message_of(hotfix) or self._status(hotfix)
        link = self._call("chat_getPermalink", channel=channel, message_ts=ts)["permalink"]
        message = views.stakeholder_line(hotfix, job.payload["from"], job.payload["to"], link)
        self._call("chat_postMessage", channel=self.stakeholders_channel, **message.as_kwargs())

    def _status(self, hotfix: Hotfix) -> tuple[str, str]:
        timers = self.service.pending_timers(hotfix)
        if where := self.service.status_message_of(hotfix):
            message = self._status_message(hotfix, timers, channel=where[0])
            try:
                self._call("chat_update", channel=where[0], ts=where[1], **message.as_kwargs())
                return where
            except SlackApiError as err:
                if err.response.get("error") != "message_not_found":
                    raise
                log.warning("%s: status message was deleted; posting a new one", hotfix.key)
        channel = self.security_channel if hotfix.security and self.security_channel else self.channel
        message = self._status_message(hotfix, timers, channel=channel)
        response = self._call("chat_postMessage", channel=channel, **message.as_kwargs())
        self.service.remember_status_message(hotfix, channel=response["channel"], ts=response["ts"])
        return response["channel"], response["ts"]

    def _status_message(self, hotfix: Hotfix, timers: list[Timer], *, channel: str) -> views.Message:
        """A security hotfix's details only in a message that lives in the security channel: a reload that adds
        the channel must not reveal them in a message posted to the public one before."""
        private = self._is_security_channel(channel)
        return views.status_message(hotfix, self.service.policy.approvals, timers, now=self.service.clock.now(),
                                    private=private)

    def _is_security_channel(self, channel: str) -> bool:
        return self.security_channel is not None and channel == self.security_channel

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
