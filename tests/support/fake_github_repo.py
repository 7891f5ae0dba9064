"""One repository on the fake GitHub: its pull requests, reviews, labels, checks and statuses, and the
answers to the REST operations on them. Heads, bases and merges are real refs and commits of the remote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any

from tests.support.fake_github_git import Conflict, RemoteGit
from tests.support.fake_github_objects import (
    SUCCESSFUL_CONCLUSIONS,
    CheckRun,
    Protection,
    PullRequest,
    Review,
    Site,
    Status,
)

NOT_MERGEABLE = "Pull Request is not mergeable"
HEAD_MODIFIED = "Head branch was modified. Review and try the merge again."
DEFAULT_LABEL_COLOR = "ededed"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    paged: bool = False  # a list the server pages with per_page/page and a Link header


@dataclass(frozen=True)
class Call:
    path: dict[str, str]
    query: dict[str, str]
    body: Any
    login: str
    now: datetime


def error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> Answer:
    body: dict[str, Any] = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    if errors is not None:
        body["errors"] = errors
    return Answer(status, body)


def invalid(resource: str, field_name: str, message: str | None = None, code: str = "invalid") -> Answer:
    detail = {"resource": resource, "field": field_name, "code": code}
    return error(422, "Validation Failed", [{**detail, "message": message} if message else detail])


@dataclass
class Repository:
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
            pull.state = call.body["state"]
            pull.closed_at = call.now if pull.state == "closed" else None
        pull.updated_at = call.now
        return Answer(200, self.pull_json(pull, full=True))

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

    def latest_reviews(self, number: int) -> list[Review]:
        """Each reviewer's latest approval or change request: what GitHub counts for a merge."""
        latest: dict[str, Review] = {}
        for review in self.reviews.get(number, []):
            if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[review.login] = review
        return [r for r in latest.values() if r.state != "DISMISSED"]

    def check_state(self, sha: str, context: str) -> str | None:
        """success / failure / pending for a check run or status named `context` on `sha`; None if absent."""
        runs = [r for r in self.check_runs.get(sha, []) if r.name == context]
        statuses = [s for s in self.statuses.get(sha, []) if s.context == context]
        if runs:
            run = runs[-1]
            if run.status != "completed":
                return "pending"
            return "success" if run.conclusion in SUCCESSFUL_CONCLUSIONS else "failure"
        if statuses:
            return {"success": "success", "pending": "pending"}.get(statuses[-1].state, "failure")
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

    # Reviews
    def op_pulls_list_reviews(self, call: Call) -> Answer:
        number = int(call.path["pull_number"])
        if number not in self.pulls:
            return error(404, "Not Found")
        return Answer(200, [self.site.review(number, r) for r in self.reviews.get(number, [])], paged=True)

    def op_pulls_request_reviewers(self, call: Call) -> Answer:
        pull = self.pulls.get(int(call.path["pull_number"]))
        if pull is None:
            return error(404, "Not Found")
        reviewers = call.body.get("reviewers", [])
        if pull.author in reviewers:
            return error(422, "Review cannot be requested from pull request author.")
        pull.requested_reviewers += [login for login in reviewers if login not in pull.requested_reviewers]
        return Answer(201, self.pull_json(pull, full=False))

    # Labels and comments
    def op_issues_list_labels_for_repo(self, call: Call) -> Answer:
        return Answer(200, [self.site.label(name, *spec) for name, spec in self.labels.items()], paged=True)

    def op_issues_create_label(self, call: Call) -> Answer:
        name = call.body["name"]
        if name.lower() in (existing.lower() for existing in self.labels):
            return invalid("Label", "name", code="already_exists")
        self.labels[name] = (
            call.body.get("color", DEFAULT_LABEL_COLOR).lstrip("#"),
            call.body.get("description"),
        )
        answer = self.site.label(name, *self.labels[name])
        return Answer(201, answer, (("Location", answer["url"]),))

    def op_issues_add_labels(self, call: Call) -> Answer:
        pull = self.pulls.get(int(call.path["issue_number"]))
        if pull is None:
            return error(404, "Not Found")
        given = call.body["labels"] if isinstance(call.body, dict) else call.body
        for label in given if isinstance(given, list) else [given]:
            name = label["name"] if isinstance(label, dict) else label
            self.labels.setdefault(
                name, (DEFAULT_LABEL_COLOR, None)
            )  # GitHub creates a label it does not know
            if name not in pull.labels:
                pull.labels.append(name)
        return Answer(200, [self.site.label(name, *self.labels[name]) for name in pull.labels])

    def op_issues_create_comment(self, call: Call) -> Answer:
        number = int(call.path["issue_number"])
        if number not in self.pulls:
            return error(404, "Not Found")
        comment = self.site.comment(next(self.ids), number, call.login, call.body["body"], call.now)
        self.comments.setdefault(number, []).append(comment)
        return Answer(201, comment, (("Location", comment["url"]),))

    # Commits, checks and statuses
    def op_repos_get_commit(self, call: Call) -> Answer:
        sha = self.git.rev(call.path["ref"])
        if sha is None:
            return error(422, f"No commit found for SHA: {call.path['ref']}")
        info = self.git.commit(sha)
        parent = info.parents[0] if info.parents else EMPTY_TREE
        return Answer(200, self.site.commit(info, self.logins_by_email, self.git.changes(parent, sha)))

    def op_checks_list_for_ref(self, call: Call) -> Answer:
        sha = self.git.rev(call.path["ref"])
        if sha is None:
            return error(404, "Not Found")
        runs = [
            r
            for r in self.check_runs.get(sha, [])
            if call.query.get("check_name", r.name) == r.name
            and call.query.get("status", r.status) == r.status
        ]
        return Answer(200, {"total_count": len(runs), "check_runs": [self.site.check_run(r) for r in runs]})

    def op_repos_get_combined_status_for_ref(self, call: Call) -> Answer:
        sha = self.git.rev(call.path["ref"])
        if sha is None:
            return error(404, "Not Found")
        latest = {s.context: s for s in self.statuses.get(sha, [])}
        states = {s.state for s in latest.values()}
        state = (
            "failure"
            if states & {"failure", "error"}
            else "pending"
            if "pending" in states or not states
            else "success"
        )  # GitHub says "pending" while a commit has no status at all
        return Answer(
            200,
            {
                "state": state,
                "sha": sha,
                "total_count": len(latest),
                "statuses": [self.site.status(s, "", full=False) for s in latest.values()],
                "repository": self.site.repository(self.default_branch),
                "commit_url": f"{self.site.repo_api}/commits/{sha}",
                "url": f"{self.site.repo_api}/commits/{sha}/status",
            },
        )

    def op_repos_list_commit_statuses_for_ref(self, call: Call) -> Answer:
        sha = self.git.rev(call.path["ref"])
        statuses = reversed(self.statuses.get(sha, [])) if sha else []
        return Answer(200, [self.site.status(s, self.site.owner) for s in statuses], paged=True)

    def op_repos_compare_commits_with_basehead(self, call: Call) -> Answer:
        base_name, _, head_name = call.path["basehead"].partition("...")
        base, head = self.git.rev(base_name), self.git.rev(head_name)
        merge_base = self.git.merge_base(base, head) if base and head else None
        if merge_base is None:
            return error(404, "Not Found")
        ahead, behind = self.git.commits_between(base, head), self.git.commits_between(head, base)
        status = (
            "identical"
            if not ahead and not behind
            else "ahead"
            if not behind
            else "behind"
            if not ahead
            else "diverged"
        )
        commit = self._commit_json
        url = f"{self.site.repo_api}/compare/{call.path['basehead']}"
        html = f"{self.site.repo_html}/compare/{call.path['basehead']}"
        return Answer(
            200,
            {
                "url": url,
                "html_url": html,
                "permalink_url": f"{self.site.repo_html}/compare/{base}...{head}",
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "status": status,
                "ahead_by": len(ahead),
                "behind_by": len(behind),
                "total_commits": len(ahead),
                "base_commit": commit(base),
                "merge_base_commit": commit(merge_base),
                "commits": [commit(sha) for sha in ahead],
                "files": [self.site.diff_entry(head, c) for c in self.git.changes(merge_base, head)],
            },
        )

    def _commit_json(self, sha: str) -> dict[str, Any]:
        return self.site.commit(self.git.commit(sha), self.logins_by_email, None)


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def _branch_name(head: str) -> str | None:
    """ "owner:branch" or "branch" -> "branch"; the fake serves no forks, so any owner prefix is its own."""
    return head.partition(":")[2] if ":" in head else head or None
