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
from bot.slack.views import escape

log = logging.getLogger(__name__)

SORRY = "Sorry, that failed on our side and nothing was changed. Try again in a minute; the error is logged."


def register(app: App) -> None:
    @app.error
    def on_error(error: Exception, body: dict, client: WebClient) -> BoltResponse:
        if isinstance(error, Refused):
            tell(client, body, str(error))
        else:
            log.error("unhandled error for %s: %r", body.get("type", "request"), error, exc_info=error)
            tell(client, body, SORRY)
        return BoltResponse(status=200, body="")  # acknowledged: the person has been told what happened


_messengers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tell")
_count_lock = threading.Lock()
_counts = {"sent": 0, "done": 0}


def tell(client: WebClient, body: dict, text: str) -> None:
    """Sent after Slack has its answer: the refusal must not hold up the acknowledgement."""
    with _count_lock:
        _counts["sent"] += 1
    _messengers.submit(_tell_and_count, client, body, escape(text))


def wait_until_told(timeout: float = 5.0) -> bool:
    """True once every refusal handed to tell() has been sent (tests and the demo read them right after)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _count_lock:
            if _counts["done"] >= _counts["sent"]:
                return True
        time.sleep(0.01)
    return False


def _tell_and_count(client: WebClient, body: dict, text: str) -> None:
    try:
        _tell(client, body, text)
    finally:
        with _count_lock:
            _counts["done"] += 1


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
