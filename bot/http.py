"""HTTP mode: POST /slack/events goes to Bolt, GET /healthz answers for load balancers, GET /metrics for Prometheus."""
from __future__ import annotations

import errno
import json
import socket
from collections.abc import Callable, Iterable

from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.config import ConfigError
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
        if environ.get("PATH_INFO") == "/metrics" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body, content_type = bot.metrics.exposition()
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]
        return slack(environ, start_response)

    return application


def make_server(bot: Bot, *, host: str, port: int, threads: int = 8):
    """A waitress server; `.run()` serves until closed, `.effective_port` is the bound port."""
    # waitress answers 413 as soon as the Content-Length (or a chunked body) passes the limit, before the
    # signature is checked and before the body is buffered, so an unsigned 300 MB POST costs no memory.
    try:
        return create_server(wsgi_app(bot), host=host, port=port, threads=threads, ident="hotfix-bot",
                             max_request_body_size=MAX_BODY_BYTES + 1)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is in use by another process; stop it, or choose another "
                              "port with --port.") from None
        if err.errno == errno.EACCES:
            raise ConfigError(f"not allowed to listen on port {port}; ports below 1024 need privileges, choose "
                              "another with --port (e.g. 3000) and put a proxy in front.") from None
        if err.errno == errno.EADDRNOTAVAIL or isinstance(err, socket.gaierror):
            raise ConfigError(f"can't listen on {host}: no such address on this host; use --host 0.0.0.0 or one "
                              "of its addresses.") from None
        raise
