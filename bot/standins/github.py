"""The stand-in GitHub: a local REST API over one real bare remote that validates, records and answers.

Every request must match an operation of GitHub's OpenAPI description with valid parameters; what does
not is listed in `problems` (answered 422 or 404, as GitHub does). Answers are built from the remote's
real refs and commits and completed to the operation's response schema, with GitHub's headers: ETag (and
304 for a matching If-None-Match, not counted against the rate limit), x-ratelimit-*, x-github-request-id,
Link for pages. The demo plays against it as it is; the tests add their assertions (tests/support).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.standins import github_spec
from bot.standins.github_account import (
    APP_OPERATIONS,
    BOT_LOGIN,
    DEFAULT_TOKEN,
    UNCOUNTED_OPERATIONS,
    Account,
)
from bot.standins.github_calls import Answer, Call, error
from bot.standins.github_controls import RepositoryControls
from bot.standins.github_faults import Fault, FaultInjection
from bot.standins.github_git import RemoteGit
from bot.standins.github_http import Handler, etag_matches, json_body, page, version_problems
from bot.standins.github_objects import Site
from bot.standins.github_records import numeric_id
from bot.standins.github_repo import Repository
from bot.standins.github_webhooks import WebhookSender

__all__ = ["BOT_LOGIN", "DEFAULT_TOKEN", "Exchange", "StandInGitHub"]


@dataclass(frozen=True)
class Exchange:
    """One request and the stand-in's answer to it."""

    method: str
    path: str
    operation: str | None  # GitHub's operationId, e.g. "pulls/merge"
    query: dict[str, str]
    body: Any
    status: int
    answer: Any
    headers: dict[str, str]
    fault: str | None = None  # set when an injected fault answered


class StandInGitHub(RepositoryControls, FaultInjection):
    """A ThreadingHTTPServer on 127.0.0.1:0 serving GitHub's REST API for `owner/repo` at `url`, over the bare
    repository at `remote_path` (cloned by people from `remote_url`)."""

    def __init__(
        self,
        remote_path: Path,
        remote_url: str,
        *,
        owner: str = "acme",
        repo: str = "payments",
        tokens: dict[str, str] | None = None,
        app_id: int = 1,
        installation_id: int = 42,
        rate_limit: int = 5000,
        cache_max_age: int = 60,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._remote_path, self._remote_url = Path(remote_path), remote_url
        self._owner, self._repo_name = owner, repo
        self._account = Account(tokens, app_id, installation_id, rate_limit)
        self._cache_max_age, self._now = cache_max_age, now
        self._spec = github_spec.load()
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._exchanges: list[Exchange] = []
        self._problems: list[str] = []
        self._faults: deque[Fault] = deque()
        self._request_ids = count(1)
        self.webhooks = WebhookSender()
        self.repository: Repository | None = None

    # Lifecycle
    def start(self) -> StandInGitHub:
        if self._server is None:
            server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            server.daemon_threads = True
            server.github = self  # type: ignore[attr-defined]
            threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
            self._server = server
            site = Site(self.url.rstrip("/"), self._owner, self._repo_name, self._remote_url)
            self.repository = Repository(RemoteGit(self._remote_path), site, announce=self.webhooks.send)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.webhooks.stop()

    def __enter__(self) -> StandInGitHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API root, for `GitHub(base_url=...)` and GITHUB_API_URL."""
        if self._server is None:
            raise RuntimeError("The stand-in GitHub is not started: use `with StandInGitHub(...) as github:`, "
                               "or start()")
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def app_id(self) -> int:
        return self._account.app_id

    @property
    def installation_id(self) -> int:
        return self._account.installation_id

    # What was recorded
    @property
    def requests(self) -> list[Exchange]:
        with self._changed:
            return list(self._exchanges)

    def requests_to(self, operation: str) -> list[Exchange]:
        return [e for e in self.requests if e.operation == operation]

    def wait_for(self, operation: str, count: int = 1, timeout: float = 5.0) -> list[Exchange]:
        """Block until `count` requests to `operation` were answered."""
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [e for e in self._exchanges if e.operation == operation]) < count:
                if time.monotonic() >= deadline:
                    seen = "\n  ".join(f"{e.method} {e.path} -> {e.status}" for e in self._exchanges)
                    raise AssertionError(
                        f"waited {timeout}s for {count} {operation} request(s), saw {len(found)}:"
                        f"\n  {seen or '(nothing)'}"
                    )
                self._changed.wait(0.05)
            return found

    @property
    def rate_limit_remaining(self) -> int:
        with self._changed:
            return self._account.remaining

    @property
    def problems(self) -> list[str]:
        with self._changed:
            return list(self._problems)

    def take_problems(self) -> list[str]:
        """Return and forget the problems so far: for tests that provoke them on purpose."""
        with self._changed:
            taken, self._problems = self._problems, []
            return taken

    @property
    def spec(self) -> github_spec.Spec:
        return self._spec

    # Answering (on the server's threads)
    def answer(self, method: str, target: str, headers: dict[str, str], raw_body: bytes) -> tuple[int, bytes, dict]:
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        with self._changed:
            matched = self._spec.match(method, url.path)
            operation = matched[0] if matched else None
            body, body_problems = json_body(raw_body)
            single = {name: values[0] for name, values in query.items()}
            if operation is None:
                self._problems.append(f"{method} {url.path}: no such GitHub REST operation")
                answer, fault = error(404, "Not Found"), None
            else:
                answer, fault = self._answer(operation, matched[1], query, single, body, body_problems, headers)
            status, payload, reply_headers = self._finish(method, url.path, query, operation, answer, headers)
            recorded = json.loads(payload) if payload else None
            self._exchanges.append(
                Exchange(method, url.path, operation.id if operation else None, single, body, status, recorded,
                         reply_headers, fault)
            )
            self._changed.notify_all()
            return status, payload, reply_headers

    def _answer(
        self,
        operation: github_spec.Operation,
        path_args: dict[str, str],
        query: dict[str, list[str]],
        single: dict[str, str],
        body: Any,
        body_problems: list[str],
        headers: dict[str, str],
    ) -> tuple[Answer, str | None]:
        problems = body_problems or self._spec.request_problems(operation, path_args, query, body)
        problems += version_problems(headers)
        where = f"{operation.method} {operation.template} ({operation.id})"
        self._problems += [f"{where}: {p}" for p in problems]
        login, auth_problem = self._account.authenticate(operation.id, headers.get("authorization", ""))
        if auth_problem:
            self._problems.append(f"{where}: {auth_problem}")
            app = operation.id in APP_OPERATIONS
            return error(401, "A JSON web token could not be decoded" if app else "Bad credentials"), None
        fault = self._take_fault(operation.id)
        if fault:
            return fault.reply(self._account.reset_at), fault.name
        if problems:
            return error(422, "Invalid request.\n\n" + "\n".join(problems)), None
        if not self._serves(path_args):
            return error(404, "Not Found"), None
        if operation.id not in UNCOUNTED_OPERATIONS and self._account.used_up:
            return error(403, f"API rate limit exceeded for user ID {numeric_id(login)}."), "rate_limit_used_up"
        call = Call(path_args, single, body, login, self._now())
        return self._operation_answer(operation.id, call), None

    def _serves(self, path_args: dict[str, str]) -> bool:
        if "owner" in path_args and (path_args["owner"], path_args["repo"]) != (self._owner, self._repo_name):
            return False
        return "installation_id" not in path_args or path_args["installation_id"] == str(self.installation_id)

    def _operation_answer(self, operation_id: str, call: Call) -> Answer:
        if operation_id == "rate-limit/get":
            return Answer(200, self._account.rate_limit_json())
        if operation_id == "apps/get-repo-installation":
            return Answer(200, self._account.installation_json(self._repo.site))
        if operation_id == "apps/create-installation-access-token":
            return self._account.new_installation_token(call.now)
        return self._repo.handler(operation_id)(call)

    def _finish(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        operation: github_spec.Operation | None,
        answer: Answer,
        request_headers: dict[str, str],
    ) -> tuple[int, bytes, dict[str, str]]:
        headers = {
            "content-type": "application/json; charset=utf-8",
            "x-github-media-type": "github.v3; format=json",
            "x-github-request-id": f"FA4E:{next(self._request_ids):04X}:0:0:{int(time.time()):X}",
            "x-github-api-version-selected": request_headers.get("x-github-api-version", "2022-11-28"),
        }
        body = answer.body
        if answer.paged:
            body, link = page(body, self.url.rstrip("/") + path, query)
            if link:
                headers["link"] = link
        schema = operation.response_schema(answer.status) if operation else None
        if schema is not None:
            body = self._spec.complete(schema, body)
        payload = json.dumps(body).encode() if body is not None else b""
        status = answer.status
        counted = operation is not None and operation.id not in UNCOUNTED_OPERATIONS and status < 500
        if method == "GET" and status == 200:
            headers.update(self._cache_headers(payload))
            if etag_matches(request_headers.get("if-none-match", ""), headers["etag"]):
                status, payload, counted = 304, b"", False
        if counted and not any(name == "x-ratelimit-remaining" for name, _ in answer.headers):
            self._account.spend()
        headers.update(self._account.rate_headers())
        headers.update(dict(answer.headers))
        return status, payload, headers

    def _cache_headers(self, payload: bytes) -> dict[str, str]:
        age = self._cache_max_age
        return {
            "etag": f'W/"{hashlib.sha256(payload).hexdigest()[:40]}"',
            "cache-control": f"private, max-age={age}, s-maxage={age}",
            "vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
        }
