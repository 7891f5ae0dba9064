"""The stand-in repository's commits, check runs, commit statuses and comparisons (a mixin of `Repository`)."""

from __future__ import annotations

from typing import Any

from bot.standins.github_calls import Answer, Call, error
from bot.standins.github_git import RemoteGit
from bot.standins.github_objects import Site
from bot.standins.github_records import SUCCESSFUL_CONCLUSIONS, CheckRun, Status

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class CheckOperations:
    git: RemoteGit
    site: Site
    default_branch: str
    check_runs: dict[str, list[CheckRun]]
    statuses: dict[str, list[Status]]
    logins_by_email: dict[str, str]

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
