"""The sections of hotfix.toml other than the whole: each validates its own keys and says how to write them."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

from bot.domain.durations import format_duration, parse_duration
from bot.domain.policy import DEFAULT_REQUIRED_ROLES, Severity, TimeTargets
from bot.domain.reminders import MIN_REPEAT
from bot.domain.repo import CONTROL_CHARACTERS, RepoSpec, is_github_repo

# Slack IDs, not names: a member ID starts with U (W on Enterprise Grid), a channel ID with C (G: older private).
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
# The shortest each timer may be: zero would fire at once and for ever, and a person needs time to answer.
MINIMUM_DURATIONS = {
    "approval_escalation": timedelta(seconds=30),
    "review_sla": MIN_REPEAT,
    "monitoring_window": timedelta(minutes=1),
    "monitoring_checkin": MIN_REPEAT,
    "merge_back_due": timedelta(minutes=1),
    "postmortem_due": timedelta(minutes=1),
    "reminder_repeat": MIN_REPEAT,
    "deploy_probe": timedelta(seconds=1),
}
# The leader fetches every repository this often, so a hotfix's own fetch has little to bring; sooner is only load.
DEFAULT_MIRROR_REFRESH = timedelta(minutes=5)
MINIMUM_MIRROR_REFRESH = "30s"

# Jobs and timers are kept a month for debugging an incident after the fact; less than a day would prune a job
# before anyone looked at a failure.
DEFAULT_RETENTION = timedelta(days=30)
MINIMUM_RETENTION = "1d"

DEFAULT_GITHUB_API_URL = "https://api.github.com"
HTTP_URL = re.compile(r"https?://[^\s/?#]+[^\s?#]*")


class Strict(BaseModel):
    """Unknown keys are refused (a misspelling must not pass silently); a loaded config never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackSection(Strict):
    channel: str
    stakeholders_channel: str | None = None
    security_channel: str | None = None

    @field_validator("channel", "stakeholders_channel", "security_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.fullmatch(value):
            raise ValueError(f'"{value}" is not a channel ID; write the ID, e.g. "C0123ABCD" (open the channel, '
                             "click its name: the ID is at the bottom of About)")
        return value


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class RepoSection(RepoSpec):
    """A [[repos]] entry: the domain's RepoSpec, with the checks a config file needs on top."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    url: str = Field(min_length=1, repr=False)  # may carry credentials

    @field_validator("health_url", "version_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError('write it as a full http:// or https:// URL, e.g. "https://payments.example.com/health"')
        return value

    @field_validator("github")
    @classmethod
    def _owner_and_name(cls, value: str | None) -> str | None:
        if value is not None and not is_github_repo(value):
            raise ValueError(f'"{value}" is not a GitHub repository; write owner/name as in its GitHub address, '
                             'e.g. "acme/payments" (no URL, no .git)')
        return value

    @field_validator("required_checks")
    @classmethod
    def _check_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name.strip() or CONTROL_CHARACTERS.search(name) for name in value):
            raise ValueError('write each check by the name GitHub shows for it, e.g. ["build", "test"]; '
                             "an empty name or one with control characters matches no check")
        return value


class ApprovalsSection(Strict):
    critical: tuple[str, ...] = DEFAULT_REQUIRED_ROLES[Severity.CRITICAL]
    high: tuple[str, ...] = DEFAULT_REQUIRED_ROLES[Severity.HIGH]
    medium: tuple[str, ...] = ()  # empty: the same as high
    low: tuple[str, ...] = ()


class TimersSection(Strict):
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

    @field_validator(*MINIMUM_DURATIONS)
    @classmethod
    def _not_too_short(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        minimum = MINIMUM_DURATIONS[info.field_name]
        if value < minimum:
            raise ValueError(f'"{format_duration(value)}" is too short; the minimum is "{format_duration(minimum)}"')
        return value


class RetentionSection(Strict):
    keep: timedelta = DEFAULT_RETENTION  # finished jobs and settled timers; hotfixes and their history stay

    @field_validator("keep", mode="before")
    @classmethod
    def _at_least_a_day(cls, value: Any) -> timedelta:
        return duration_at_least(value, MINIMUM_RETENTION, example="30d")


class GitSection(Strict):
    author_name: str = "hotfix-bot"
    author_email: str = "hotfix-bot@localhost"
    mirror_refresh: timedelta = DEFAULT_MIRROR_REFRESH

    @field_validator("mirror_refresh", mode="before")
    @classmethod
    def _refresh_every(cls, value: Any) -> timedelta:
        return duration_at_least(value, MINIMUM_MIRROR_REFRESH, example="5m")


class GitHubSection(Strict):
    api_url: str = DEFAULT_GITHUB_API_URL
    poll: timedelta = timedelta(seconds=15)
    ci_wait: timedelta = timedelta(minutes=10)

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not HTTP_URL.fullmatch(value):
            raise ValueError('write it as an http(s) URL: "https://api.github.com", or for GitHub Enterprise '
                             'Server "https://ghe.example.com/api/v3"')
        return value

    @field_validator("poll", mode="before")
    @classmethod
    def _poll_every(cls, value: Any) -> timedelta:
        return duration_at_least(value, "5s", example="15s")

    @field_validator("ci_wait", mode="before")
    @classmethod
    def _wait_for_ci(cls, value: Any) -> timedelta:
        return duration_at_least(value, "1m", example="10m")


def duration_at_least(value: Any, minimum: str, *, example: str) -> timedelta:
    """A duration written as text ("30d"), refused below `minimum`, which is written the same way."""
    if not isinstance(value, str):
        raise ValueError(f'write it as text with a unit, e.g. "{example}"')
    duration = parse_duration(value)
    if duration < parse_duration(minimum):
        raise ValueError(f'"{value.strip()}" is too short; the minimum is "{minimum}"')
    return duration


def parse_quiet_hours(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,2}):00\s*-\s*(\d{1,2}):00\s*", text)
    if not match or not all(0 <= int(h) < 24 for h in match.groups()):
        raise ValueError('write quiet hours as "22:00-07:00" (whole hours, UTC)')
    return int(match.group(1)), int(match.group(2))

