"""The JSON GitHub shows for the stand-in's records, built from the remote's real commits.

The builders fill in what a client reads (ids, names, shas, states, links); the spec's `complete()`
adds every other property the response schema requires.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.standins.github_git import CommitInfo, FileChange, Person
from bot.standins.github_records import CheckRun, PullRequest, Review, Status, numeric_id, stamp

HTML_ORIGIN = "https://github.com"
# githubkit 0.16's models come from a newer description than specs/github's, which requires these of a
# label; GitHub sends them, and the older schema allows them.
NEWER_LABEL_PROPERTIES = {"archived_at": None, "archived_by": None}


class Site:
    """Where the objects live: the stand-in's API origin for `url`s, github.com for `html_url`s."""

    def __init__(self, api: str, owner: str, repo: str, clone_url: str) -> None:
        self.api, self.owner, self.name, self.clone_url = api, owner, repo, clone_url
        self.repo_api = f"{api}/repos/{owner}/{repo}"
        self.repo_html = f"{HTML_ORIGIN}/{owner}/{repo}"

    def user(self, login: str) -> dict[str, Any]:
        kind = "Bot" if login.endswith("[bot]") else "User"
        return {
            "login": login,
            "id": numeric_id(login),
            "node_id": f"U_{login}",
            "type": kind,
            "url": f"{self.api}/users/{login}",
            "html_url": f"{HTML_ORIGIN}/{login}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{numeric_id(login)}",
            "site_admin": False,
        }

    def repository(self, default_branch: str) -> dict[str, Any]:
        full_name = f"{self.owner}/{self.name}"
        return {
            "id": numeric_id(full_name),
            "node_id": f"R_{full_name}",
            "name": self.name,
            "full_name": full_name,
            "owner": self.user(self.owner),
            "private": True,
            "fork": False,
            "url": self.repo_api,
            "html_url": self.repo_html,
            "clone_url": self.clone_url,
            "default_branch": default_branch,
            "visibility": "private",
            "archived": False,
            "disabled": False,
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
            "allow_merge_commit": True,
            "allow_squash_merge": True,
            "allow_rebase_merge": True,
        }

    def branch_ref(self, branch: str, sha: str, default_branch: str) -> dict[str, Any]:
        return {
            "label": f"{self.owner}:{branch}",
            "ref": branch,
            "sha": sha,
            "user": self.user(self.owner),
            "repo": self.repository(default_branch),
        }

    def label(self, name: str, color: str, description: str | None) -> dict[str, Any]:
        return {
            "id": numeric_id(f"label:{name}"),
            "node_id": f"LA_{name}",
            "name": name,
            "color": color,
            "description": description,
            "default": False,
            "url": f"{self.repo_api}/labels/{name}",
            **NEWER_LABEL_PROPERTIES,
        }

    def pull(
        self,
        pull: PullRequest,
        head_sha: str,
        base_sha: str,
        default_branch: str,
        labels: list[dict[str, Any]],
    ) -> dict[str, Any]:
        return {
            **self._pull_urls(pull.number, head_sha),
            "id": 100_000 + pull.number,
            "node_id": f"PR_{pull.number}",
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "body": pull.body,
            "user": self.user(pull.author),
            "draft": pull.draft,
            "labels": [
                {**label, "description": label["description"] or ""} for label in labels
            ],  # a string here
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "auto_merge": None,
            "requested_reviewers": [self.user(login) for login in pull.requested_reviewers],
            "requested_teams": [],
            "created_at": stamp(pull.created_at),
            "updated_at": stamp(pull.updated_at),
            "closed_at": stamp(pull.closed_at),
            "merged_at": stamp(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "author_association": "MEMBER",
            "head": self.branch_ref(pull.head, head_sha, default_branch),
            "base": self.branch_ref(pull.base, base_sha, default_branch),
        }

    def _pull_urls(self, number: int, head_sha: str) -> dict[str, Any]:
        url = f"{self.repo_api}/pulls/{number}"
        html = f"{self.repo_html}/pull/{number}"
        issue = f"{self.repo_api}/issues/{number}"
        return {
            "url": url,
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{self.repo_api}/pulls/comments{{/number}}",
            "comments_url": f"{issue}/comments",
            "statuses_url": f"{self.repo_api}/statuses/{head_sha}",
            "_links": self._pull_links(url, html, issue, head_sha),
        }

    def _pull_links(self, url: str, html: str, issue: str, head_sha: str) -> dict[str, dict[str, str]]:
        return {
            name: {"href": href}
            for name, href in (
                ("self", url),
                ("html", html),
                ("issue", issue),
                ("comments", f"{issue}/comments"),
                ("review_comments", f"{url}/comments"),
                ("review_comment", f"{self.repo_api}/pulls/comments{{/number}}"),
                ("commits", f"{url}/commits"),
                ("statuses", f"{self.repo_api}/statuses/{head_sha}"),
            )
        }

    def review(self, pull_number: int, review: Review) -> dict[str, Any]:
        html = f"{self.repo_html}/pull/{pull_number}#pullrequestreview-{review.id}"
        pull_url = f"{self.repo_api}/pulls/{pull_number}"
        return {
            "id": review.id,
            "node_id": f"PRR_{review.id}",
            "user": self.user(review.login),
            "body": review.body,
            "state": review.state,
            "commit_id": review.commit_id,
            "html_url": html,
            "pull_request_url": pull_url,
            "submitted_at": stamp(review.submitted_at),
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "author_association": "MEMBER",
        }

    def comment(
        self, comment_id: int, issue_number: int, login: str, body: str, at: datetime
    ) -> dict[str, Any]:
        return {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "body": body,
            "user": self.user(login),
            "url": f"{self.repo_api}/issues/comments/{comment_id}",
            "html_url": f"{self.repo_html}/pull/{issue_number}#issuecomment-{comment_id}",
            "issue_url": f"{self.repo_api}/issues/{issue_number}",
            "created_at": stamp(at),
            "updated_at": stamp(at),
            "author_association": "MEMBER",
        }

    def check_run(self, run: CheckRun) -> dict[str, Any]:
        return {
            "id": run.id,
            "node_id": f"CR_{run.id}",
            "name": run.name,
            "head_sha": run.head_sha,
            "external_id": str(run.id),
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": stamp(run.started_at),
            "completed_at": stamp(run.completed_at),
            "url": f"{self.repo_api}/check-runs/{run.id}",
            "details_url": run.details_url,
            "html_url": f"{self.repo_html}/runs/{run.id}",
            "check_suite": {"id": run.id},
            "output": {
                "title": None,
                "summary": None,
                "text": None,
                "annotations_count": 0,
                "annotations_url": f"{self.repo_api}/check-runs/{run.id}/annotations",
            },
            "app": None,
            "pull_requests": [],
        }

    def status(self, status: Status, creator: str, full: bool = True) -> dict[str, Any]:
        answer = {
            "id": status.id,
            "node_id": f"ST_{status.id}",
            "state": status.state,
            "context": status.context,
            "description": status.description,
            "target_url": status.target_url,
            "url": f"{self.repo_api}/statuses/{status.sha}",
            "avatar_url": None,
            "created_at": stamp(status.created_at),
            "updated_at": stamp(status.created_at),
        }
        return {**answer, "creator": self.user(creator)} if full else answer

    def commit(
        self, info: CommitInfo, logins: dict[str, str], changes: list[FileChange] | None
    ) -> dict[str, Any]:
        url = f"{self.repo_api}/commits/{info.sha}"
        answer = {
            "sha": info.sha,
            "node_id": f"C_{info.sha}",
            "url": url,
            "html_url": f"{self.repo_html}/commit/{info.sha}",
            "comments_url": f"{url}/comments",
            "commit": {
                "url": f"{self.repo_api}/git/commits/{info.sha}",
                "message": info.message,
                "comment_count": 0,
                "author": _git_user(info.author),
                "committer": _git_user(info.committer),
                "tree": {"sha": info.tree, "url": f"{self.repo_api}/git/trees/{info.tree}"},
            },
            "author": self._user_by_email(info.author.email, logins),
            "committer": self._user_by_email(info.committer.email, logins),
            "parents": [
                {
                    "sha": sha,
                    "url": f"{self.repo_api}/commits/{sha}",
                    "html_url": f"{self.repo_html}/commit/{sha}",
                }
                for sha in info.parents
            ],
        }
        if changes is not None:
            additions = sum(c.additions for c in changes)
            deletions = sum(c.deletions for c in changes)
            answer["stats"] = {"additions": additions, "deletions": deletions, "total": additions + deletions}
            answer["files"] = [self.diff_entry(info.sha, change) for change in changes]
        return answer

    def diff_entry(self, sha: str, change: FileChange) -> dict[str, Any]:
        return {
            "sha": change.blob,
            "filename": change.filename,
            "status": change.status,
            "additions": change.additions,
            "deletions": change.deletions,
            "changes": change.additions + change.deletions,
            "blob_url": f"{self.repo_html}/blob/{sha}/{change.filename}",
            "raw_url": f"{self.repo_html}/raw/{sha}/{change.filename}",
            "contents_url": f"{self.repo_api}/contents/{change.filename}?ref={sha}",
        }

    def _user_by_email(self, email: str, logins: dict[str, str]) -> dict[str, Any] | None:
        """GitHub links a commit to an account only through a verified email; unknown emails give null."""
        login = logins.get(email.lower())
        return self.user(login) if login else None


def _git_user(person: Person) -> dict[str, Any]:
    return {"name": person.name, "email": person.email, "date": stamp(person.date)}
