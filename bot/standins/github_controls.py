"""What a test or the demo does on the stand-in GitHub as people and CI would: users, pull requests, reviews,
check runs, statuses, branch protection, pushes; and what it reads back. Each change is also sent to the
webhooks subscribed with `send_webhooks_to`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from bot.standins import github_events as events
from bot.standins.github_records import CheckRun, Protection, PullRequest, Review, Status
from bot.standins.github_repo import Repository
from bot.standins.github_webhooks import WebhookSender

REVIEW_STATES = frozenset({"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"})
CI_LOGIN = "ci-bot[bot]"


class RepositoryControls:
    _changed: threading.Condition
    _now: Callable[[], datetime]
    _repo_name: str
    repository: Repository | None
    webhooks: WebhookSender

    def add_user(self, login: str, email: str) -> None:
        """Commits by `email` show `login` as their author, as GitHub links commits to accounts."""
        with self._changed:
            self._repo.logins_by_email[email.lower()] = login

    def open_pull(self, head: str, base: str, title: str, author: str = "engineer") -> int:
        """A pull request someone opened on GitHub; returns its number."""
        with self._changed:
            pull = self._repo.open_pull(head, base, title, author, self._now())
            self.webhooks.send("pull_request", lambda: events.pull_request_event(self._repo, "opened", pull, author))
            return pull.number

    def announce_push(self, branch: str, pusher: str = "engineer") -> None:
        """Someone pushed `branch` (the tests push with git): GitHub says so of each open pull request from it."""
        with self._changed:
            for pull in [p for p in self._repo.pulls.values() if p.state == "open" and p.head == branch]:
                self.webhooks.send("pull_request",
                                   lambda pull=pull: events.pull_request_event(self._repo, "synchronize", pull, pusher))

    def add_review(self, number: int, login: str, state: str, *, commit: str | None = None, body: str = "") -> int:
        """A review by `login` on `commit` (default: the pull request's head now); returns its id. A DISMISSED
        review is sent to webhooks as a dismissal, any other as submitted."""
        if state not in REVIEW_STATES:
            raise ValueError(f"review state {state!r} is not one of {sorted(REVIEW_STATES)}")
        with self._changed:
            pull = self._repo.pulls[number]
            sha = commit or self._repo.git.branch(pull.head) or pull.head_sha_at_merge or ""
            review = Review(next(self._repo.ids), login, state, sha, body, self._now())
            self._repo.reviews.setdefault(number, []).append(review)
            action = "dismissed" if state == "DISMISSED" else "submitted"
            self.webhooks.send("pull_request_review", lambda: events.review_event(self._repo, action, pull, review))
            return review.id

    def set_check_run(self, ref: str, name: str, *, status: str = "completed", conclusion: str | None = "success",
                      details_url: str | None = None) -> int:
        """Create, or update by name, a check run on the commit `ref` names; returns its id."""
        with self._changed:
            sha = self._sha(ref)
            runs = self._repo.check_runs.setdefault(sha, [])
            previous = next((r for r in runs if r.name == name), None)
            now = self._now()
            run = CheckRun(
                previous.id if previous else next(self._repo.ids), name, sha, status,
                conclusion if status == "completed" else None,
                previous.started_at if previous else now,
                now if status == "completed" else None,
                details_url or f"https://ci.example.com/{self._repo_name}/{sha[:7]}/{name}",
            )
            runs[:] = [r for r in runs if r.name != name] + [run]
            self._announce_check_run(run, created=previous is None)
            return run.id

    def _announce_check_run(self, run: CheckRun, created: bool) -> None:
        repo = self._repo
        if created:
            self.webhooks.send("check_run", lambda: events.check_run_event(repo, "created", run, CI_LOGIN))
        if run.status == "completed":
            self.webhooks.send("check_run", lambda: events.check_run_event(repo, "completed", run, CI_LOGIN))
            if all(r.status == "completed" for r in repo.check_runs[run.head_sha]):
                self.webhooks.send("check_suite", lambda: events.check_suite_event(repo, run.head_sha, CI_LOGIN))

    def set_status(self, ref: str, context: str, state: str, *, description: str | None = None,
                   target_url: str | None = None) -> int:
        """A commit status on the commit `ref` names (the newest per context counts); returns its id."""
        with self._changed:
            sha = self._sha(ref)
            status = Status(next(self._repo.ids), sha, context, state, description, target_url, self._now())
            self._repo.statuses.setdefault(sha, []).append(status)
            self.webhooks.send("status", lambda: events.status_event(self._repo, status, CI_LOGIN))
            return status.id

    def protect(self, branch: str, *, required_approvals: int = 0, required_checks: Iterable[str] = (),
                dismiss_stale_reviews: bool = False) -> None:
        """Branch protection: merging into `branch` needs these approvals and successful checks."""
        with self._changed:
            self._repo.protections[branch] = Protection(required_approvals, tuple(required_checks),
                                                        dismiss_stale_reviews)

    def send_webhooks_to(self, url: str, secret: str) -> int:
        """Send every later change to `url` as GitHub's webhooks, signed with `secret`, starting with the ping
        GitHub sends when a hook is made; returns the hook's id."""
        with self._changed:
            hook_id = self.webhooks.subscribe(url, secret)
            self.webhooks.send("ping", lambda: events.ping_event(self._repo, hook_id, url), hook_id)
            return hook_id

    # What was recorded
    def pull(self, number: int) -> PullRequest:
        with self._changed:
            return self._repo.pulls[number]

    def comments(self, number: int) -> list[str]:
        with self._changed:
            return [c["body"] for c in self._repo.comments.get(number, [])]

    @property
    def _repo(self) -> Repository:
        if self.repository is None:
            raise RuntimeError("The stand-in GitHub is not started")
        return self.repository

    def _sha(self, ref: str) -> str:
        sha = self._repo.git.rev(ref)
        if sha is None:
            raise ValueError(f"{ref!r} names no commit on the remote")
        return sha
