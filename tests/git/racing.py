"""GitOps that lets a test act at the last moment: after the bot's checks on what it fetched, before its push."""

from __future__ import annotations

from bot.git.mirror import Mirror
from bot.git.porcelain import Rejection
from bot.git.ops import GitOps


class RacingGitOps(GitOps):
    """Subclasses say what happens in `before_push`, e.g. someone else pushing to the same remote."""

    def _push(self, mirror: Mirror, *refspecs: str, **options) -> list[Rejection]:
        self.before_push([refspec.rpartition(":")[2] for refspec in refspecs])
        return super()._push(mirror, *refspecs, **options)

    def before_push(self, refs: list[str]) -> None:
        """`refs`: the remote refs about to be pushed, in push order."""
