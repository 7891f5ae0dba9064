"""GitHub's settings: the environment's credentials (GITHUB_*) and hotfix.toml's [github] and [people]."""
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.config_sections import HTTP_URL
from bot.domain.repo import GITHUB_LOGIN, RepoSpec

# A person's login; Enterprise Managed Users add an underscore and the enterprise's short code (`mona_acme`).
_PERSON_LOGIN = re.compile(rf"{GITHUB_LOGIN.pattern}(?:_[A-Za-z0-9]{{1,20}})?")
TOKEN_HELP = ("a fine-grained token (or an installation token) with read access to metadata, checks and commit "
              "statuses and read and write access to pull requests and contents")


class ConfigProblem(ValueError):
    """Raised here, turned into bot.config.ConfigError by its callers (this module must not import bot.config)."""


@dataclass(frozen=True)
class GitHubSettings:
    """GITHUB_* from the environment; all optional, and unused until a [[repos]] names a GitHub repository."""

    token: str | None = field(default=None, repr=False)  # secrets never appear in a repr or a log
    api_url: str | None = None  # GITHUB_API_URL: wins over [github] api_url
    webhook_secret: str | None = field(default=None, repr=False)
    app_id: str | None = None
    app_private_key: Path | None = None  # the key file's path
    app_key: str | None = field(default=None, repr=False)  # the key itself, read from that file at start

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GitHubSettings:
        token = _value(env, "GITHUB_TOKEN")
        if token is not None and re.search(r"\s", token):
            raise ConfigProblem("GITHUB_TOKEN has a space or a line break inside it; copy the token again, alone "
                                "on its line.")
        api_url = _value(env, "GITHUB_API_URL")
        if api_url is not None and not HTTP_URL.fullmatch(api_url):
            raise ConfigProblem("GITHUB_API_URL must be an http(s) URL, e.g. https://api.github.com or, for GitHub "
                                "Enterprise Server, https://ghe.example.com/api/v3.")
        app_id, key = _value(env, "GITHUB_APP_ID"), _value(env, "GITHUB_APP_PRIVATE_KEY")
        if app_id is not None and not app_id.isdigit():
            raise ConfigProblem("GITHUB_APP_ID must be the App's numeric ID (the App's settings page, About).")
        if (app_id is None) != (key is None):
            raise ConfigProblem("GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY go together: set both or neither.")
        path = _key_file(key) if key is not None else None
        return cls(token=token, api_url=api_url, webhook_secret=_value(env, "GITHUB_WEBHOOK_SECRET"),
                   app_id=app_id, app_private_key=path, app_key=_private_key(path) if path is not None else None)

    @property
    def uses_app(self) -> bool:
        """No token, and a GitHub App: the App's installation on each repo is used (a token wins)."""
        return self.app_id is not None and self.token is None


def _value(env: Mapping[str, str], name: str) -> str | None:
    return (env.get(name) or "").strip() or None


def _key_file(written: str) -> Path:
    if written.startswith("-----BEGIN"):  # the key pasted in; never echoed
        raise ConfigProblem("GITHUB_APP_PRIVATE_KEY is the path of the App's .pem key file, not the key itself; "
                            "save the key in a file only the bot can read and write its path.")
    path = Path(written)
    if not path.is_file():
        raise ConfigProblem(f"GITHUB_APP_PRIVATE_KEY: {path} is not a file; write the path of the App's .pem key.")
    return path


def _private_key(path: Path) -> str:
    """The key file's text if it is an unencrypted RSA private key in PEM, as GitHub gives it; never echoed."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey  # only when an App is used
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        text = path.read_text(encoding="ascii")
    except OSError as err:
        raise ConfigProblem(f"GITHUB_APP_PRIVATE_KEY: {path} cannot be read ({err.strerror}); let the bot's user "
                            "read it.") from None
    except UnicodeDecodeError:
        text = ""
    try:
        key = load_pem_private_key(text.encode("ascii"), password=None) if "-----BEGIN" in text else None
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, RSAPrivateKey):
        raise ConfigProblem(f"GITHUB_APP_PRIVATE_KEY: {path} is not a PEM private key of a GitHub App; download "
                            "one from the App's settings (Private keys, Generate a private key) and write the "
                            "path of that .pem file.")
    return text


def check_people(people: Mapping[str, str], is_member: Callable[[str], object]) -> None:
    """[people]: Slack member ID = GitHub login, one login per person."""
    seen: dict[str, str] = {}
    for member, login in people.items():
        if not is_member(member):
            raise ValueError(f'[people] "{member}" is not a Slack member ID; write the ID, e.g. U0123ABCD = '
                             '"their-login" (their profile → ⋮ → Copy member ID)')
        if not _PERSON_LOGIN.fullmatch(login):
            raise ValueError(f'[people] {member}: "{login}" is not a GitHub login; write the login alone, e.g. '
                             '"rita-gh" (letters, digits and single hyphens, no @ or URL)')
        if (other := seen.get(login.lower())) is not None:
            raise ValueError(f'[people] {other} and {member} are both "{login}"; one person, one GitHub login')
        seen[login.lower()] = member


def check_reviewers_on_github(repos: Iterable[RepoSpec], people: Mapping[str, str],
                              reviewers: Collection[str]) -> None:
    """A repo on GitHub is reviewed there: someone in the reviewer role must have a login to approve with."""
    on_github = [r.name for r in repos if r.on_github]
    if on_github and not any(user in people for user in reviewers):
        raise ValueError(f"[[repos]] {on_github[0]} is reviewed on GitHub, but [people] maps no reviewer to a "
                         'GitHub login, so no pull request could be approved; add e.g. U0123REV1 = "rita-gh"')


def credentials_problem(github: GitHubSettings, repos: Iterable[RepoSpec]) -> str | None:
    """Why the repos on GitHub could not be reached with these settings, as one line, or None."""
    repo = next((r for r in repos if r.on_github), None)
    if repo is None or github.token is not None or github.app_id is not None:
        return None
    return (f"[[repos]] {repo.name} names the GitHub repository {repo.github}: set GITHUB_TOKEN to {TOKEN_HELP}, or "
            "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY for a GitHub App installed on it.")
