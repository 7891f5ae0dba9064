"""The webhook payloads GitHub sends when a pull request, review, check run or commit status changes.

Each holds what GitHub's payload holds of the change (the pull request, the review, the check run and its suite,
the status and the branches at its commit), the repository and the sender.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.standins.github_records import CheckRun, PullRequest, Review, Status, stamp

if TYPE_CHECKING:
    from bot.standins.github_repo import Repository


def _envelope(repo: Repository, sender: str) -> dict[str, Any]:
    return {"repository": repo.site.repository(repo.default_branch), "sender": repo.site.user(sender)}


def pull_request_event(repo: Repository, action: str, pull: PullRequest, sender: str) -> dict[str, Any]:
    return {"action": action, "number": pull.number, "pull_request": repo.pull_json(pull, full=True),
            **_envelope(repo, sender)}


def review_event(repo: Repository, action: str, pull: PullRequest, review: Review) -> dict[str, Any]:
    return {"action": action, "review": repo.site.review(pull.number, review),
            "pull_request": repo.pull_json(pull, full=False), **_envelope(repo, review.login)}


def _open_pulls_at(repo: Repository, sha: str) -> list[dict[str, Any]]:
    """The open pull requests whose head is `sha`, as a check run or suite lists them."""
    pulls = [p for p in repo.pulls.values() if p.state == "open" and repo.git.branch(p.head) == sha]
    return [{"number": p.number, "url": f"{repo.site.repo_api}/pulls/{p.number}",
             "head": {"ref": p.head, "sha": sha}, "base": {"ref": p.base, "sha": repo.git.branch(p.base) or ""}}
            for p in pulls]


def _branch_at(repo: Repository, sha: str) -> str | None:
    return next((p.head for p in repo.pulls.values() if repo.git.branch(p.head) == sha), None)


def _suite(repo: Repository, sha: str, runs: list[CheckRun]) -> dict[str, Any]:
    done = all(r.status == "completed" for r in runs)
    failed = any(r.conclusion not in ("success", "neutral", "skipped") for r in runs)
    return {"id": 900_000 + int(sha[:6], 16), "head_sha": sha, "head_branch": _branch_at(repo, sha),
            "status": "completed" if done else "in_progress",
            "conclusion": ("failure" if failed else "success") if done else None,
            "pull_requests": _open_pulls_at(repo, sha)}


def check_run_event(repo: Repository, action: str, run: CheckRun, sender: str) -> dict[str, Any]:
    runs = repo.check_runs.get(run.head_sha, [run])
    check_run = {**repo.site.check_run(run), "check_suite": _suite(repo, run.head_sha, runs),
                 "pull_requests": _open_pulls_at(repo, run.head_sha)}
    return {"action": action, "check_run": check_run, **_envelope(repo, sender)}


def check_suite_event(repo: Repository, sha: str, sender: str) -> dict[str, Any]:
    suite = _suite(repo, sha, repo.check_runs.get(sha, []))
    return {"action": "completed", "check_suite": suite, **_envelope(repo, sender)}


def status_event(repo: Repository, status: Status, sender: str) -> dict[str, Any]:
    site = repo.site
    branches = [{"name": p.head, "commit": {"sha": status.sha, "url": f"{site.repo_api}/commits/{status.sha}"}}
                for p in repo.pulls.values() if repo.git.branch(p.head) == status.sha]
    commit = site.commit(repo.git.commit(status.sha), repo.logins_by_email, None)
    return {"id": status.id, "sha": status.sha, "name": f"{site.owner}/{site.name}",
            "target_url": status.target_url, "context": status.context, "description": status.description,
            "state": status.state, "commit": commit, "branches": branches,
            "created_at": stamp(status.created_at), "updated_at": stamp(status.created_at),
            **_envelope(repo, sender)}


def ping_event(repo: Repository, hook_id: int, url: str) -> dict[str, Any]:
    hook = {"type": "Repository", "id": hook_id, "name": "web", "active": True,
            "events": ["pull_request", "pull_request_review", "check_run", "check_suite", "status"],
            "config": {"content_type": "json", "insecure_ssl": "0", "url": url}}
    return {"zen": "Keep it logically awesome.", "hook_id": hook_id, "hook": hook,
            **_envelope(repo, repo.site.owner)}
