"""Socket Mode's connection to Slack, kept trying through an outage.

Slack unreachable (no network, an outage, the WebSocket refused) is one line in the log and a retry with back-off:
Slack outages happen during incidents, and the leader's timers and jobs must keep running meanwhile. Slack refusing
the app-level token is permanent: `TokenRefused`, for `serve` to turn into its one-line error. Once connected,
slack_sdk's own monitor reconnects after a dropped connection.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.socket_mode.client import BaseSocketModeClient

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 30.0


class TokenRefused(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def try_connect(client: BaseSocketModeClient) -> str | None:
    """Open a connection: None once connected, else why Slack could not be reached. Raises TokenRefused."""
    try:
        client.connect_to_new_endpoint(force=True)  # a new WebSocket URL each time: the last one may have expired
    except SlackApiError as answer:
        if answer.response.status_code >= 500:
            return f"Slack answered HTTP {answer.response.status_code}"
        raise TokenRefused(answer.response.get("error") or "error") from None
    except (OSError, SlackClientError) as down:  # urllib's URLError, a refused or dropped WebSocket, a timeout
        return _reason(down)
    return None


def keep_trying(client: BaseSocketModeClient, reason: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
    """After a failed `try_connect`: retry, waiting twice as long each time up to LONGEST_RETRY_SECONDS, until
    connected. One warning for the outage and one line when it is over; SIGTERM interrupts the wait."""
    log.warning("can't reach Slack (%s); retrying with back-off until it answers, timers and jobs keep running",
                reason)
    started, delay = time.monotonic(), FIRST_RETRY_SECONDS
    while reason is not None:
        sleep(delay)
        delay = min(delay * 2, LONGEST_RETRY_SECONDS)
        reason = try_connect(client)
        if reason is not None:
            log.debug("still can't reach Slack (%s); next try in %.0f s", reason, delay)
    log.info("connected to Slack in Socket Mode after %.0f s without it", time.monotonic() - started)


def _reason(error: Exception) -> str:
    cause = getattr(error, "reason", None) or error  # URLError wraps the socket's own error
    return str(cause).strip().splitlines()[0][:200] if str(cause).strip() else type(cause).__name__
