"""What `doctor` checks of the token or the App on one repository, with reads only: nothing is written to find
out. An App's installation says what it may write; a token shows that only when it writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from githubkit.response import Response

from bot.codehost.github_app import GitHubApp
from bot.codehost.github_client import GitHubClient
from bot.codehost.port import CodeHostRefused
from bot.domain.codehost import RepoAccess

WRITES = ("pull_requests: write", "contents: write")
APP_NEEDS = {"pull_requests": "write", "contents": "write", "checks": "read", "statuses": "read"}
LEVELS = ("none", "read", "write", "admin")
REPOSITORY = "metadata: read (the repository itself)"


def repo_access(clients: GitHubClient | GitHubApp, owner: str, name: str) -> RepoAccess:
    if isinstance(clients, GitHubApp):
        return app_access(clients, owner, name)
    client = clients
    repo, rest = f"{owner}/{name}", client.api.rest
    try:
        found = client.call(lambda: rest.repos.get(owner, name), "metadata=read").json()
    except CodeHostRefused as refused:
        if refused.status == 401:
            raise
        return RepoAccess(repo, missing=(REPOSITORY,))
    branch = found.get("default_branch") or "main"
    reads: list[tuple[str, Callable[[], Response[Any]]]] = [
        ("pull_requests: read", lambda: rest.pulls.list(owner, name, per_page=1)),
        ("checks: read", lambda: rest.checks.list_for_ref(owner, name, branch, per_page=1)),
        ("statuses: read", lambda: rest.repos.get_combined_status_for_ref(owner, name, branch, per_page=1)),
    ]
    missing = [permission for permission, read in reads if not _allowed(client, read, permission)]
    # What the token's user may do; a fine-grained token may still lack these, which only a write would show.
    if (found.get("permissions") or {}).get("push") is False:
        return RepoAccess(repo, missing=(*missing, *WRITES))
    return RepoAccess(repo, missing=tuple(missing), unverified=WRITES)


def _allowed(client: GitHubClient, read: Callable[[], Response[Any]], permission: str) -> bool:
    try:
        client.call(read, permission.replace(": ", "="))
    except CodeHostRefused as refused:
        if refused.status == 401:
            raise
        return False
    return True


def app_access(app: GitHubApp, owner: str, name: str) -> RepoAccess:
    """The App's installation on the repo (AppNotInstalled if none), the repository read with its token, and
    the permissions the installation was granted."""
    repo = f"{owner}/{name}"
    granted = app.installation(repo).get("permissions") or {}
    client = app.for_repo(repo)
    if not _allowed(client, lambda: client.api.rest.repos.get(owner, name), "metadata: read"):
        return RepoAccess(repo, missing=(REPOSITORY,))
    missing = [f"{permission}: {level}" for permission, level in APP_NEEDS.items()
               if _level(granted.get(permission)) < LEVELS.index(level)]
    return RepoAccess(repo, missing=tuple(missing))


def _level(granted: object) -> int:
    return LEVELS.index(granted) if granted in LEVELS else 0
