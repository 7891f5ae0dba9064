"""One repository on the stand-in GitHub: its pull requests, reviews, labels, checks and statuses, and the
answers to the REST operations on them. Heads, bases and merges are real refs and commits of the remote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any

from bot.standins.github_calls import Answer, Call, error, invalid
from bot.standins.github_events import pull_request_event
from bot.standins.github_git import Conflict, RemoteGit
from bot.standins.github_objects import Site
from bot.standins.github_records import CheckRun, Protection, PullRequest, Review, Status
from bot.standins.github_repo_checks import CheckOperations
from bot.standins.github_repo_reviews import ReviewOperations

NOT_MERGEABLE = "Pull Request is not mergeable"
HEAD_MODIFIED = "Head branch was modified. Review and try the merge again."


@dataclass
class Repository(ReviewOperations, CheckOperations):
    git: RemoteGit
    site: Site
    default_branch: str = "main"
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    reviews: dict[int, list[Review]] = field(default_factory=dict)
    labels: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # name -> (color, description)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: dict[str, list[CheckRun]] = field(default_factory=dict)  # by sha
    statuses: dict[str, list[Status]] = field(default_factory=dict)  # by sha, oldest first
    protections: dict[str, Protection] = field(default_factory=dict)
    logins_by_email: dict[str, str] = field(default_factory=dict)
    ids: count = field(default_factory=lambda: count(1))
    # Called with a webhook event's name and a function building its payload, on each change a call makes.
    announce: Callable[[str, Callable[[], dict[str, Any]]], None] = lambda event, payload: None

    def handler(self, operation_id: str) -> Callable[[Call], Answer]:
        return getattr(self, "op_" + operation_id.replace("/", "_").replace("-", "_"))

    # Repository
    def op_repos_get(self, call: Call) -> Answer:
        return Answer(200, self.site.repository(self.default_branch))

    # Pull requests
    def open_pull(
        self,
        head: str,
        base: str,
        title: str,
        author: str,
        now: datetime,
        body: str | None = None,
        draft: bool = False,
    ) -> PullRequest:
        number = max([*self.pulls, *self.comments, 0]) + 1
        pull = PullRequest(number, title, body, head, base, author, now, now, draft)
        self.pulls[number] = pull
        return pull

    def op_pulls_create(self, call: Call) -> Answer:
        head, base = _branch_name(call.body["head"]), call.body["base"]
        if head is None or self.git.branch(head) is None:
            return invalid("PullRequest", "head")
        if self.git.branch(base) is None:
            return invalid("PullRequest", "base")
        for pull in self.pulls.values():
            if pull.state == "open" and (pull.head, pull.base) == (head, base):
                return invalid(
                    "PullRequest",
                    "",
                    f"A pull request already exists for {self.site.owner}:{head}.",
                    "custom",
                )
        if not self.git.commits_between(f"refs/heads/{base}", f"refs/heads/{head}"):
            return invalid("PullRequest", "", f"No commits between {base} and {head}", "custom")
        pull = self.open_pull(
            head,
            base,
            call.body.get("title", head),
            call.login,
            call.now,
            call.body.get("body"),
            call.body.get("draft", False),
        )
        answer = self.pull_json(pull, full=True)
        self._announce_pull("opened", pull, call.login)
        return Answer(201, answer, (("Location", answer["url"]),))

    def op_pulls_list(self, call: Call) -> Answer:
        state = call.query.get("state", "open")
        head = call.query.get("head")
        chosen = [
            p
            for p in self.pulls.values()
            if state in ("all", p.state)
            and (head is None or f"{self.site.owner}:{p.head}" == head)
            and call.query.get("base", p.base) == p.base
        ]
        newest_first = call.query.get("direction", "desc") == "desc"
        chosen.sort(key=lambda p: p.number, reverse=newest_first)
        return Answer(200, [self.pull_json(p, full=False) for p in chosen], paged=True)

    def op_pulls_get(self, call: Call) -> Answer:
        pull = self.pulls.get(int(call.path["pull_number"]))
        return Answer(200, self.pull_json(pull, full=True)) if pull else error(404, "Not Found")

    def op_pulls_update(self, call: Call) -> Answer:
        pull = self.pulls.get(int(call.path["pull_number"]))
        if pull is None:
            return error(404, "Not Found")
        if "base" in call.body and self.git.branch(call.body["base"]) is None:
            return invalid("PullRequest", "base")
        pull.title = call.body.get("title", pull.title)
        pull.body = call.body.get("body", pull.body)
        pull.base = call.body.get("base", pull.base)
        if call.body.get("state") in ("open", "closed") and pull.merged_at is None:
            was = pull.state
            pull.state = call.body["state"]
            pull.closed_at = call.now if pull.state == "closed" else None
            if pull.state != was:
                self._announce_pull("closed" if pull.state == "closed" else "reopened", pull, call.login)
        pull.updated_at = call.now
        return Answer(200, self.pull_json(pull, full=True))

    def _announce_pull(self, action: str, pull: PullRequest, sender: str) -> None:
        self.announce("pull_request", lambda: pull_request_event(self, action, pull, sender))

    def op_pulls_merge(self, call: Call) -> Answer:
        pull = self.pulls.get(int(call.path["pull_number"]))
        if pull is None:
            return error(404, "Not Found")
        body = call.body or {}
        head, base = self.git.branch(pull.head), self.git.branch(pull.base)
        if pull.state != "open" or head is None or base is None:
            return error(405, NOT_MERGEABLE)
        if body.get("sha") not in (None, head):
            return error(409, HEAD_MODIFIED)
        refusal = self.protection_refusal(pull, head)
        if refusal:
            return error(405, refusal)
        try:
            merged = self._merge_commits(pull, head, base, body, call.login)
        except Conflict:
            return error(405, NOT_MERGEABLE)
        self.git.move_branch(pull.base, merged, base)
        pull.state, pull.merged_at, pull.closed_at, pull.updated_at = "closed", call.now, call.now, call.now
        pull.merged_by, pull.merge_commit_sha, pull.head_sha_at_merge = call.login, merged, head
        self._announce_pull("closed", pull, call.login)
        return Answer(200, {"sha": merged, "merged": True, "message": "Pull Request successfully merged"})

    def _merge_commits(
        self, pull: PullRequest, head: str, base: str, body: dict[str, Any], login: str
    ) -> str:
        author = (login, f"{login}@users.noreply.github.com")
        method = body.get("merge_method", "merge")
        if method == "rebase":
            return self.git.rebase(base, self.git.commits_between(base, head))
        if method == "squash":
            title = body.get("commit_title", f"{pull.title} (#{pull.number})")
            details = body.get("commit_message") or "\n".join(
                f"* {self.git.commit(sha).message.splitlines()[0]}"
                for sha in self.git.commits_between(base, head)
            )
            return self.git.squash(base, head, f"{title}\n\n{details}", author)
        title = body.get(
            "commit_title", f"Merge pull request #{pull.number} from {self.site.owner}/{pull.head}"
        )
        return self.git.merge(base, head, f"{title}\n\n{body.get('commit_message', pull.title)}", author)

    def protection_refusal(self, pull: PullRequest, head: str) -> str | None:
        """Why the base's protection refuses this merge now, in GitHub's words; None if it allows it."""
        rule = self.protections.get(pull.base)
        if rule is None:
            return None
        latest = self.latest_reviews(pull.number)
        if any(r.state == "CHANGES_REQUESTED" for r in latest):
            return "Changes have been requested."
        approvals = [
            r
            for r in latest
            if r.state == "APPROVED" and (not rule.dismiss_stale_reviews or r.commit_id == head)
        ]
        if len(approvals) < rule.required_approvals:
            plural = "review is" if rule.required_approvals == 1 else "reviews are"
            needed = f"At least {rule.required_approvals} approving {plural}"
            return f"{needed} required by reviewers with write access."
        for context in rule.required_checks:
            state = self.check_state(head, context)
            if state != "success":
                word = "is failing" if state == "failure" else "is expected"
                return f'Required status check "{context}" {word}.'
        return None

    def pull_json(self, pull: PullRequest, *, full: bool) -> dict[str, Any]:
        head = self.git.branch(pull.head) or pull.head_sha_at_merge or ""
        base = self.git.branch(pull.base) or ""
        labels = [self.site.label(name, *self.labels[name]) for name in pull.labels]
        answer = self.site.pull(pull, head, base, self.default_branch, labels)
        if not full:
            return answer
        merged = pull.merged_at is not None
        mergeable = None if pull.state != "open" or not head or not base else self.git.mergeable(base, head)
        changes = self.git.changes(self.git.merge_base(base, head) or base, head) if head and base else []
        state = (
            (
                "dirty"
                if mergeable is False
                else "blocked"
                if self.protection_refusal(pull, head)
                else "draft"
                if pull.draft
                else "clean"
            )
            if mergeable is not None
            else "unknown"
        )
        return {
            **answer,
            "merged": merged,
            "mergeable": mergeable,
            "rebaseable": mergeable,
            "mergeable_state": state,
            "merged_by": self.site.user(pull.merged_by) if pull.merged_by else None,
            "comments": len(self.comments.get(pull.number, [])),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(self.git.commits_between(base, head)) if head and base else 0,
            "additions": sum(c.additions for c in changes),
            "deletions": sum(c.deletions for c in changes),
            "changed_files": len(changes),
        }


def _branch_name(head: str) -> str | None:
    """ "owner:branch" or "branch" -> "branch"; the stand-in serves no forks, so any owner prefix is its own."""
    return head.partition(":")[2] if ":" in head else head or None
