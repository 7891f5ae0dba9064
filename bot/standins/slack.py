"""The stand-in Slack: a local Web API that records and answers what the bot sends, as Slack answers it.

The demo and the benchmarks play against it as it is; the tests install Slack's own checks on top
(tests/support/fake_slack.py)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from http.server import ThreadingHTTPServer
from typing import Any

from bot.standins.slack_calls import MESSAGE_METHODS, Call, Fault, brief, matches, texts_in
from bot.standins.slack_http import Handler, Reply, Request
from bot.standins.slack_workspace import Workspace

__all__ = ["MESSAGE_METHODS", "Call", "StandInSlack"]


class StandInSlack:
    """A ThreadingHTTPServer on 127.0.0.1:0 speaking Slack's Web API at `url`.

    Every refused or doubtful call is listed in `problems`; which calls are refused or doubtful is up to the
    checks a subclass adds (`_refused_outright`, `_problems_in`, `_doubts`): the stand-in itself accepts any
    well-formed call. `now` stamps each call (the demo passes its clock's).
    """

    def __init__(self, *, valid_tokens: Iterable[str] | None = None, team_id: str = "T0TEAM",
                 bot_user_id: str = "U0HOTFIXBOT", bot_id: str = "B0HOTFIX",
                 now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._valid_tokens = frozenset(valid_tokens) if valid_tokens is not None else None
        self._ids = {"team_id": team_id, "bot_user_id": bot_user_id, "bot_id": bot_id}
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._port = 0  # a free one at the first start; the same one after stop() (Slack back after an outage)
        self._socket_mode_url: str | None = None  # what apps.connections.open hands out
        self.reset()

    # Lifecycle
    def start(self) -> StandInSlack:
        if self._server is None:
            server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
            self._port = server.server_address[1]
            server.daemon_threads = True
            server.stand_in = self  # type: ignore[attr-defined]
            # A short poll interval keeps stop() quick; the default waits up to 0.5 s.
            serving = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
            serving.start()
            self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StandInSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL for `WebClient(base_url=...)`."""
        return f"{self._origin()}/api/"

    def response_url(self, key: str = "1") -> str:
        """A response_url for payloads; what the app posts there is recorded as method "response_url"."""
        return f"{self._origin()}/respond/{key}"

    def _origin(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started; use it in a `with` block or start() it")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # Setup
    def reset(self) -> None:
        """Forget every call, problem, fault, message and view."""
        with self._changed:
            self._calls: list[Call] = []
            self._failed_calls: list[Call] = []
            self._problems: list[str] = []
            self._faults: dict[str, deque[Fault]] = {}
            self._workspace = Workspace(**self._ids)

    def fail_next(self, method: str, *, status: int = 429, retry_after: int = 1, times: int = 1,
                  error: str | None = None) -> None:
        """The next `times` calls to `method` answer HTTP `status` (429 carries Retry-After).

        With `error`, they answer HTTP 200 `{"ok": false, "error": error}` instead.
        """
        with self._changed:
            self._faults.setdefault(method, deque()).append(Fault(status, retry_after, times, error))

    def offer_socket_mode(self, url: str, *, app_token: str) -> None:
        """apps.connections.open, called with `app_token`, answers with `url` (a FakeSocketMode's)."""
        self._socket_mode_url = url
        if self._valid_tokens is not None:
            self._valid_tokens |= {app_token}

    def add_user(self, user_id: str, **fields: Any) -> None:
        """Override fields of the user object users.info answers for `user_id`."""
        with self._changed:
            self._workspace.add_user(user_id, **fields)

    # What was recorded
    @property
    def calls(self) -> list[Call]:
        with self._changed:
            return list(self._calls)

    @property
    def failed_calls(self) -> list[Call]:
        """Attempts answered by an injected fault; they are not in `calls`."""
        with self._changed:
            return list(self._failed_calls)

    @property
    def problems(self) -> list[str]:
        with self._changed:
            return list(self._problems)

    def take_problems(self) -> list[str]:
        """Return and forget the problems so far: for tests that provoke them on purpose."""
        with self._changed:
            taken, self._problems = self._problems, []
            return taken

    def assert_no_problems(self) -> None:
        __tracebackhide__ = True
        problems = self.problems
        if problems:
            raise AssertionError("The stand-in Slack saw invalid calls:\n  " + "\n  ".join(problems))

    def calls_to(self, method: str, /, **match: Any) -> list[Call]:
        return [c for c in self.calls if c.method == method and matches(c, match)]

    def last(self, method: str, /, **match: Any) -> Call:
        found = self.calls_to(method, **match)
        if not found:
            raise AssertionError(f"no call to {method} matching {match}; recorded:\n{self._summary()}")
        return found[-1]

    def wait_for(self, method: str, /, count: int = 1, timeout: float = 5.0, **match: Any) -> list[Call]:
        """Block until `count` calls to `method` match; the app answers Slack before it finishes its work."""
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [c for c in self._calls if c.method == method and matches(c, match)]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"waited {timeout}s for {count} call(s) to {method} matching {match}, "
                        f"saw {len(found)}; recorded:\n{self._summary()}"
                    )
                self._changed.wait(min(remaining, 0.05))
            return found

    def texts(self, channel: str | None = None) -> list[str]:
        """Every text the app sent as a message, blocks included, for "nothing leaked" checks."""
        sent = [c for c in self.calls if c.method in MESSAGE_METHODS and c.error is None]
        chosen = [c for c in sent if channel is None or c.get("channel") == channel]
        return [text for call in chosen for text in texts_in(call.args)]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message as it reads now, after any chat.update."""
        with self._changed:
            return self._workspace.message(channel, ts)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The channel's messages (not thread replies) as they read now, oldest first."""
        with self._changed:
            return self._workspace.messages(channel)

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Replies posted under `thread_ts`, oldest first."""
        with self._changed:
            return self._workspace.thread(channel, thread_ts)

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._changed:
            return self._workspace.view(view_id)

    def _summary(self) -> str:
        lines = [f"  {c.method} {brief(c.args)}{f' -> {c.error}' if c.error else ''}" for c in self._calls]
        lines += [f"  (fault) {c.method} -> {c.error}" for c in self._failed_calls]
        lines += [f"  problem: {p}" for p in self._problems]
        return "\n".join(lines) or "  (nothing)"

    # Answering requests (called on the server's threads)
    def answer_api(self, method: str, request: Request) -> Reply:
        args = request.args
        with self._changed:
            fault = self._take_fault(method)
            if fault is not None:
                self._failed_calls.append(Call(method, args, self._now(), fault.describe()))
                return fault.reply()
            answer = (self._refusal(method, request) or self._socket_mode_answer(method, request)
                      or self._workspace_answer(method, args))
            self._record(Call(method, args, self._now(), answer.get("error"), answer))
            return Reply(200, answer)

    def answer_response_url(self, url: str, request: Request) -> Reply:
        args = request.args
        with self._changed:
            problems = request.problems + self._problems_in("response_url", args)
            self._note("response_url", args, problems)
            error = "invalid_arguments" if problems else None
            self._record(Call("response_url", {**args, "response_url": url}, self._now(), error))
            return Reply(400 if problems else 200, "invalid_blocks" if problems else "ok")

    def check_answer(self, surface: str, args: dict[str, Any]) -> None:
        """A message the app put in its HTTP answer (a slash command's ephemeral reply) meets the same limits."""
        with self._changed:
            self._note(surface, args, self._problems_in("response_url", args))

    def _take_fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.popleft()
        return fault

    def _refusal(self, method: str, request: Request) -> dict[str, Any] | None:
        refused = self._refused_outright(method, request)
        if refused is not None:
            return refused
        args = request.args
        problems = [*request.problems, *self._problems_in(method, args)]
        self._note(method, args, problems)
        if problems:
            messages = [f"[ERROR] {p}" for p in problems]
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": messages}}
        return None

    def _socket_mode_answer(self, method: str, request: Request) -> dict[str, Any] | None:
        """apps.connections.open takes the app-level token only; a bot token is refused as Slack refuses it."""
        if method != "apps.connections.open":
            return None
        if not (request.token or "").startswith("xapp-"):
            self._problems.append(f"{method}: called without the app-level xapp- token")
            return {"ok": False, "error": "not_allowed_token_type"}
        if self._socket_mode_url is None:
            return {"ok": True, "url": "ws://127.0.0.1:9/nobody-listens"}
        return {"ok": True, "url": self._socket_mode_url}

    def _workspace_answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._workspace.answer(method, args)
        except (KeyError, TypeError, AttributeError, ValueError) as odd:  # arguments of an unexpected shape
            self._problems.append(f"{method}: the fake could not answer ({odd!r})")
            return {"ok": False, "error": "internal_error"}

    def _note(self, method: str, args: dict[str, Any], problems: list[str]) -> None:
        self._problems += [f"{method}: {p}" for p in [*problems, *self._doubts(method, args)]]

    # The checks a test's stand-in adds; this one accepts every well-formed call.
    def _refused_outright(self, method: str, request: Request) -> dict[str, Any] | None:
        """Slack's answer to a call it refuses before reading the arguments (unknown method, bad token)."""
        return None

    def _problems_in(self, method: str, args: dict[str, Any]) -> list[str]:
        """What makes Slack refuse these arguments (a response_url's message is checked as "response_url")."""
        return []

    def _doubts(self, method: str, args: dict[str, Any]) -> list[str]:
        """What Slack accepts but warns about."""
        return []

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self._changed.notify_all()
