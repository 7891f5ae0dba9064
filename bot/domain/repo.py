"""Which repository a hotfix targets and how that team releases from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

# The name becomes a directory under the bot's workdir, so it may not climb out of it.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


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

    @property
    def watches_deploys(self) -> bool:
        return bool(self.health_url or self.version_url)

    def __post_init__(self) -> None:
        # Config files hand us plain strings and lists; keep the declared types.
        object.__setattr__(self, "flow", Flow(self.flow))
        object.__setattr__(self, "merge_back", tuple(self.merge_back))
        if not _SAFE_NAME.match(self.name) or ".." in self.name:
            raise ValueError(f"Repository name {self.name!r} may only use letters, digits, '.', '_' and '-'.")
        if not self.url or self.url.startswith("-"):
            raise ValueError(f"Repository {self.name} needs a git URL that does not start with '-'.")
