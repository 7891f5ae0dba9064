"""The HTTP side of the stand-in Slack: reading a Web API request the way Slack does, and writing the reply."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

JSON_ENCODED_ARGS = ("blocks", "attachments", "view", "metadata")


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any] | str
    headers: tuple[tuple[str, str], ...] = ()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet; calls are recorded instead

    def _handle(self) -> None:
        slack = self.server.stand_in  # type: ignore[attr-defined]  # the StandInSlack that owns this server
        url = urlsplit(self.path)
        request = read_request(self, url.query)
        if url.path.startswith("/api/"):
            reply = slack.answer_api(url.path.removeprefix("/api/"), request)
        elif url.path.startswith("/respond/"):
            origin = f"http://127.0.0.1:{self.server.server_address[1]}"
            reply = slack.answer_response_url(f"{origin}{url.path}", request)
        else:
            reply = Reply(404, {"ok": False, "error": "not_found"})
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        is_json = isinstance(reply.body, dict)
        payload = (json.dumps(reply.body) if is_json else reply.body).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8" if is_json else "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


@dataclass(frozen=True)
class Request:
    args: dict[str, Any]
    token: str | None
    problems: list[str]  # the body itself was malformed


def read_request(request: BaseHTTPRequestHandler, query: str) -> Request:
    """Arguments from query and body, and the token; JSON-encoded form values are decoded."""
    raw = request.rfile.read(int(request.headers.get("Content-Length") or 0)).decode("utf-8")
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    args: dict[str, Any] = dict(parse_qsl(query))
    problems = []
    if content_type == "application/json" and raw:
        body = _json_object(raw)
        if body is None:
            problems.append("the JSON body is not a JSON object")
        args.update(body or {})
        args.pop("token", None)  # Slack ignores a token inside a JSON body: it must be in the header
    elif content_type == "application/x-www-form-urlencoded":
        args.update(parse_qsl(raw, keep_blank_values=True))
    elif raw:
        problems.append(f"unsupported Content-Type {content_type!r}")
    problems += _decode_json_args(args)
    authorization = request.headers.get("Authorization", "")
    bearer = authorization.removeprefix("Bearer ").strip() if authorization.startswith("Bearer ") else None
    form_token = args.pop("token", None)
    return Request(args, bearer or form_token, problems)


def _json_object(raw: str) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _decode_json_args(args: dict[str, Any]) -> list[str]:
    problems = []
    for name in JSON_ENCODED_ARGS:
        if isinstance(args.get(name), str):
            try:
                args[name] = json.loads(args[name])
            except json.JSONDecodeError:
                problems.append(f"{name} is not valid JSON")
    return problems
