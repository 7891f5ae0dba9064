"""HTTP mode: POST /slack/events goes to Bolt, GET /healthz answers for load balancers."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.wiring import Bot

SLACK_PATH = "/slack/events"


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
    return create_server(wsgi_app(bot), host=host, port=port, threads=threads, ident="hotfix-bot")
