"""A stand-in for Slack's Web API on 127.0.0.1, for `hotfix-bot demo`: it answers like Slack and remembers
what the bot posted, so the demo can print the thread and click the buttons a person would see."""
from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TEAM_ID = "T0DEMO"
BOT_USER_ID = "U0HOTFIXBOT"
_JSON_ARGS = ("blocks", "attachments", "view", "metadata")


@dataclass
class Posted:
    """One thing a person could see: a message, an update of one, an ephemeral note or an opened modal."""

    kind: str  # "message", "update", "ephemeral", "modal"
    channel: str
    text: str
    at: datetime
    ts: str = ""
    thread_ts: str | None = None
    user: str | None = None  # who sees an ephemeral note
    trigger_id: str | None = None  # the click or command that opened a modal
    blocks: list[dict[str, Any]] = field(default_factory=list)
    view: dict[str, Any] | None = None


class StandInSlack:
    """POST /api/<method> answered the way Slack answers; everything the bot posts is kept in `posted`."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._serial = itertools.count(1)
        self.posted: list[Posted] = []
        self.messages: dict[tuple[str, str], Posted] = {}
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> StandInSlack:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.stand_in = self  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, args=(0.05,), name="stand-in-slack", daemon=True).start()
        self._server = server
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def origin(self) -> str:
        assert self._server is not None, "use `with StandInSlack(...) as slack:`"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.origin}/api/"

    def message(self, channel: str, ts: str) -> Posted | None:
        with self._lock:
            return self.messages.get((channel, ts))

    def since(self, index: int) -> list[Posted]:
        with self._lock:
            return self.posted[index:]

    def modal_opened_by(self, trigger_id: str) -> Posted | None:
        with self._lock:
            return next((p for p in self.posted if p.kind == "modal" and p.trigger_id == trigger_id), None)

    # --- answering the bot (on the server's threads) -------------------------------------------------------------
    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            answer = _ANSWERS.get(method)
            return answer(self, args) if answer else {"ok": True}

    def _record(self, posted: Posted) -> Posted:
        self.posted.append(posted)
        return posted

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._serial):06d}"

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args["channel"], self._next_ts()
        posted = self._record(Posted("message", channel, args.get("text", ""), self._now(), ts=ts,
                                     thread_ts=args.get("thread_ts"), blocks=args.get("blocks") or []))
        self.messages[(channel, ts)] = posted
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "text": posted.text}}

    def _update_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args["channel"], args["ts"]
        if (channel, ts) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        updated = Posted("update", channel, args.get("text", ""), self._now(), ts=ts, blocks=args.get("blocks") or [])
        self.messages[(channel, ts)] = self._record(updated)
        return {"ok": True, "channel": channel, "ts": ts, "text": updated.text}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        self._record(Posted("ephemeral", args["channel"], args.get("text", ""), self._now(), user=args.get("user")))
        return {"ok": True, "message_ts": self._next_ts()}

    def _open_view(self, args: dict[str, Any]) -> dict[str, Any]:
        view = {**args["view"], "id": f"V{next(self._serial):010d}", "team_id": TEAM_ID}
        title = (view.get("title") or {}).get("text", "")
        self._record(Posted("modal", "", title, self._now(), trigger_id=args.get("trigger_id"), view=view))
        return {"ok": True, "view": view}

    def _permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args["channel"], args["message_ts"].replace(".", "")
        return {"ok": True, "channel": channel, "permalink": f"https://demo.slack.com/archives/{channel}/p{ts}"}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team": "Demo", "user": "hotfix-bot", "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                "bot_id": "B0HOTFIX", "url": "https://demo.slack.com/"}


_ANSWERS: dict[str, Callable[[StandInSlack, dict[str, Any]], dict[str, Any]]] = {
    "chat.postMessage": StandInSlack._post_message,
    "chat.update": StandInSlack._update_message,
    "chat.postEphemeral": StandInSlack._post_ephemeral,
    "chat.getPermalink": StandInSlack._permalink,
    "views.open": StandInSlack._open_view,
    "views.push": StandInSlack._open_view,
    "views.publish": lambda slack, args: {"ok": True, "view": {**args.get("view", {}), "id": "VHOME"}},
    "auth.test": StandInSlack._auth_test,
}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        url = urlsplit(self.path)
        args = _read_args(self, url.query)
        if url.path.startswith("/api/"):
            self._reply(self.server.stand_in.answer(url.path.removeprefix("/api/"), args))  # type: ignore[attr-defined]
        else:  # a response_url: the bot's replies to a slash command or a click
            self._reply({"ok": True})

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo prints the conversation, not the HTTP traffic

    def _reply(self, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _read_args(request: BaseHTTPRequestHandler, query: str) -> dict[str, Any]:
    raw = request.rfile.read(int(request.headers.get("Content-Length") or 0)).decode("utf-8")
    args: dict[str, Any] = dict(parse_qsl(query))
    if (request.headers.get("Content-Type") or "").startswith("application/json") and raw:
        args.update(json.loads(raw))
    else:
        args.update(parse_qsl(raw, keep_blank_values=True))
    for name in _JSON_ARGS:
        if isinstance(args.get(name), str):
            args[name] = json.loads(args[name])
    return args
