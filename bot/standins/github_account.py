"""Who may call the stand-in GitHub and how much: tokens, the GitHub App and its installation, the rate limit."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta
from typing import Any

from bot.standins.github_calls import Answer
from bot.standins.github_http import jwt_problem
from bot.standins.github_objects import Site

DEFAULT_TOKEN = "ghp_fake0hotfix0bot0token"
BOT_LOGIN = "hotfix-bot"
APP_OPERATIONS = frozenset({"apps/get-repo-installation", "apps/create-installation-access-token"})
UNCOUNTED_OPERATIONS = frozenset({"rate-limit/get"})  # GitHub does not count GET /rate_limit
APP_PERMISSIONS = {"contents": "write", "pull_requests": "write", "checks": "read", "statuses": "read"}


class Account:
    def __init__(self, tokens: dict[str, str] | None, app_id: int, installation_id: int, rate_limit: int) -> None:
        self.tokens = dict(tokens) if tokens is not None else {DEFAULT_TOKEN: BOT_LOGIN}
        self.app_id, self.installation_id = app_id, installation_id
        self.rate_limit, self.used = rate_limit, 0
        self.reset_at = int(time.time()) + 3600

    @property
    def remaining(self) -> int:
        return self.rate_limit - self.used

    @property
    def used_up(self) -> bool:
        return self.used >= self.rate_limit

    def spend(self) -> None:
        self.used = min(self.used + 1, self.rate_limit)

    def authenticate(self, operation_id: str, authorization: str) -> tuple[str, str | None]:
        """The caller's login, and what is wrong with its credentials (None if nothing)."""
        scheme, _, credential = authorization.partition(" ")
        if operation_id in APP_OPERATIONS:
            if scheme.lower() != "bearer":
                return "", "a GitHub App endpoint called without a JWT (Authorization: Bearer <jwt>)"
            return f"{BOT_LOGIN}[bot]", jwt_problem(credential.strip(), self.app_id)
        if operation_id in UNCOUNTED_OPERATIONS and not authorization:
            return "", None
        if scheme.lower() not in ("token", "bearer"):
            return "", "no token (Authorization: token <token> or Bearer <token>)"
        login = self.tokens.get(credential.strip())
        return (login, None) if login else ("", "the token is not one the fake knows (Bad credentials)")

    def new_installation_token(self, now: datetime) -> Answer:
        token = f"ghs_{hashlib.sha256(f'{time.time_ns()}'.encode()).hexdigest()[:36]}"
        self.tokens[token] = f"{BOT_LOGIN}[bot]"
        expires = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        permissions = {**APP_PERMISSIONS, "issues": "write"}
        return Answer(
            201,
            {"token": token, "expires_at": expires, "repository_selection": "selected", "permissions": permissions},
        )

    def rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-resource": "core",
        }

    def rate_limit_json(self) -> dict[str, Any]:
        core = {"limit": self.rate_limit, "remaining": self.remaining, "used": self.used, "reset": self.reset_at}
        other = {"limit": 5000, "remaining": 5000, "used": 0, "reset": self.reset_at}
        return {"resources": {"core": core, "search": other, "graphql": other}, "rate": core}

    def installation_json(self, site: Site) -> dict[str, Any]:
        at = "2024-01-01T00:00:00Z"
        owner = site.user(site.owner)
        return {
            "id": self.installation_id,
            "app_id": self.app_id,
            "app_slug": BOT_LOGIN,
            "target_id": owner["id"],
            "target_type": "Organization",
            "account": owner,
            "repository_selection": "selected",
            "access_tokens_url": f"{site.api}/app/installations/{self.installation_id}/access_tokens",
            "repositories_url": f"{site.api}/installation/repositories",
            "html_url": f"https://github.com/organizations/{site.owner}/settings/installations/"
            f"{self.installation_id}",
            "events": ["pull_request", "pull_request_review", "check_run", "status"],
            "permissions": dict(APP_PERMISSIONS),
            "created_at": at,
            "updated_at": at,
            "single_file_name": None,
            "suspended_by": None,
            "suspended_at": None,
        }
