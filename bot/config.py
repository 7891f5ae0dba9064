"""Settings from the environment and the team's hotfix.toml, validated once at start-up."""
from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from bot.domain.durations import parse_duration
from bot.domain.policy import DEFAULT_REQUIRED_ROLES, ApprovalPolicy, Policy, Severity, TimeTargets
from bot.domain.repo import Flow, RepoSpec

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class ConfigError(Exception):
    """A setting is missing or wrong; str(err) is one line saying which and how to fix it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackSection(_Strict):
    channel: str
    stakeholders_channel: str | None = None
    security_channel: str | None = None


class RepoSection(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    url: str = Field(min_length=1, repr=False)  # may carry credentials
    flow: Flow = Flow.PRODUCTION_TAG
    production_tag: str = "v*"
    main: str = "main"
    merge_back: tuple[str, ...] = ("main", "develop")
    health_url: str | None = Field(default=None, repr=False)  # may carry a token
    version_url: str | None = Field(default=None, repr=False)

    @field_validator("health_url", "version_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError('write it as a full http:// or https:// URL, e.g. "https://payments.example.com/health"')
        return value

    def spec(self) -> RepoSpec:
        return RepoSpec(self.name, self.url, self.flow, self.production_tag, self.main, self.merge_back,
                        self.health_url, self.version_url)


class ApprovalsSection(_Strict):
    critical: tuple[str, ...] = DEFAULT_REQUIRED_ROLES[Severity.CRITICAL]
    high: tuple[str, ...] = DEFAULT_REQUIRED_ROLES[Severity.HIGH]
    medium: tuple[str, ...] = ()  # empty: the same as high
    low: tuple[str, ...] = ()


class TimersSection(_Strict):
    approval_escalation: timedelta = TimeTargets.approval_escalation
    review_sla: timedelta = TimeTargets.review_sla
    monitoring_window: timedelta = TimeTargets.monitoring_window
    monitoring_checkin: timedelta = TimeTargets.monitoring_checkin
    merge_back_due: timedelta = TimeTargets.merge_back_due
    postmortem_due: timedelta = TimeTargets.postmortem_due
    reminder_repeat: timedelta = TimeTargets.reminder_repeat
    deploy_probe: timedelta = TimeTargets.deploy_probe
    quiet_hours: tuple[int, int] | None = None  # "22:00-07:00", UTC

    @field_validator("*", mode="before")
    @classmethod
    def _parse(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            raise ValueError('write it as text with a unit, e.g. "30m" ("22:00-07:00" for quiet_hours)')
        if info.field_name == "quiet_hours":
            return parse_quiet_hours(value)
        return parse_duration(value)

    @field_validator("deploy_probe")
    @classmethod
    def _at_most_every_second(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError('poll at most once a second, e.g. "30s"')
        return value


class GitSection(_Strict):
    author_name: str = "hotfix-bot"
    author_email: str = "hotfix-bot@localhost"


class HotfixConfig(_Strict):
    slack: SlackSection
    repos: tuple[RepoSection, ...] = Field(min_length=1)
    approvals: ApprovalsSection = ApprovalsSection()
    roles: dict[str, tuple[str, ...]] = {}
    timers: TimersSection = TimersSection()
    git: GitSection = GitSection()

    @model_validator(mode="after")
    def _roles_exist(self) -> HotfixConfig:
        names = [r.name for r in self.repos]
        if len(set(names)) != len(names):
            raise ValueError("two [[repos]] share a name; give each a unique name")
        for severity, roles in self.approvals.model_dump().items():
            for role in roles:
                if not self.roles.get(role):
                    raise ValueError(
                        f'[approvals] {severity} needs role "{role}", but [roles] lists nobody for it; '
                        f'add {role} = ["U…"] under [roles]'
                    )
        return self

    def policy(self) -> Policy:
        required = {Severity(s): roles for s, roles in self.approvals.model_dump().items()}
        approvals = ApprovalPolicy.build(required, self.roles)
        return Policy(approvals, TimeTargets(**self.timers.model_dump()))

    def repo(self, name: str) -> RepoSpec:
        return next(r.spec() for r in self.repos if r.name == name)

    @property
    def repo_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.repos)


@dataclass(frozen=True)
class Settings:
    bot_token: str = field(repr=False)  # secrets never appear in a repr, a traceback's locals or a log
    signing_secret: str = field(repr=False)
    app_token: str | None = field(repr=False)
    slack_api_url: str
    database_url: str
    config_path: Path
    workdir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, needs_app_token: bool = False) -> Settings:
        bot_token = _required(env, "SLACK_BOT_TOKEN", "the Bot User OAuth Token (xoxb-…) from OAuth & Permissions")
        if not bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-; copy it from OAuth & Permissions.")
        secret = _required(env, "SLACK_SIGNING_SECRET", "the Signing Secret from Basic Information")
        app_token = env.get("SLACK_APP_TOKEN") or None
        if needs_app_token and not app_token:
            raise ConfigError(
                "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…, scope "
                "connections:write) from Basic Information, or run with --http."
            )
        if app_token and not app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
        api_url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        return cls(
            bot_token=bot_token,
            signing_secret=secret,
            app_token=app_token,
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            database_url=env.get("DATABASE_URL") or "sqlite:///hotfix.db",
            config_path=Path(env.get("HOTFIX_CONFIG") or "hotfix.toml"),
            workdir=Path(env.get("HOTFIX_WORKDIR") or ".hotfix-work"),
        )


def load_config(path: Path) -> HotfixConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file. Copy hotfix.example.toml to {path} or set HOTFIX_CONFIG.") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err}).") from None
    try:
        return HotfixConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"{path}: {_first_problem(err)}") from None


def load_environment(env: Mapping[str, str] | None = None, *, needs_app_token: bool = False) -> tuple[Settings, HotfixConfig]:
    settings = Settings.from_env(os.environ if env is None else env, needs_app_token=needs_app_token)
    return settings, load_config(settings.config_path)


def parse_quiet_hours(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,2}):00\s*-\s*(\d{1,2}):00\s*", text)
    if not match or not all(0 <= int(h) < 24 for h in match.groups()):
        raise ValueError('write quiet hours as "22:00-07:00" (whole hours, UTC)')
    return int(match.group(1)), int(match.group(2))


def _required(env: Mapping[str, str], name: str, where: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: put {where} in .env or the environment.")
    return value


def _first_problem(err: ValidationError) -> str:
    # A misspelt key also leaves the right one missing: name the misspelling, it is the one to fix.
    problem = sorted(err.errors(), key=lambda p: p["type"] != "extra_forbidden")[0]
    where = _toml_location(problem["loc"])
    message = problem["msg"].removeprefix("Value error, ").rstrip(".")
    if problem["type"] == "missing":
        return f"{where} is missing; see hotfix.example.toml."
    if problem["type"] == "extra_forbidden":
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
