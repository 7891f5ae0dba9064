"""A GitHub App instead of a token: its JWT finds the App's installation on each repository once, and each
installation gets its own GitHubClient, calling with an installation token that githubkit renews before its hour
is up. The private key never appears in a repr, a log line or an error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from githubkit.auth import AppAuthStrategy
from githubkit.cache import MemCacheStrategy

from bot.codehost.github_client import DEFAULT_API_URL, WRITE_INTERVAL, Credentials, GitHubClient
from bot.codehost.port import CodeHostRefused

KEY_HELP = ("GITHUB_APP_ID is not the ID of the App whose private key GITHUB_APP_PRIVATE_KEY holds, or that key "
            "was deleted; check the App's ID and generate a new key on its settings page (Private keys)")
APP = Credentials(f"GitHub refused the App's credentials (401): {KEY_HELP}", "the App")
INSTALLATION = Credentials("GitHub refused the App's installation token (401): the App's key was deleted or its "
                           "installation suspended; check GITHUB_APP_PRIVATE_KEY and the installation (the App's "
                           "settings: Private keys, Install App)", "the App")


class AppNotInstalled(CodeHostRefused):
    """The App has no installation that covers this repository."""


class PrivateKey(str):
    """The App's key text, for PyJWT, that does not show itself in a repr (githubkit's auth dataclasses)."""

    def __repr__(self) -> str:
        return "PrivateKey('[redacted]')"


class GitHubApp:
    """One GitHub App on one GitHub; `for_repo` gives the client of the installation that covers a repo."""

    def __init__(self, app_id: str | int, private_key: str, api_url: str = DEFAULT_API_URL, *,
                 write_interval: float = WRITE_INTERVAL, timeout: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.app_id = str(app_id)
        self._auth = AppAuthStrategy(self.app_id, PrivateKey(private_key))
        self._options: dict[str, Any] = {"write_interval": write_interval, "timeout": timeout, "clock": clock,
                                         "cache_strategy": MemCacheStrategy()}  # this App's JWT and tokens only
        self._api_url = api_url
        self._app = GitHubClient(self._auth, api_url, credentials=APP, **self._options)
        self._by_repo: dict[str, GitHubClient] = {}
        self._by_installation: dict[int, GitHubClient] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GitHubApp(app_id={self.app_id}, api_url={self._api_url!r})"

    def for_repo(self, repo: str) -> GitHubClient:
        """The client of the App's installation on `owner/name`, looked up once (one per installation: the rate
        limit, the ETag cache and the write spacing are the installation's)."""
        key = repo.lower()
        with self._lock:
            if (client := self._by_repo.get(key)) is not None:
                return client
        installation = self.installation(repo)
        with self._lock:
            number = int(installation["id"])
            if number not in self._by_installation:
                self._by_installation[number] = GitHubClient(
                    self._auth.as_installation(number), self._api_url, credentials=INSTALLATION, **self._options)
            client = self._by_repo.setdefault(key, self._by_installation[number])
        return client

    def installation(self, repo: str) -> dict[str, Any]:
        """The App's installation on `owner/name` (its id, account and permissions), asked with the App's JWT."""
        owner, _, name = repo.partition("/")
        rest = self._app.api.rest
        try:
            return self._app.call(lambda: rest.apps.get_repo_installation(owner, name), "the App's installation"
                                  ).json()
        except CodeHostRefused as refused:
            if refused.status != 404:
                raise
            raise AppNotInstalled(
                f"the GitHub App (ID {self.app_id}) is not installed on {repo}: install the App on {repo} (the App's "
                "settings, Install App), or add the repository to its installation", status=404) from refused
