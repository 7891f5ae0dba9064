"""`hotfix-bot doctor`: checks the environment and hotfix.toml the way `serve` will use them, one line per check,
each failure with its fix. Read-only: it creates no database and pushes nothing."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.config import ConfigError, HotfixConfig, Settings, database_url, load_config
from bot.domain.policy import REVIEWER, Severity
from bot.domain.repo import RepoSpec
from bot.git.errors import GitOpError, RemoteUnavailable
from bot.logs import redact
from bot.tools.database import first_line
from bot.wiring import engine_for, schema_revisions, scratch_git_ops, web_client

GIT_TIMEOUT_SECONDS = 60.0
SLACK_TIMEOUT_SECONDS = 10

REINSTALL = ("reinstall the app (OAuth & Permissions) and copy the new Bot User OAuth Token (xoxb-…) "
             "into SLACK_BOT_TOKEN")
TOKEN_FIXES = {
    "invalid_auth": "copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions into SLACK_BOT_TOKEN",
    "not_authed": "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions",
    "token_revoked": REINSTALL,
    "account_inactive": REINSTALL,
    "token_expired": "turn token rotation off for the app (hotfix-bot does not refresh tokens), then " + REINSTALL,
}
APP_TOKEN_FIX = "create an app-level token with connections:write under Basic Information and put it in SLACK_APP_TOKEN"


@dataclass(frozen=True)
class Check:
    passed: bool | None  # None: not checked (it needs something that failed above, or a scope the app lacks)
    what: str
    fix: str = ""

    @property
    def line(self) -> str:
        mark = {True: "✓", False: "✗", None: "–"}[self.passed]
        return f"{mark} {self.what}" + (f" → {self.fix}" if self.fix and not self.passed else "")


Checks = Generator[Check, None, object]


def run(env: Mapping[str, str], out: Callable[[str], None] = print, *, socket_mode: bool) -> int:
    """Prints one line per check as it finishes; 1 if any failed."""
    failed = 0
    for check in all_checks(env, socket_mode=socket_mode):
        out(check.line)
        failed += check.passed is False
    out("All checks passed." if not failed else
        f"{failed} check{'s' if failed > 1 else ''} failed: fix the ✗ lines, then run `hotfix-bot doctor` again.")
    return 1 if failed else 0


def all_checks(env: Mapping[str, str], *, socket_mode: bool) -> Generator[Check, None, None]:
    settings = yield from check_settings(env, socket_mode=socket_mode)
    config = yield from check_config(Path(env.get("HOTFIX_CONFIG") or "hotfix.toml"))
    if settings is None:
        yield Check(None, "Slack: not checked until the environment above is fixed")
    else:
        yield from check_slack(settings, config)
    if config is None:
        yield Check(None, "Approvals and repos: not checked until the config above loads")
    else:
        yield check_approvals(config)
        for repo in config.repos:
            yield from check_repo(repo)
    try:
        yield check_database(database_url(env))
    except ConfigError as problem:
        yield Check(False, str(problem))


# --- environment and config ---------------------------------------------------------------------------------------
def check_settings(env: Mapping[str, str], *, socket_mode: bool) -> Generator[Check, None, Settings | None]:
    try:
        settings = Settings.from_env(env, socket_mode=socket_mode)
    except ConfigError as problem:
        yield Check(False, f"Environment: {problem}")
        return None
    mode = "SLACK_APP_TOKEN set, for Socket Mode" if socket_mode else "SLACK_SIGNING_SECRET set, for --http"
    yield Check(True, f"Environment: SLACK_BOT_TOKEN and {mode}")
    return settings


def check_config(path: Path) -> Generator[Check, None, HotfixConfig | None]:
    try:
        config = load_config(path)
    except ConfigError as problem:
        yield Check(False, f"Config {problem}")
        return None
    repos = ", ".join(config.repo_names)
    yield Check(True, f"Config {path}: channel {config.slack.channel}, repos {repos}")
    return config


def check_approvals(config: HotfixConfig) -> Check:
    """The config refuses a severity nobody approves, a role nobody holds and a missing reviewer; this says who."""
    approvals = config.policy().approvals
    needs = ", ".join(f"{s.label} {len(approvals.roles_needed(s))}" for s in Severity)
    return Check(True, f"Approvals: roles needed per severity ({needs}), each held by someone; "
                       f"{len(approvals.holders(REVIEWER))} reviewer(s)")


# --- Slack --------------------------------------------------------------------------------------------------------
def check_slack(settings: Settings, config: HotfixConfig | None) -> Checks:
    client = web_client(settings, timeout=SLACK_TIMEOUT_SECONDS)
    try:
        identity = client.auth_test()
    except SlackApiError as err:
        error = err.response.get("error", "error")
        yield Check(False, f"Slack bot token refused by auth.test: {error}", TOKEN_FIXES.get(error, REINSTALL))
        return None
    except OSError as err:
        yield Check(False, f"Slack API at {settings.slack_api_url} unreachable: {err}",
                    "check this host's network and proxy, and SLACK_API_URL if you set it")
        return None
    bot_name = identity.get("user") or "hotfix-bot"
    yield Check(True, f"Slack bot token accepted (team {identity.get('team_id')}, bot @{bot_name})")
    if settings.app_token:
        yield check_app_token(settings)
    if config is None:
        yield Check(None, "Channels: not checked until the config above loads")
        return None
    for channel in filter(None, (config.slack.channel, config.slack.security_channel,
                                 config.slack.stakeholders_channel)):
        yield check_channel(client, channel, bot_name)
    yield check_members(client, config)
    return None


def check_app_token(settings: Settings) -> Check:
    """apps.connections.open only hands out a Socket Mode URL; nothing connects to it."""
    client = web_client(settings, token=settings.app_token, timeout=SLACK_TIMEOUT_SECONDS)
    try:
        client.apps_connections_open(app_token=settings.app_token)
    except SlackApiError as err:
        return Check(False, f"Slack app token refused: {err.response.get('error', 'error')}", APP_TOKEN_FIX)
    except OSError as err:
        return Check(False, f"Slack app token not checked: {err}", "check this host's network and proxy")
    return Check(True, "Slack app token accepted (Socket Mode)")


def check_channel(client: WebClient, channel: str, bot_name: str) -> Check:
    invite = f"invite the bot: /invite @{bot_name}"
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as err:
        error = err.response.get("error", "error")
        if error == "missing_scope":
            scope = "groups:read" if channel.startswith("G") else "channels:read / groups:read"
            return Check(None, f"Channel {channel}: not verified, the app lacks the optional scope {scope}",
                         f"add it to let doctor check the channel and the bot's membership; meanwhile {invite}")
        fixes = {"not_in_channel": invite,
                 "channel_not_found": f"use the channel's ID (e.g. C0123ABCD, under About in the channel) in "
                                      f"hotfix.toml; for a private channel, {invite}"}
        return Check(False, f"Channel {channel}: {error}", fixes.get(error, invite))
    except OSError as err:
        return Check(False, f"Channel {channel}: Slack unreachable ({err})", "check this host's network and proxy")
    if info.get("is_archived"):
        return Check(False, f"Channel {channel}: archived", "unarchive it or choose another channel in hotfix.toml")
    if info.get("is_member") is False:
        return Check(False, f"Channel {channel}: not_in_channel", invite)
    return Check(True, f"Channel {channel} reachable (#{info.get('name', channel)})")


def check_members(client: WebClient, config: HotfixConfig) -> Check:
    """Every member ID in [roles] is a person in this workspace (needs the optional scope users:read)."""
    members = sorted({(user, role) for role, users in config.roles.items() for user in users})
    names = []
    for user, role in members:
        try:
            found = client.users_info(user=user)["user"]
        except SlackApiError as err:
            error = err.response.get("error", "error")
            if error == "missing_scope":
                return Check(None, "Role members: not verified, the app lacks the optional scope users:read",
                             "add it to let doctor check every member ID in [roles] and show their names")
            return Check(False, f"Role members: [roles] {role} lists {user}: {error}",
                         "copy the member ID again (their profile → ⋮ → Copy member ID)")
        except OSError as err:
            return Check(False, f"Role members: Slack unreachable ({err})", "check this host's network and proxy")
        if found.get("deleted"):
            return Check(False, f"Role members: [roles] {role} lists {user}, a deactivated account",
                         f"replace {user} with someone who still works here")
        names.append(found.get("real_name") or found.get("name") or user)
    return Check(True, f"Role members: {len(names)} found ({', '.join(names)})")


# --- git ----------------------------------------------------------------------------------------------------------
def check_repo(spec: RepoSpec) -> Checks:
    """In a scratch workdir, not HOTFIX_WORKDIR, so a running bot's mirrors are never touched."""
    with tempfile.TemporaryDirectory(prefix="hotfix-doctor-") as scratch:
        git = scratch_git_ops(Path(scratch), network_timeout=GIT_TIMEOUT_SECONDS)
        try:
            tag = git.production_tag(spec)
            missing = [b for b in dict.fromkeys((spec.main, *spec.merge_back)) if git.branch_head(spec, b) is None]
        except RemoteUnavailable as err:
            yield Check(False, f"Repo {spec.name}: can't reach {redact(spec.url)}: {err.detail}",
                        f"check url in [[repos]] {spec.name}, and that this host can fetch and push it (key, VPN)")
            return None
        except GitOpError as err:
            yield Check(False, f"Repo {spec.name}: {err}", f"check [[repos]] {spec.name} in hotfix.toml")
            return None
    if tag is None:
        yield Check(False, f"Repo {spec.name}: no production tag matches {spec.production_tag}",
                    "tag what runs in production (git tag -a v1.0.0 -m 'Release 1.0.0' && git push origin v1.0.0), "
                    "or fix production_tag in hotfix.toml")
    else:
        yield Check(True, f"Repo {spec.name}: remote reachable, production tag {tag.name} ({tag.commit[:10]})")
    if missing:
        yield Check(False, f"Repo {spec.name}: no branch {', '.join(missing)} on the remote",
                    "create it, or fix main / merge_back in hotfix.toml")
    return None


# --- database -----------------------------------------------------------------------------------------------------
def check_database(url: str) -> Check:
    parsed = make_url(url)  # database_url() has checked it
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():
            return _sqlite_to_be_created(shown, Path(parsed.database))
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        url = parsed.update_query_dict({"connect_timeout": "10"}).render_as_string(hide_password=False)
    try:
        engine = engine_for(url)
        try:
            return _migration_state(engine, shown)
        finally:
            engine.dispose()
    except Exception as err:  # a driver's own errors are not OSError: whatever it is, this check failed
        return Check(False, f"Database {shown}: {first_line(err)}",
                     "check DATABASE_URL, that the server is up and accepts this host, and the credentials")


def _sqlite_to_be_created(shown: str, path: Path) -> Check:
    folder = next((p for p in [path.parent, *path.parent.parents] if p.exists()), Path("/"))
    if folder.is_dir() and os.access(folder, os.W_OK):
        return Check(True, f"Database {shown}: not created yet; `hotfix-bot serve` creates and migrates it")
    return Check(False, f"Database {shown}: can't be created ({folder} is not a writable directory)",
                 "point DATABASE_URL at a file in a writable directory, e.g. sqlite:////var/lib/hotfix-bot/hotfix.db")


def _migration_state(engine: Engine, shown: str) -> Check:
    current, heads = schema_revisions(engine)
    if current == heads:
        return Check(True, f"Database {shown} reachable, migrated (revision {', '.join(sorted(heads))})")
    found = ", ".join(sorted(current)) or "none"
    return Check(False, f"Database {shown}: at revision {found}, this version needs {', '.join(sorted(heads))}",
                 "`hotfix-bot serve` migrates it on start, keeping every row")
