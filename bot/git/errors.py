"""Errors from git operations; str(err) is short enough for a Slack thread.

GitOpError
 ├── RemoteUnavailable   can't reach the remote (down, connection refused, path missing, timed out); retry later
 ├── RemoteRefused       the server answered: no such repository, or these credentials may not; a person must fix it
 ├── PushRejected        the remote refused a push (protected branch, hook, lost races); don't retry
 ├── MergeConflict       a merge needs a person; nothing was pushed
 ├── RefNotFound         a branch or commit the caller named does not exist on the remote
 ├── NoProductionTag     no release tag matches the repository's production-tag glob
 └── InvalidRefName      a name git would not accept as a branch, or could read as an option

BranchMoved is no failure: the hotfix branch has commits past the one a step was given, so the step stops.
"""

from __future__ import annotations

from bot.domain.review import Commit

_MAX_FILES_SHOWN = 10


class GitOpError(Exception):
    pass


class RemoteUnavailable(GitOpError):
    def __init__(self, repo: str, detail: str) -> None:
        self.repo = repo
        self.detail = detail
        super().__init__(f"Can't reach the git remote of {repo}: {detail}")


class RemoteRefused(GitOpError):
    def __init__(self, repo: str, detail: str) -> None:
        self.repo = repo
        self.detail = detail
        super().__init__(f"The git remote of {repo} refused the bot: {detail}. Check url under [[repos]] {repo} in "
                         "hotfix.toml, and that this host's SSH key or token may fetch and push it.")


# What git hosts answer for a repository that does not exist or credentials that may not read it. Those never heal
# by themselves. A local or SSH path that "does not appear to be a git repository" is not here: git says the same
# for a volume that is briefly unmounted, so it is retried like a host that is down.
_REFUSALS = ("repository not found", "not found", "could not be found", "authentication failed", "permission denied",
             "could not read username", "could not read password", "invalid username or password", "access denied",
             "returned error: 401", "returned error: 403", "host key verification failed")


def remote_failure(repo: str, stderr: str, detail: str) -> GitOpError:
    """A failed fetch or push: refused for good, or unreachable for now."""
    said = stderr.lower()
    if any(refusal in said for refusal in _REFUSALS):
        return RemoteRefused(repo, detail.rstrip("."))
    return RemoteUnavailable(repo, detail)


class PushRejected(GitOpError):
    def __init__(self, ref: str, reason: str) -> None:
        self.ref = ref
        self.reason = reason
        super().__init__(f"The remote rejected the push to {ref}: {reason}")


class MergeConflict(GitOpError):
    def __init__(self, target: str, files: list[str]) -> None:
        self.target = target
        self.files = files
        shown = ", ".join(files[:_MAX_FILES_SHOWN])
        more = f" and {len(files) - _MAX_FILES_SHOWN} more" if len(files) > _MAX_FILES_SHOWN else ""
        super().__init__(f"Merging into {target} conflicts in {shown}{more}; nothing was pushed.")


class RefNotFound(GitOpError):
    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"{ref} does not exist on the remote.")


class NoProductionTag(GitOpError):
    def __init__(self, glob: str) -> None:
        self.glob = glob
        super().__init__(f"No production tag matches {glob}.")


class InvalidRefName(GitOpError, ValueError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name!r} is not a valid git branch or tag name.")


class BranchMoved(Exception):
    """The branch is at `head`, past the commit the step was given; `commits` are the ones added since."""

    def __init__(self, branch: str, head: str, commits: tuple[Commit, ...]) -> None:
        self.branch = branch
        self.head = head
        self.commits = commits
        super().__init__(f"{branch} moved to {head[:10]} ({len(commits)} new commit(s)).")
