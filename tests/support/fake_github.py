"""A local fake of GitHub's REST API over one real bare remote: it validates, records and answers.

Every request must match an operation of GitHub's OpenAPI description with valid parameters; what does
not is listed in `problems` (answered 422 or 404, as GitHub does) and `assert_no_problems()` fails the
test. Answers are built from the remote's real refs and commits and completed to the operation's
response schema, with GitHub's headers: ETag (and 304 for a matching If-None-Match, not counted against
the rate limit), x-ratelimit-*, x-github-request-id, Link for pages.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support import fake_github_spec
from tests.support.fake_github_git import RemoteGit
from tests.support.fake_github_http import (
    Handler,
    etag_matches,
    json_body,
    jwt_problem,
    page,
    version_problems,
)
from tests.support.fake_github_objects import (
    CheckRun,
    Protection,
    PullRequest,
    Review,
    Site,
    Status,
    numeric_id,
)
from tests.support.fake_github_repo import Answer, Call, Repository, error
from tests.support.gitrepos import Remote

DEFAULT_TOKEN = "ghp_fake0hotfix0bot0token"
BOT_LOGIN = "hotfix-bot"
APP_OPERATIONS = frozenset({"apps/get-repo-installation", "apps/create-installation-access-token"})
UNCOUNTED_OPERATIONS = frozenset({"rate-limit/get"})  # GitHub does not count GET /rate_limit
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID."
)
REVIEW_STATES = frozenset({"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"})


@dataclass(frozen=True)
class Exchange:
    """One request and the fake's answer to it."""

    method: str
    path: str
    operation: str | None  # GitHub's operationId, e.g. "pulls/merge"
    query: dict[str, str]
    body: Any
    status: int
    answer: Any
    headers: dict[str, str]
    fault: str | None = None  # set when an injected fault answered


@dataclass
class _Fault:
    name: str
    times: int
    operation: str | None
    reply: Callable[[int], Answer]  # given the rate limit's reset epoch


class FakeGitHub:
    """A ThreadingHTTPServer on 127.0.0.1:0 serving GitHub's REST API for `owner/repo` at `url`."""

    def __init__(
        self,
        remote: Remote,
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
        self._remote, self._owner, self._repo_name = remote, owner, repo
        self._tokens = dict(tokens) if tokens is not None else {DEFAULT_TOKEN: BOT_LOGIN}
        self.app_id, self.installation_id = app_id, installation_id
        self._rate_limit, self._cache_max_age, self._now = rate_limit, cache_max_age, now
        self._spec = fake_github_spec.load()
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._exchanges: list[Exchange] = []
        self._problems: list[str] = []
        self._faults: deque[_Fault] = deque()
        self._request_ids = count(1)
        self._used = 0
        self._reset_at = int(time.time()) + 3600
        self.repository: Repository | None = None

    # Lifecycle
    def start(self) -> FakeGitHub:
        if self._server is None:
            server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            server.daemon_threads = True
            server.fake = self  # type: ignore[attr-defined]
            threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
            self._server = server
            site = Site(self.url.rstrip("/"), self._owner, self._repo_name, self._remote.url)
            self.repository = Repository(RemoteGit(self._remote.path), site)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API root, for `GitHub(base_url=...)` and GITHUB_API_URL."""
        if self._server is None:
            raise RuntimeError(
                "FakeGitHub is not started; use `with FakeGitHub(remote) as github:` or start()"
            )
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    # Test-side controls
    def add_user(self, login: str, email: str) -> None:
        """Commits by `email` show `login` as their author, as GitHub links commits to accounts."""
        with self._changed:
            self._repo.logins_by_email[email.lower()] = login

    def open_pull(self, head: str, base: str, title: str, author: str = "engineer") -> int:
        """A pull request someone opened on GitHub; returns its number."""
        with self._changed:
            return self._repo.open_pull(head, base, title, author, self._now()).number

    def add_review(
        self, number: int, login: str, state: str, *, commit: str | None = None, body: str = ""
    ) -> int:
        """A review by `login` on `commit` (default: the pull request's head now); returns its id."""
        if state not in REVIEW_STATES:
            raise ValueError(f"review state {state!r} is not one of {sorted(REVIEW_STATES)}")
        with self._changed:
            pull = self._repo.pulls[number]
            sha = commit or self._repo.git.branch(pull.head) or pull.head_sha_at_merge or ""
            review = Review(next(self._repo.ids), login, state, sha, body, self._now())
            self._repo.reviews.setdefault(number, []).append(review)
            return review.id

    def set_check_run(
        self,
        ref: str,
        name: str,
        *,
        status: str = "completed",
        conclusion: str | None = "success",
        details_url: str | None = None,
    ) -> int:
        """Create, or update by name, a check run on the commit `ref` names; returns its id."""
        with self._changed:
            sha = self._sha(ref)
            runs = self._repo.check_runs.setdefault(sha, [])
            previous = next((r for r in runs if r.name == name), None)
            now = self._now()
            run = CheckRun(
                previous.id if previous else next(self._repo.ids),
                name,
                sha,
                status,
                conclusion if status == "completed" else None,
                previous.started_at if previous else now,
                now if status == "completed" else None,
                details_url or f"https://ci.example.com/{self._repo_name}/{sha[:7]}/{name}",
            )
            runs[:] = [r for r in runs if r.name != name] + [run]
            return run.id

    def set_status(
        self,
        ref: str,
        context: str,
        state: str,
        *,
        description: str | None = None,
        target_url: str | None = None,
    ) -> int:
        """A commit status on the commit `ref` names (the newest per context counts); returns its id."""
        with self._changed:
            sha = self._sha(ref)
            status = Status(next(self._repo.ids), sha, context, state, description, target_url, self._now())
            self._repo.statuses.setdefault(sha, []).append(status)
            return status.id

    def protect(
        self,
        branch: str,
        *,
        required_approvals: int = 0,
        required_checks: Iterable[str] = (),
        dismiss_stale_reviews: bool = False,
    ) -> None:
        """Branch protection: merging into `branch` needs these approvals and successful checks."""
        with self._changed:
            self._repo.protections[branch] = Protection(
                required_approvals, tuple(required_checks), dismiss_stale_reviews
            )

    def fail_next(self, times: int = 1, *, status: int = 502, operation: str | None = None) -> None:
        """The next `times` requests (to `operation`, an operationId, if given) answer a server error."""
        self._add_fault(
            f"http_{status}", times, operation, lambda reset: Answer(status, {"message": "Server Error"})
        )

    def secondary_rate_limit(
        self, times: int = 1, *, retry_after: int | None = 1, operation: str | None = None
    ) -> None:
        """The next `times` requests answer 403 with `retry-after`, as GitHub's secondary limit does (without
        it when `retry_after` is None: GitHub then asks for a wait of at least a minute)."""
        self._add_fault(
            "secondary_rate_limit",
            times,
            operation,
            lambda reset: Answer(
                403,
                {"message": SECONDARY_LIMIT_MESSAGE, "documentation_url": "https://docs.github.com/rest"},
                (("retry-after", str(retry_after)),) if retry_after is not None else (),
            ),
        )

    def primary_rate_limit(
        self, times: int = 1, *, status: int = 403, reset_in: int = 60, operation: str | None = None
    ) -> None:
        """The next `times` requests answer `status` (403 or 429) with x-ratelimit-remaining 0."""
        self._add_fault(
            "primary_rate_limit",
            times,
            operation,
            lambda reset: Answer(
                status,
                {
                    "message": "API rate limit exceeded for user ID 1.",
                    "documentation_url": "https://docs.github.com/rest",
                },
                (("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", str(int(time.time()) + reset_in))),
            ),
        )

    def forbid_next(
        self, times: int = 1, *, permissions: str = "pull_requests=write", operation: str | None = None
    ) -> None:
        """The next `times` requests answer 403 as GitHub does to a fine-grained token or an app lacking
        `permissions`, which it names in x-accepted-github-permissions."""
        self._add_fault(
            "forbidden",
            times,
            operation,
            lambda reset: Answer(
                403,
                {
                    "message": "Resource not accessible by personal access token",
                    "documentation_url": "https://docs.github.com/rest",
                },
                (("x-accepted-github-permissions", permissions),),
            ),
        )

    def _add_fault(
        self, name: str, times: int, operation: str | None, reply: Callable[[int], Answer]
    ) -> None:
        with self._changed:
            self._faults.append(_Fault(name, times, operation, reply))

    # What was recorded
    def pull(self, number: int) -> PullRequest:
        with self._changed:
            return self._repo.pulls[number]

    def comments(self, number: int) -> list[str]:
        with self._changed:
            return [c["body"] for c in self._repo.comments.get(number, [])]

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
            return self._rate_limit - self._used

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
        if problems := self.problems:
            raise AssertionError("Fake GitHub saw invalid requests:\n  " + "\n  ".join(problems))

    @property
    def spec(self) -> fake_github_spec.Spec:
        return self._spec

    @property
    def _repo(self) -> Repository:
        if self.repository is None:
            raise RuntimeError("FakeGitHub is not started")
        return self.repository

    def _sha(self, ref: str) -> str:
        sha = self._repo.git.rev(ref)
        if sha is None:
            raise ValueError(f"{ref!r} names no commit on the remote")
        return sha

    # Answering (on the server's threads)
    def answer(
        self, method: str, target: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, bytes, dict]:
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
                answer, fault = self._answer(
                    operation, matched[1], query, single, body, body_problems, headers
                )
            status, payload, reply_headers = self._finish(method, url.path, query, operation, answer, headers)
            self._exchanges.append(
                Exchange(
                    method,
                    url.path,
                    operation.id if operation else None,
                    single,
                    body,
                    status,
                    json.loads(payload) if payload else None,
                    reply_headers,
                    fault,
                )
            )
            self._changed.notify_all()
            return status, payload, reply_headers

    def _answer(
        self,
        operation: fake_github_spec.Operation,
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
        login, auth_problem = self._authenticate(operation, headers.get("authorization", ""))
        if auth_problem:
            self._problems.append(f"{where}: {auth_problem}")
            return error(
                401,
                "Bad credentials"
                if operation.id not in APP_OPERATIONS
                else "A JSON web token could not be decoded",
            ), None
        fault = self._take_fault(operation.id)
        if fault:
            return fault.reply(self._reset_at), fault.name
        if problems:
            return error(422, "Invalid request.\n\n" + "\n".join(problems)), None
        if (
            "owner" in path_args and (path_args["owner"], path_args["repo"]) != (self._owner, self._repo_name)
        ) or ("installation_id" in path_args and path_args["installation_id"] != str(self.installation_id)):
            return error(404, "Not Found"), None
        if operation.id not in UNCOUNTED_OPERATIONS and self._used >= self._rate_limit:
            return error(
                403, f"API rate limit exceeded for user ID {numeric_id(login)}."
            ), "rate_limit_used_up"
        call = Call(path_args, single, body, login, self._now())
        return self._operation_answer(operation.id, call), None

    def _operation_answer(self, operation_id: str, call: Call) -> Answer:
        if operation_id == "rate-limit/get":
            return Answer(200, self._rate_limit_json())
        if operation_id == "apps/get-repo-installation":
            return Answer(200, self._installation_json())
        if operation_id == "apps/create-installation-access-token":
            token = f"ghs_{hashlib.sha256(f'{time.time_ns()}'.encode()).hexdigest()[:36]}"
            self._tokens[token] = f"{BOT_LOGIN}[bot]"
            expires = (call.now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            return Answer(
                201,
                {
                    "token": token,
                    "expires_at": expires,
                    "repository_selection": "selected",
                    "permissions": {
                        "contents": "write",
                        "pull_requests": "write",
                        "checks": "read",
                        "statuses": "read",
                        "issues": "write",
                    },
                },
            )
        return self._repo.handler(operation_id)(call)

    def _finish(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        operation: Any,
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
            headers["etag"] = f'W/"{hashlib.sha256(payload).hexdigest()[:40]}"'
            headers["cache-control"] = (
                f"private, max-age={self._cache_max_age}, s-maxage={self._cache_max_age}"
            )
            headers["vary"] = "Accept, Authorization, Cookie, X-GitHub-OTP"
            if etag_matches(request_headers.get("if-none-match", ""), headers["etag"]):
                status, payload, counted = 304, b"", False
        if counted and not any(name == "x-ratelimit-remaining" for name, _ in answer.headers):
            self._used = min(self._used + 1, self._rate_limit)
        headers.update(self._rate_headers())
        headers.update(dict(answer.headers))
        return status, payload, headers

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self._rate_limit),
            "x-ratelimit-remaining": str(self._rate_limit - self._used),
            "x-ratelimit-used": str(self._used),
            "x-ratelimit-reset": str(self._reset_at),
            "x-ratelimit-resource": "core",
        }

    def _rate_limit_json(self) -> dict[str, Any]:
        core = {
            "limit": self._rate_limit,
            "remaining": self._rate_limit - self._used,
            "used": self._used,
            "reset": self._reset_at,
        }
        other = {"limit": 5000, "remaining": 5000, "used": 0, "reset": self._reset_at}
        return {"resources": {"core": core, "search": other, "graphql": other}, "rate": core}

    def _installation_json(self) -> dict[str, Any]:
        api = self.url.rstrip("/")
        at = "2024-01-01T00:00:00Z"
        return {
            "id": self.installation_id,
            "app_id": self.app_id,
            "app_slug": BOT_LOGIN,
            "target_id": self._repo.site.user(self._owner)["id"],
            "target_type": "Organization",
            "account": self._repo.site.user(self._owner),
            "repository_selection": "selected",
            "access_tokens_url": f"{api}/app/installations/{self.installation_id}/access_tokens",
            "repositories_url": f"{api}/installation/repositories",
            "html_url": f"https://github.com/organizations/{self._owner}/settings/installations/"
            f"{self.installation_id}",
            "events": ["pull_request", "pull_request_review", "check_run", "status"],
            "permissions": {
                "contents": "write",
                "pull_requests": "write",
                "checks": "read",
                "statuses": "read",
            },
            "created_at": at,
            "updated_at": at,
            "single_file_name": None,
            "suspended_by": None,
            "suspended_at": None,
        }

    def _authenticate(
        self, operation: fake_github_spec.Operation, authorization: str
    ) -> tuple[str, str | None]:
        """The caller's login, and what is wrong with its credentials (None if nothing)."""
        scheme, _, credential = authorization.partition(" ")
        if operation.id in APP_OPERATIONS:
            if scheme.lower() != "bearer":
                return "", "a GitHub App endpoint called without a JWT (Authorization: Bearer <jwt>)"
            return f"{BOT_LOGIN}[bot]", jwt_problem(credential.strip(), self.app_id)
        if operation.id in UNCOUNTED_OPERATIONS and not authorization:
            return "", None
        if scheme.lower() not in ("token", "bearer"):
            return "", "no token (Authorization: token <token> or Bearer <token>)"
        login = self._tokens.get(credential.strip())
        return (login, None) if login else ("", "the token is not one the fake knows (Bad credentials)")

    def _take_fault(self, operation_id: str) -> _Fault | None:
        fault = next((f for f in self._faults if f.operation in (None, operation_id)), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
        return fault
