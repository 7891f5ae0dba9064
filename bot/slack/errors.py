"""The one error handler: a refusal becomes a polite message to the person; anything else an apology and a log."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.transitions import Refused
from bot.slack.blocks import escape
from bot.slack.refusals import refusal_text

log = logging.getLogger(__name__)

SORRY = "Sorry, that failed on our side and nothing was changed. Try again in a minute; the error is logged."


class ErrorReplies:
    """Registered as the app's error handler; owns the threads that send the replies."""

    def __init__(self, senders: int = 4) -> None:
        self._messengers = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="tell")
        self._count_lock = threading.Lock()
        self._sent = 0
        self._done = 0

    def register(self, app: App) -> None:
        @app.error
        def on_error(error: Exception, body: dict, client: WebClient) -> BoltResponse:
            if isinstance(error, Refused):
                self.tell(client, body, refusal_text(error))
            else:
                log.error("unhandled error for %s: %r", body.get("type", "request"), error, exc_info=error)
                self.tell(client, body, SORRY)
            return BoltResponse(status=200, body="")  # acknowledged: the person has been told what happened

    def tell(self, client: WebClient, body: dict, text: str) -> None:
        """Sent after Slack has its answer: the refusal must not hold up the acknowledgement."""
        with self._count_lock:
            self._sent += 1
        self._messengers.submit(self._tell_and_count, client, body, escape(text))

    def wait_until_told(self, timeout: float = 5.0) -> bool:
        """True once every refusal handed to tell() has been sent (tests read them right after)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._count_lock:
                if self._done >= self._sent:
                    return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        self._messengers.shutdown(wait=False)

    def _tell_and_count(self, client: WebClient, body: dict, text: str) -> None:
        try:
            _tell(client, body, text)
        finally:
            with self._count_lock:
                self._done += 1


def _tell(client: WebClient, body: dict, text: str) -> None:
    """An ephemeral note in the channel where the person clicked, else a direct message."""
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    if not user:
        return
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            client.chat_postMessage(channel=user, text=text)
    except SlackApiError as err:
        log.warning("could not tell %s: %s", user, err.response.get("error"))
    except OSError as err:  # Slack unreachable: the request is still answered; the person sees no reply
        log.warning("could not tell %s: %s", user, err)
