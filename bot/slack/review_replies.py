"""The replies that show a reviewer what changed: the review request, and the commits nobody reviewed when the
branch moved past the approved commit or kept commits no target has. Pure: no I/O."""
from __future__ import annotations

from collections.abc import Sequence

from bot.domain.hotfix import Event, Hotfix
from bot.domain.policy import REVIEWER, ApprovalPolicy
from bot.domain.review import PATCH_KEPT, Commit, ReviewChange, commits_from_detail
from bot.slack.blocks import code, inert, mention

MINIMAL_FILES, MINIMAL_LINES = 5, 100  # the procedure: keep changes minimal
DIFF_LINES_SHOWN, DIFF_CHARS_SHOWN = 40, 3000  # a diff up to this size is shown whole in the review request


def review_requested_on_github(event: Event, hotfix: Hotfix, policy: ApprovalPolicy, reveal: bool) -> str:
    """The review happens on the pull request: no Slack review buttons (one source of truth)."""
    return review_requested(event, hotfix, policy, reveal, github=True)


def review_requested(event: Event, hotfix: Hotfix, policy: ApprovalPolicy, reveal: bool, *,
                     github: bool = False) -> str:
    change = ReviewChange.from_detail(event.detail)
    files, plus, minus = change.files, change.insertions, change.deletions
    reviewers = " ".join(mention(u) for u in sorted(policy.holders(REVIEWER) - {hotfix.declared_by}))
    lines = [f"🔍 {reviewers}: review {code(hotfix.branch)} at `{change.commit[:10]}` please "
             "(1 reviewer, not the declarer)."]
    if not reveal:
        lines.append(f"{len(files)} file(s), +{plus} −{minus}. A security fix in a public channel: the diff and the "
                     f"file names stay out of it. See them with `{_diff_command(change.base, change.commit)}`")
    else:
        shown = ", ".join(code(f.path) for f in files[:10]) + (
            f" and {len(files) - 10} more" if len(files) > 10 else "")
        lines.append(f"{len(files)} file(s), +{plus} −{minus}: {shown}")
    if len(files) > MINIMAL_FILES or plus + minus > MINIMAL_LINES:
        lines.append(f"⚠️ Not a minimal change (over {MINIMAL_FILES} files or {MINIMAL_LINES} lines). "
                     "Hotfixes fix only the immediate problem.")
    if change.approved:
        lines.append(_since_approved(change, reveal))
    if reveal and change.patch:
        lines.append(_diff(change))
    where = ("Review it on GitHub, on the pull request linked in this thread" if github
             else "Use *Approve review* or *Request changes* on the status message")
    lines.append(f"{where}. An approval counts for `{change.commit[:10]}` only: commits pushed after it need a "
                 "review of their own.")
    return "\n".join(lines)


def _since_approved(change: ReviewChange, reveal: bool) -> str:
    approved = f"`{change.approved[:10]}`" if change.approved else ""
    if not change.new_commits:
        return f"No new commits since the approved {approved}."
    return f"🆕 {len(change.new_commits)} commit(s) since the approved {approved}:\n" + _commit_list(
        change.new_commits, reveal)


def _diff(change: ReviewChange) -> str:
    """A small diff whole, in a code block; a bigger one as counts per file, its first hunks and the command."""
    label = f"The diff since `{change.approved[:10]}`" if change.approved else "The diff"
    lines_changed = sum(f.insertions + f.deletions for f in change.shown_files)
    body = inert(change.patch)
    if lines_changed <= DIFF_LINES_SHOWN and len(change.patch) < PATCH_KEPT and len(body) <= DIFF_CHARS_SHOWN:
        return f"{label}:\n```{body}```"
    counts = "\n".join(f"• {code(f.path)} +{f.insertions} −{f.deletions}" for f in change.shown_files[:10])
    more = f"\n…and {len(change.shown_files) - 10} more file(s)" if len(change.shown_files) > 10 else ""
    first_hunks = body[:DIFF_CHARS_SHOWN].rpartition("\n")[0]
    return (f"{label} is {lines_changed} lines, too long for the thread:\n{counts}{more}\nIts first hunks:\n"
            f"```{first_hunks}```\nSee all of it: `{_diff_command(change.shown_from, change.commit)}`")


def _diff_command(base: str, commit: str) -> str:
    return f"git fetch origin && git diff {base}..{commit}"


def _commit_list(commits: Sequence[Commit], reveal: bool) -> str:
    """Short SHA, subject and author; a security fix in a public channel keeps its subjects to itself."""
    lines = [f"• `{c.sha[:7]}` {inert(c.subject) + ' ' if reveal else ''}({inert(c.author)})" for c in commits[:10]]
    more = [f"…and {len(commits) - 10} more"] if len(commits) > 10 else []
    return "\n".join(lines + more)


def branch_moved(event: Event, hotfix: Hotfix, policy: ApprovalPolicy, reveal: bool) -> str:
    commits = commits_from_detail(event.detail["commits"])
    return (f"🛑 Not tagged: `{hotfix.branch}` moved past the approved `{event.detail['approved'][:10]}` to "
            f"`{event.detail['head'][:10]}`. {len(commits)} commit(s) nobody reviewed:\n"
            f"{_commit_list(commits, reveal)}\nThey need a review too: a new review request follows.")


def branch_kept(event: Event, hotfix: Hotfix, policy: ApprovalPolicy, reveal: bool) -> str:
    commits = commits_from_detail(event.detail["commits"])
    return (f"🌿 Kept `{event.detail['branch']}`: it points at `{event.detail['head'][:10]}`, past the merged "
            f"`{event.detail['merged'][:10]}`, so deleting it would lose {len(commits)} commit(s) no target has:\n"
            f"{_commit_list(commits, reveal)}\nSave that work elsewhere, then delete the branch by hand.")
