"""Which repository a hotfix targets and how that team releases from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

# The name becomes a directory under the bot's workdir, so it may not climb out of it.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# GitHub's rules: an owner is a login (letters, digits, single inner hyphens, at most 39); a repository name
# is letters, digits, '.', '_' and '-', at most 100. The repo becomes part of API paths, hence the strictness.
GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")
_GITHUB_REPO = re.compile(rf"(?P<owner>{GITHUB_LOGIN.pattern})/(?P<name>[A-Za-z0-9_.][A-Za-z0-9._-]{{0,99}})")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class Flow(StrEnum):
    PRODUCTION_TAG = "production-tag"  # branch from the newest production tag, tag the hotfix branch
    TRUNK = "trunk"  # branch from main, merge into main, tag the merge commit


@dataclass(frozen=True)
class RepoSpec:
    name: str
    url: str = field(repr=False)  # may carry credentials
    flow: Flow = Flow.PRODUCTION_TAG
    production_tag: str = "v*"
    main: str = "main"
    merge_back: tuple[str, ...] = ("main", "develop")
    health_url: str | None = field(default=None, repr=False)  # URLs may carry tokens
    version_url: str | None = field(default=None, repr=False)
    github: str | None = None  # "owner/name": the review and CI happen on its pull requests
    required_checks: tuple[str, ...] = ()  # empty: every check run and commit status must succeed

    @property
    def watches_deploys(self) -> bool:
        return bool(self.health_url or self.version_url)

    @property
    def on_github(self) -> bool:
        return self.github is not None

    def __post_init__(self) -> None:
        # Config files hand us plain strings and lists; keep the declared types.
        object.__setattr__(self, "flow", Flow(self.flow))
        object.__setattr__(self, "merge_back", tuple(self.merge_back))
        object.__setattr__(self, "required_checks", tuple(self.required_checks))
        if not _SAFE_NAME.match(self.name) or ".." in self.name:
            raise ValueError(f"Repository name {self.name!r} may only use letters, digits, '.', '_' and '-'.")
        if not self.url or self.url.startswith("-"):
            raise ValueError(f"Repository {self.name} needs a git URL that does not start with '-'.")
        if self.github is not None and not is_github_repo(self.github):
            raise ValueError(f"Repository {self.name}: {self.github!r} is not a GitHub owner/name.")
        if any(not check.strip() or CONTROL_CHARACTERS.search(check) for check in self.required_checks):
            raise ValueError(f"Repository {self.name}: a required check needs a name without control characters.")
        if self.required_checks and self.github is None:
            raise ValueError(f"Repository {self.name} lists required_checks but names no GitHub repository: add "
                             'github = "owner/name", or remove required_checks.')


def is_github_repo(text: str) -> bool:
    """`owner/name` as GitHub allows them: not a URL, no `.git`, no `..` climbing out of an API path."""
    match = _GITHUB_REPO.fullmatch(text)
    return bool(match) and ".." not in match["name"] and match["name"] != "." and not match["name"].lower().endswith(
        ".git")
