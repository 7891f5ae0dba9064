"""HTTP mode: POST /slack/events goes to Bolt, GET /healthz answers for load balancers."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.wiring import Bot

SLACK_PATH = "/slack/events"
MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are a few KiB; anything this big is refused unread


def wsgi_app(bot: Bot) -> Callable:
    slack = SlackRequestHandler(bot.app, path=SLACK_PATH)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body = json.dumps({"status": "ok", "role": bot.role}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return slack(environ, start_response)

    return application


def make_server(bot: Bot, *, host: str, port: int, threads: int = 8):
    """A waitress server; `.run()` serves until closed, `.effective_port` is the bound port."""
    # waitress answers 413 as soon as the Content-Length (or a chunked body) passes the limit, before the
    # signature is checked and before the body is buffered, so an unsigned 300 MB POST costs no memory.
    return create_server(wsgi_app(bot), host=host, port=port, threads=threads, ident="hotfix-bot",
                         max_request_body_size=MAX_BODY_BYTES + 1)
