"""githubkit, used as a good GitHub citizen: serial requests with writes spaced out, conditional GETs (a 304
costs no rate limit), and GitHub's failures turned into the port's errors instead of waits.

The waits GitHub asks for (`retry-after`, `x-ratelimit-reset`) are remembered: until they are over, every call
raises `CodeHostUnavailable(after=...)` at once, without a request, and the job runner retries later.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from githubkit import GitHub
from githubkit.auth import BaseAuthStrategy
from githubkit.cache import BaseCacheStrategy
from githubkit.exception import RateLimitExceeded, RequestError, RequestFailed
from githubkit.response import Response
from githubkit.throttling import BaseThrottler

from bot.codehost.port import CodeHostRefused, CodeHostUnavailable

DEFAULT_API_URL = "https://api.github.com"
WRITE_INTERVAL = 1.0  # GitHub: "wait at least one second between each request" that writes
CACHED_ANSWERS = 512
MAX_PAGES = 10  # of 100 items: lists longer than that are not a hotfix's
UNSPECIFIED_WAIT = timedelta(minutes=1)
_READS = frozenset({"GET", "HEAD", "OPTIONS"})

T = TypeVar("T")


class SerialThrottler(BaseThrottler):
    """One request at a time (GitHub asks clients not to make concurrent requests), writes `interval`
    apart."""

    def __init__(self, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self._interval, self._sleep = interval, sleep
        self._lock = threading.Lock()
        self._last_write = float("-inf")

    @contextmanager
    def acquire(self, request: httpx.Request) -> Generator[None, Any, Any]:
        with self._lock:
            writes = request.method not in _READS
            if writes and (wait := self._last_write + self._interval - time.monotonic()) > 0:
                self._sleep(wait)
            try:
                yield
            finally:
                if writes:
                    self._last_write = time.monotonic()

    @asynccontextmanager
    async def async_acquire(self, request: httpx.Request) -> AsyncGenerator[None, Any]:
        raise NotImplementedError("the bot calls GitHub from its worker threads, synchronously")
        yield  # pragma: no cover


@dataclass(frozen=True)
class _Cached:
    etag: str
    value: Any


class ConditionalCache:
    """The last answer to each GET with its ETag, least recently used dropped first."""

    def __init__(self, size: int = CACHED_ANSWERS) -> None:
        self._size = size
        self._answers: OrderedDict[str, _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> _Cached | None:
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
            return self._answers.get(key)

    def put(self, key: str, etag: str, value: Any) -> None:
        with self._lock:
            self._answers[key] = _Cached(etag, value)
            self._answers.move_to_end(key)
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)


@dataclass(frozen=True)
class Credentials:
    """How GitHub's refusals name the credentials a client calls with."""

    refused: str  # what a 401 means
    holder: str  # who lacks a permission on a 403: "the token", "the App"


TOKEN = Credentials("GitHub refused the token (401 Bad credentials): GITHUB_TOKEN is wrong, expired or revoked",
                    "the token")


class GitHubClient:
    """One token (or one App installation) on one GitHub (github.com or an Enterprise Server at `api_url`):
    its own ETag cache, rate limit and write spacing."""

    def __init__(self, token: str | BaseAuthStrategy, api_url: str = DEFAULT_API_URL, *,
                 write_interval: float = WRITE_INTERVAL, timeout: float = 30.0,
                 clock: Callable[[], float] = time.time, credentials: Credentials = TOKEN,
                 cache_strategy: BaseCacheStrategy | None = None) -> None:
        # cache_strategy keeps an App's JWT and installation tokens (githubkit renews them before they expire)
        self.api = GitHub(token, base_url=api_url, auto_retry=False, http_cache=False, timeout=timeout,
                          throttler=SerialThrottler(write_interval), user_agent="hotfix-bot",
                          cache_strategy=cache_strategy)
        self.credentials = credentials
        self._clock = clock
        self._cache = ConditionalCache()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GitHubClient({self.api.config.base_url}, {self.credentials.holder})"

    def for_repo(self, repo: str) -> GitHubClient:
        """A token calls every repository itself (a GitHub App has one client per installation)."""
        return self

    def call(self, request: Callable[[], Response[T]], needs: str) -> Response[T]:
        """Make one request; `needs` is the permission it takes, named when GitHub refuses it."""
        self._check_paused()
        try:
            response = request()
        except RateLimitExceeded as limited:
            self._pause(limited.retry_after.total_seconds())
            raise CodeHostUnavailable(_rate_limited(limited), after=limited.retry_after) from limited
        except RequestFailed as failed:
            error = _failure(failed.response, needs, self.credentials)
            if isinstance(error, CodeHostUnavailable) and error.after is not None:
                self._pause(error.after.total_seconds())
            raise error from failed
        except RequestError as broken:
            raise CodeHostUnavailable(f"GitHub could not be reached: {broken.exc}") from broken
        self._note_rate_limit(response.headers)
        return response

    def conditional(self, key: str, request: Callable[[Mapping[str, str]], Response[Any]],
                    parse: Callable[[Response[Any]], T], needs: str) -> T:
        """A GET sent with the ETag of its last answer: on 304 the last answer is reused."""
        cached = self._cache.get(key)
        headers = {"If-None-Match": cached.etag} if cached else {}
        response = self.call(lambda: request(headers), needs)
        if response.status_code == 304 and cached is not None:
            return cached.value
        value = parse(response)
        if etag := response.headers.get("etag"):
            self._cache.put(key, etag, value)
        return value

    def paged(self, key: str, request: Callable[[int, Mapping[str, str]], Response[Any]],
              items: Callable[[Response[Any]], list[T]], needs: str) -> list[T]:
        """Every item of a list GitHub pages (100 a page). The first page is conditional: on 304 its items are
        reused, and later pages, if any, are asked for again."""
        first, more = self.conditional(key, lambda headers: request(1, headers),
                                       lambda r: (items(r), _has_next(r)), needs)
        found = list(first)
        page = 1
        while more and page < MAX_PAGES:
            page += 1
            response = self.call(lambda: request(page, {}), needs)
            found += items(response)
            more = _has_next(response)
        return found

    def _check_paused(self) -> None:
        with self._lock:
            left = self._paused_until - self._clock()
        if left > 0:
            raise CodeHostUnavailable(f"GitHub asked to wait: {_seconds(left)} left",
                                      after=timedelta(seconds=left))

    def _pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _note_rate_limit(self, headers: httpx.Headers) -> None:
        """The last request of the hour went through: wait for the reset before the next one."""
        reset = headers.get("x-ratelimit-reset", "")
        if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            self._pause(max(0.0, int(reset) - self._clock()))


def _has_next(response: Response[Any]) -> bool:
    return 'rel="next"' in response.headers.get("link", "")


def _seconds(seconds: float) -> str:
    return f"{round(seconds)} s" if seconds < 120 else f"{round(seconds / 60)} min"


def _rate_limited(limited: RateLimitExceeded) -> str:
    return f"GitHub's rate limit was reached: retrying in {_seconds(limited.retry_after.total_seconds())}"


def _message(response: Response[Any]) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if not isinstance(body, dict):
        return response.reason_phrase
    details = [e.get("message") or f"{e.get('field')} {e.get('code')}" for e in body.get("errors") or []
               if isinstance(e, dict)]
    return "; ".join(filter(None, [str(body.get("message", "")), *details])) or response.reason_phrase


def _failure(response: Response[Any], needs: str,
             credentials: Credentials = TOKEN) -> CodeHostUnavailable | CodeHostRefused:
    status, message = response.status_code, _message(response)
    if status >= 500:
        return CodeHostUnavailable(f"GitHub is failing ({status} {message})")
    if status in (403, 429) and "rate limit" in message.lower():
        # A secondary limit without retry-after: GitHub asks for at least a minute.
        return CodeHostUnavailable(f"GitHub's rate limit was reached ({message})", after=UNSPECIFIED_WAIT)
    if status == 401:
        return CodeHostRefused(credentials.refused, status=status)
    if status == 403:
        permission = response.headers.get("x-accepted-github-permissions") or needs
        return CodeHostRefused(f"GitHub refused (403 {message}): {credentials.holder} needs {permission}",
                               status=status, permission=permission)
    if status == 404:
        return CodeHostRefused(f"GitHub answered 404 Not Found: the repository or object does not exist, or "
                               f"{credentials.holder} cannot see it (it needs {needs})", status=status,
                               permission=needs)
    return CodeHostRefused(f"GitHub refused ({status} {message})", status=status)
