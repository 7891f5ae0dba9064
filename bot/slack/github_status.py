"""What the status message of a hotfix on GitHub adds: its pull request, the CI of the commit under review (each
check while it runs), the checks the tag started, and Tag anyway when no check ever reported. Pure: no I/O."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from slack_sdk.models.blocks import Block, SectionBlock

from bot.domain.codehost import CheckState
from bot.domain.github_ci import CI_KINDS, DEPLOY_CHECK_KINDS, ci_events
from bot.domain.github_flow import PullRequestRef, hotfix_pull_request
from bot.domain.github_merge import pull_requests_by_target
from bot.domain.hotfix import Event, EventKind, Hotfix, Stage
from bot.slack.blocks import code, escape, mention
from bot.slack.github_text import check_list, check_names, commit, pull_link

_CI_SHOWN = frozenset({Stage.IN_REVIEW, Stage.REVIEWED, Stage.DEPLOYING})


@dataclass(frozen=True)
class OnGitHub:
    """A hotfix's GitHub facts as its events tell them."""

    pull: PullRequestRef | None = None
    ci: Event | None = None  # the latest CI reading (of the pull request's head)
    deploy_checks: Event | None = None  # the latest about the checks the latest tag started
    ci_missing: bool = False  # no check ever reported on the approved commit: an on-call lead may tag anyway
    merge_pulls: Mapping[str, PullRequestRef] = field(default_factory=dict)  # by target branch


def on_github(hotfix: Hotfix, events: Sequence[Event]) -> OnGitHub:
    ci = next((e for e in reversed(events) if e.kind in CI_KINDS), None)
    tagged = max((i for i, e in enumerate(events) if e.kind is EventKind.TAGGED), default=None)
    deploy = None if tagged is None else next(
        (e for e in reversed(events[tagged:]) if e.kind in DEPLOY_CHECK_KINDS), None)
    approved = ci_events(events, hotfix.approved_commit) if hotfix.approved_commit else ()
    missing = bool(approved) and approved[-1].kind is EventKind.CI_MISSING
    return OnGitHub(hotfix_pull_request(events), ci, deploy, missing, pull_requests_by_target(events))


def pull_request_fact(github: OnGitHub) -> str:
    if github.pull is None:
        return "*Pull request*\nbeing opened"
    return f"*Pull request*\n{pull_link(github.pull.number, github.pull.url)} into {code(github.pull.target)}"


def merge_pull(github: OnGitHub | None, target: str) -> str:
    """ ` (#13)`: the pull request that merges the fix into `target`, linked; "" on plain git or before it opens."""
    pull = github.merge_pulls.get(target) if github is not None else None
    return f" ({pull_link(pull.number, pull.url)})" if pull is not None else ""


def blocks(hotfix: Hotfix, github: OnGitHub) -> list[Block]:
    lines = []
    if github.ci is not None and hotfix.stage in _CI_SHOWN:
        lines.append(ci_line(github.ci))
    if github.deploy_checks is not None and hotfix.stage is Stage.MONITORING:
        lines.append(deploy_line(github.deploy_checks))
    if hotfix.stage is Stage.IN_REVIEW:
        lines.append("Review on GitHub: an approving review of the pull request's head approves it.")
    return [SectionBlock(text=line) for line in lines]


def ci_line(event: Event) -> str:
    detail = event.detail
    head = f"*CI* on {commit(str(detail['commit']))}:"
    match event.kind:
        case EventKind.CI_WAITING:
            return f"{head} ⏳ waiting for the first check or status"
        case EventKind.CI_PENDING:
            checks = detail["checks"]
            done = sum(1 for row in checks if CheckState(str(row[1])).finished)
            return f"{head} ⏳ running, {done} of {len(checks)} done\n{check_list(checks)}"
        case EventKind.CI_PASSED:
            return f"{head} ✅ passed ({len(detail['checks'])} check(s))"
        case EventKind.CI_FAILED:
            return f"{head} ❌ failed: {check_names(detail['failing'])}"
        case EventKind.CI_MISSING:
            return f"{head} no check and no status after {escape(str(detail['waited']))}"
    return f"{head} overridden by {mention(event.actor)}"


def deploy_line(event: Event) -> str:
    state = {EventKind.DEPLOY_CHECKS_STARTED: "⏳ running", EventKind.DEPLOY_CHECKS_PASSED: "✅ passed",
             EventKind.DEPLOY_CHECKS_FAILED: "❌ failed"}[event.kind]
    rows = event.detail["failing"] if event.kind is EventKind.DEPLOY_CHECKS_FAILED else event.detail["checks"]
    return f"*Deploy checks* of {code(str(event.detail['tag']))}: {state}\n{check_list(rows)}"
