"""HTTP mode: POST /slack/events goes to Bolt, POST /github/events takes GitHub's webhooks, GET /healthz answers
for load balancers, GET /metrics for Prometheus."""
from __future__ import annotations

import errno
import json
import logging
import socket
from collections.abc import Callable, Iterable

from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer, create_server

from bot.codehost import webhooks
from bot.config import ConfigError
from bot.wiring import Bot

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
GITHUB_PATH = "/github/events"
MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are a few KiB; anything this big is refused unread
_READ_CHUNK = 64 * 1024
# What GitHub's delivery log shows for a refusal: fixed words, never anything of what was sent.
_REFUSALS = {
    400: "Not a GitHub webhook delivery this bot reads.",
    401: "The X-Hub-Signature-256 does not match: set the webhook's secret to GITHUB_WEBHOOK_SECRET.",
    404: "Not found.",
    405: "Only POST.",
    413: "Too large.",
    415: "Set the webhook's content type to application/json.",
}


def wsgi_app(bot: Bot) -> Callable:
    slack = SlackRequestHandler(bot.app, path=SLACK_PATH)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method in ("GET", "HEAD"):
            body = json.dumps({"status": "ok", "role": bot.role}).encode()
            return _answer(start_response, "200 OK", body, "application/json")
        if path == "/metrics" and method in ("GET", "HEAD"):
            body, content_type = bot.metrics.exposition()
            return _answer(start_response, "200 OK", body, content_type)
        if path == GITHUB_PATH:
            return github_events(bot, environ, start_response)
        return slack(environ, start_response)

    return application


def github_events(bot: Bot, environ: dict, start_response: Callable) -> Iterable[bytes]:
    """One webhook delivery: verified, then the hotfixes it concerns poll GitHub now. Answered at once (GitHub
    gives up after 10 s); the polls run on the timer worker."""
    secret = bot.settings.github.webhook_secret
    if not secret:
        return _refuse(start_response, 404, "webhooks are off: GITHUB_WEBHOOK_SECRET is not set")
    if environ.get("REQUEST_METHOD") != "POST":
        return _refuse(start_response, 405, "not a POST", [("Allow", "POST")])
    if environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        return _refuse(start_response, 415, "the webhook sends form-encoded bodies")
    body = read_body(environ, webhooks.MAX_BODY_BYTES)
    if body is None:
        return _refuse(start_response, 413, f"the body is over {webhooks.MAX_BODY_BYTES} bytes")
    answer = webhooks.handle_delivery(_headers(environ), body, secret)
    if isinstance(answer, webhooks.Refusal):
        return _refuse(start_response, answer.status, answer.reason, delivery=_delivery_id(environ))
    polling = bot.service.timers.poll_now(answer)
    log.info("GitHub delivery %s (%s): %d hotfix(es) poll now", answer.delivery, answer.event, polling)
    body = json.dumps({"polling": polling}).encode()
    return _answer(start_response, "202 Accepted", body, "application/json")


def read_body(environ: dict, limit: int) -> bytes | None:
    """The request's body, or None when it is over `limit` bytes: a stated length is judged before anything is
    read, a body of no stated length is read at most `limit` + 1 bytes."""
    stream = environ["wsgi.input"]
    stated = environ.get("CONTENT_LENGTH") or ""
    if stated.isdigit():
        length = int(stated)
        return None if length > limit else stream.read(length)
    chunks, size = [], 0
    while size <= limit and (chunk := stream.read(min(_READ_CHUNK, limit + 1 - size))):
        chunks.append(chunk)
        size += len(chunk)
    return None if size > limit else b"".join(chunks)


def _headers(environ: dict) -> dict[str, str]:
    return {name: value for name, value in environ.items() if name.startswith("HTTP_") and isinstance(value, str)}


def _delivery_id(environ: dict) -> str:
    given = environ.get("HTTP_X_GITHUB_DELIVERY", "")
    return given if webhooks.DELIVERY_ID.fullmatch(given) else "(no valid id)"


def _refuse(start_response: Callable, status: int, reason: str, headers: list[tuple[str, str]] | None = None,
            delivery: str = "(unread)") -> Iterable[bytes]:
    log.info("GitHub delivery %s refused with %d: %s", delivery, status, reason)
    phrase = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
              413: "Content Too Large", 415: "Unsupported Media Type"}.get(status, "Refused")
    body = (_REFUSALS.get(status, "Refused.") + "\n").encode()
    return _answer(start_response, f"{status} {phrase}", body, "text/plain; charset=utf-8", headers or [])


def _answer(start_response: Callable, status: str, body: bytes, content_type: str,
            headers: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))), *(headers or [])])
    return [body]


def body_limit(bot: Bot, path: str) -> int:
    """The most a request to `path` may send: GitHub's 25 MB on the webhook path while webhooks are on, Slack's
    1 MiB everywhere else."""
    if path == GITHUB_PATH and bot.settings.github.webhook_secret:
        return webhooks.MAX_BODY_BYTES
    return MAX_BODY_BYTES


def _limited_channel(bot: Bot) -> type[HTTPChannel]:
    """waitress reads a request's whole body before the app sees it; its parser is told each path's limit as soon
    as the request line is read, so it answers 413 at the Content-Length (or once a chunked body passes the
    limit) before buffering the rest."""

    class Limit:
        def __init__(self, adjustments: object, max_body: int) -> None:
            self._adjustments, self.max_request_body_size = adjustments, max_body + 1  # waitress refuses >= this

        def __getattr__(self, name: str) -> object:
            return getattr(self._adjustments, name)

    class Parser(HTTPRequestParser):
        def parse_header(self, header_plus: bytes) -> None:
            super().parse_header(header_plus)
            self.adj = Limit(self.adj, body_limit(bot, self.path))

    class Channel(HTTPChannel):
        parser_class = Parser

    return Channel


def make_server(bot: Bot, *, host: str, port: int, threads: int = 8):
    """A waitress server; `.run()` serves until closed, `.effective_port` is the bound port."""
    try:
        server = create_server(wsgi_app(bot), host=host, port=port, threads=threads, ident="hotfix-bot",
                               max_request_body_size=webhooks.MAX_BODY_BYTES + 1)
    except OSError as err:
        raise _listen_error(err, host, port) from None
    channel = _limited_channel(bot)
    listeners = [server] if isinstance(server, BaseWSGIServer) else list(server.map.values())  # one per address
    for listener in listeners:
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = channel
    return server


def _listen_error(err: OSError, host: str, port: int) -> Exception:
    if err.errno == errno.EADDRINUSE:
        return ConfigError(f"port {port} on {host} is in use by another process; stop it, or choose another "
                           "port with --port.")
    if err.errno == errno.EACCES:
        return ConfigError(f"not allowed to listen on port {port}; ports below 1024 need privileges, choose "
                           "another with --port (e.g. 3000) and put a proxy in front.")
    if err.errno == errno.EADDRNOTAVAIL or isinstance(err, socket.gaierror):
        return ConfigError(f"can't listen on {host}: no such address on this host; use --host 0.0.0.0 or one "
                           "of its addresses.")
    return err
