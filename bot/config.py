"""Settings from the environment and the team's hotfix.toml, validated once at start-up."""
from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config_github import (
    ConfigProblem,
    GitHubSettings,
    check_people,
    check_reviewers_on_github,
    credentials_problem,
)
from bot.config_sections import (
    ApprovalsSection,
    GitHubSection,
    GitSection,
    RepoSection,
    RetentionSection,
    SlackSection,
    Strict,
    TimersSection,
)
from bot.domain.codehost import People
from bot.domain.policy import REVIEWER, ApprovalPolicy, Policy, Severity, TimeTargets
from bot.domain.procedure import SECURITY
from bot.domain.reminders import ESCALATION_PATH
from bot.domain.repo import RepoSpec

__all__ = ["ConfigError", "HotfixConfig", "Settings", "SlackSection", "database_url", "load_config",
           "load_environment"]

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///hotfix.db"
DEFAULT_LEADER_RETRY_SECONDS = 3.0
# Roles the procedure itself gives a meaning to; any other role name must be needed by a severity.
ROLES_WITH_A_MEANING = (*ESCALATION_PATH, REVIEWER, SECURITY)
# Slack IDs, not names: a member ID starts with U (W on Enterprise Grid).
_MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class ConfigError(Exception):
    """A setting is missing or wrong; str(err) is one line saying which and how to fix it."""


class HotfixConfig(Strict):
    slack: SlackSection
    repos: tuple[RepoSection, ...] = Field(min_length=1)
    approvals: ApprovalsSection = ApprovalsSection()
    roles: dict[str, tuple[str, ...]] = {}
    timers: TimersSection = TimersSection()
    retention: RetentionSection = RetentionSection()
    git: GitSection = GitSection()
    github: GitHubSection = GitHubSection()
    people: dict[str, str] = {}  # Slack member ID -> GitHub login

    @model_validator(mode="after")
    def _roles_exist(self) -> HotfixConfig:
        names = [r.name for r in self.repos]
        if len(set(names)) != len(names):
            raise ValueError("two [[repos]] share a name; give each a unique name")
        for severity in (Severity.CRITICAL, Severity.HIGH):
            if not getattr(self.approvals, severity.value):
                raise ValueError(f"[approvals] {severity.value} is empty, so a {severity.label} hotfix would need "
                                 f"nobody's approval; list roles, e.g. {severity.value} = "
                                 '["engineering_manager", "oncall_lead"]')
        self._roles_are_slack_members()
        self._roles_have_a_use()
        if not self.roles.get(REVIEWER):
            raise ValueError(f'[roles] lists no {REVIEWER}, so no hotfix could pass review; add {REVIEWER} = ["U…"]')
        check_people(self.people, _MEMBER_ID.fullmatch)
        check_reviewers_on_github(self.repos, self.people, self.roles[REVIEWER])
        for severity, roles in self.approvals.model_dump().items():
            for role in roles:
                if not self.roles.get(role):
                    raise ValueError(
                        f'[approvals] {severity} needs role "{role}", but [roles] lists nobody for it; '
                        f'add {role} = ["U…"] under [roles]'
                    )
        return self

    def _roles_are_slack_members(self) -> None:
        for role, members in self.roles.items():
            for member in members:
                if not _MEMBER_ID.fullmatch(member):
                    raise ValueError(
                        f'[roles] {role}: "{member}" is not a Slack member ID; write the ID, e.g. "U0123ABCD" '
                        "(their profile → ⋮ → Copy member ID), not a @name or an email")

    def _roles_have_a_use(self) -> None:
        used = {*ROLES_WITH_A_MEANING, *(r for roles in self.approvals.model_dump().values() for r in roles)}
        for role in self.roles:
            if role not in used:
                close = difflib.get_close_matches(role, sorted(used), n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                raise ValueError(f"[roles] {role} is not needed by any severity or step, probably a typo; {hint}"
                                 f"roles with a meaning: {', '.join(ROLES_WITH_A_MEANING)}, or any role "
                                 "[approvals] lists")

    def policy(self) -> Policy:
        required = {Severity(s): roles for s, roles in self.approvals.model_dump().items()}
        approvals = ApprovalPolicy.build(required, self.roles)
        return Policy(approvals, TimeTargets(**self.timers.model_dump()))

    def people_on_github(self) -> People:
        """Who may approve on GitHub: as in Slack, a reviewer or a security reviewer."""
        reviewers = {*self.roles.get(REVIEWER, ()), *self.roles.get(SECURITY, ())}
        return People(logins=dict(self.people), reviewers=frozenset(reviewers))

    def repo(self, name: str) -> RepoSpec:
        return next(r for r in self.repos if r.name == name)

    @property
    def repo_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.repos)


@dataclass(frozen=True)
class Settings:
    bot_token: str = field(repr=False)  # secrets never appear in a repr, a traceback's locals or a log
    signing_secret: str | None = field(repr=False)  # HTTP mode only: Socket Mode requests are not signed
    app_token: str | None = field(repr=False)  # Socket Mode only
    slack_api_url: str
    database_url: str
    config_path: Path
    workdir: Path
    leader_retry_seconds: float = DEFAULT_LEADER_RETRY_SECONDS  # how often a follower tries to become the leader
    github: GitHubSettings = GitHubSettings()

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, socket_mode: bool = False) -> Settings:
        """What the chosen mode needs: HTTP mode verifies requests with the signing secret, Socket Mode connects
        with the app-level token; the other one is not read, so a leftover placeholder breaks nothing."""
        bot_token = _required(env, "SLACK_BOT_TOKEN", "the Bot User OAuth Token (xoxb-…) from OAuth & Permissions")
        if not bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-; copy it from OAuth & Permissions.")
        secret = app_token = None
        if socket_mode:
            app_token = _app_token(env)
        else:
            secret = _required(env, "SLACK_SIGNING_SECRET", "the Signing Secret from Basic Information")
        api_url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        try:
            github = GitHubSettings.from_env(env)
        except ConfigProblem as problem:
            raise ConfigError(str(problem)) from None
        return cls(
            bot_token=bot_token,
            signing_secret=secret,
            app_token=app_token,
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            database_url=database_url(env),
            config_path=Path(env.get("HOTFIX_CONFIG") or "hotfix.toml"),
            workdir=Path(env.get("HOTFIX_WORKDIR") or ".hotfix-work"),
            leader_retry_seconds=_seconds(env, "HOTFIX_LEADER_RETRY_SECONDS", DEFAULT_LEADER_RETRY_SECONDS),
            github=github,
        )

    def github_api_url(self, config: HotfixConfig) -> str:
        """GITHUB_API_URL, else [github] api_url (whose default is github.com)."""
        return self.github.api_url or config.github.api_url


def _app_token(env: Mapping[str, str]) -> str:
    app_token = (env.get("SLACK_APP_TOKEN") or "").strip()
    if not app_token:
        raise ConfigError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…, scope "
            "connections:write) from Basic Information, or run with --http."
        )
    if not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
    return app_token


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds above zero ("3", "0.5"); unset or blank means the default."""
    written = (env.get(name) or "").strip()
    if not written:
        return default
    try:
        seconds = float(written)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f'{name} must be a number of seconds above 0, e.g. "{default:g}"; it is "{written}".')
    return seconds


def database_url(env: Mapping[str, str]) -> str:
    """DATABASE_URL as SQLAlchemy needs it; `postgres://…` (Heroku's, libpq's spelling) means PostgreSQL."""
    url = (env.get("DATABASE_URL") or "").strip() or DEFAULT_DATABASE_URL
    scheme, separator, rest = url.partition("://")
    if separator and scheme in ("postgres", "postgresql"):  # SQLAlchemy would look for psycopg2, not installed
        url = f"postgresql+psycopg://{rest}"
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError("DATABASE_URL is not a database URL hotfix-bot can use; write it like "
                          "sqlite:////var/lib/hotfix-bot/hotfix.db or postgresql://user:password@host/db.")
    return url


def load_config(path: Path, settings: Settings | None = None) -> HotfixConfig:
    """With `settings`, a repo on GitHub without the credentials to reach it is refused too (start-up, reload)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file. Copy hotfix.example.toml to {path} or set HOTFIX_CONFIG.") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err}).") from None
    try:
        config = HotfixConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"{path}: {_first_problem(err)}") from None
    if settings is not None and (problem := credentials_problem(settings.github, config.repos)):
        raise ConfigError(problem)
    return config


def load_environment(env: Mapping[str, str] | None = None, *, socket_mode: bool = False) -> tuple[Settings, HotfixConfig]:
    settings = Settings.from_env(os.environ if env is None else env, socket_mode=socket_mode)
    return settings, load_config(settings.config_path, settings)


def _required(env: Mapping[str, str], name: str, where: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: put {where} in .env or the environment.")
    return value


# A key no section knows: in a model, and in a dataclass section such as [[repos]].
_UNKNOWN_KEY = ("extra_forbidden", "unexpected_keyword_argument")


def _first_problem(err: ValidationError) -> str:
    # A misspelt key also leaves the right one missing: name the misspelling, it is the one to fix.
    problem = sorted(err.errors(), key=lambda p: p["type"] not in _UNKNOWN_KEY)[0]
    where = _toml_location(problem["loc"])
    message = problem["msg"].removeprefix("Value error, ").rstrip(".")
    if problem["type"] == "missing":
        return f"{where} is missing; see hotfix.example.toml."
    if problem["type"] in _UNKNOWN_KEY:
        return f"{where} is not a setting hotfix-bot knows; check its spelling against the README."
    return f"{where}: {message}." if where else f"{message}."


def _toml_location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        else:
            parts.append(str(part))
    if not parts:
        return ""
    head, *rest = parts
    return f"[{head}] " + ".".join(rest) if rest else f"[{head}]"
