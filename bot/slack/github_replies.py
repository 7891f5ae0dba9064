"""Thread replies of a hotfix on GitHub: its pull requests, the reviews and CI read from them, the checks the tag
started, and merge-backs GitHub would not do. What comes from GitHub (logins, check names, links, reviewers'
words) is shown inert. Pure: no I/O."""
from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock

from bot.domain.codehost import MergeRefusal
from bot.domain.hotfix import BOT, Event, EventKind, Hotfix
from bot.domain.policy import ONCALL_LEAD, ApprovalPolicy, role_label
from bot.domain.procedure import SECURITY
from bot.slack.blocks import Message, code, escape, mention, roll_back_button
from bot.slack.github_text import check_names, commit, name, pull_link, words
from bot.slack.ids import ActionId

GITHUB_MESSAGE_SHOWN = 300  # GitHub's own words on a refused merge, cut to this


def tag_anyway_button(hotfix: Hotfix) -> ButtonElement:
    return ButtonElement(text="Tag anyway", action_id=ActionId.TAG_ANYWAY, value=hotfix.key, style="danger")


def who(event: Event) -> str:
    """The reviewer: a mention when the login maps to a Slack user, else the login, inert."""
    login = str(event.detail.get("login", ""))
    if event.actor in (BOT, login):  # a login no one in [people] maps to
        return f"GitHub user {name(login or event.actor)}"
    return mention(event.actor)


def pull_request_opened(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    detail = event.detail
    how = "adopted" if detail.get("how") == "adopted" else "opened"
    return (f"🔀 Pull request {pull_link(detail['number'], str(detail['url']))} {how} into "
            f"{code(str(detail['target']))}. Review it on GitHub: an approving review of the head commit "
            "approves the hotfix; a push after it needs a new approval.")


def review_approved(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    if "login" not in event.detail:  # reviewed in Slack
        return f"👍 {mention(event.actor)} approved the review ({role_label(event.detail['role'])})."
    sha = str(event.detail["commit"])
    line = f"👍 {who(event)} approved the pull request on GitHub at {commit(sha)}."
    security = policy.holders(SECURITY)
    if hotfix.security and security and event.actor not in security and hotfix.approved_commit != sha:
        return (f"{line} A security fix: {' '.join(mention(u) for u in sorted(security))}, a security reviewer's "
                "approval on GitHub is needed too.")
    return f"{line} CI on that commit decides when Tag & deploy opens."


def changes_requested(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    reason = str(event.detail["reason"])
    if "login" not in event.detail:
        return f"✏️ {mention(event.actor)} requested changes: “{escape(reason)}”. Push them, then Ready for review."
    return (f"✏️ {who(event)} requested changes on GitHub: “{words(reason)}”. {hotfix.key} is back to fixing: push them "
            "to the pull request's branch, then press *Ready for review*.")


def approval_outdated(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    if event.detail.get("why") == "withdrawn":
        return (f"↩️ The approval of {commit(str(event.detail['approved']))} was dismissed on GitHub (or its "
                "reviewer may no longer approve): it needs a new approving review. Tag & deploy waits for it.")
    return (f"🆕 {commit(str(event.detail['head']))} was pushed after the approval of "
            f"{commit(str(event.detail['approved']))}: it needs an approving review of its own on GitHub. "
            "Tag & deploy waits for it.")


def ci_passed(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    sha, checks = str(event.detail["commit"]), event.detail["checks"]
    then = ("Tag & deploy is open." if sha == hotfix.approved_commit
            else "Tag & deploy opens once the review approves this commit.")
    return f"✅ CI passed on {commit(sha)} ({len(checks)} check(s)). {then}"


def ci_failed(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    failing = event.detail["failing"]
    return (f"❌ CI failed on {commit(str(event.detail['commit']))}: {check_names(failing)}. "
            "Tag & deploy stays closed: push a fix; the new commit needs a review and a green CI.")


def ci_missing(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message:
    leads = " ".join(mention(u) for u in sorted(policy.holders(ONCALL_LEAD)))
    text = (f"⏳ No check and no status reported on {commit(str(event.detail['commit']))} after "
            f"{escape(str(event.detail['waited']))}: is CI set up for this branch? Tag & deploy waits for CI. "
            f"{leads + ': ' if leads else ''}an on-call lead can press *Tag anyway* and say why "
            "(once the review approved it); the reason goes into the post-mortem.")
    return Message(text, [SectionBlock(text=text), ActionsBlock(elements=[tag_anyway_button(hotfix)])])


def ci_overridden(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    return (f"⚠️ {mention(event.actor)} ships {commit(str(event.detail['commit']))} without CI: "
            f"“{escape(str(event.detail['reason']))}”. The post-mortem records it.")


def deploy_checks_started(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    checks = event.detail["checks"]
    return (f"🚀 The push of {code(str(event.detail['tag']))} started {len(checks)} check(s) on "
            f"{commit(str(event.detail['commit']))}: {check_names(checks)}.")


def deploy_checks_passed(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    return (f"✅ The deploy checks of {code(str(event.detail['tag']))} passed: {check_names(event.detail['checks'])}. "
            "Keep watching production; press *Stable* when you know.")


def deploy_checks_failed(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message:
    text = (f"🚨 The deploy pipeline of {code(str(event.detail['tag']))} failed: "
            f"{check_names(event.detail['failing'])}. Consider Roll back.")
    return Message(text, [SectionBlock(text=text), ActionsBlock(elements=[roll_back_button(hotfix)])])


def merge_back_pr_opened(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    detail = event.detail
    return (f"🔀 Pull request {pull_link(detail['number'], str(detail['url']))} merges the fix into "
            f"{code(str(detail['target']))}; the bot merges it as soon as GitHub allows.")


_REFUSALS = {
    MergeRefusal.REQUIRED_REVIEW: "the branch's protection wants an approving review on it first: please approve it",
    MergeRefusal.FAILING_CHECKS: "required checks on it are failing or still running: fix them or wait for them",
    MergeRefusal.CONFLICT: "it conflicts with {target}: resolve the conflict on the pull request's branch",
    MergeRefusal.HEAD_MOVED: "its branch moved past the commit that was approved: the bot never merges commits "
                             "nobody reviewed; reset the branch to that commit, or merge that commit (not the "
                             "pull request) by hand and press *Merged by hand*",
    MergeRefusal.NOT_ALLOWED: "GitHub does not let the bot merge it (branch protection or the token's "
                              "permissions): merge it yourself, or ask an admin",
}


def merge_refused(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    detail = event.detail
    target = code(str(detail["target"]))
    why = _REFUSALS[MergeRefusal(str(detail["reason"]))].format(target=target)
    users = " ".join(mention(u) for u in event.names("users"))
    github = str(detail.get("message", "")).strip()
    said = f" (GitHub: “{words(github, GITHUB_MESSAGE_SHOWN)}”)" if github else ""
    if detail.get("stage") == "deploying":
        return _refused_before_the_tag(event, hotfix, target, why, said, users)
    return (f"⛔ GitHub did not merge pull request #{detail['number']} into {target}: {why}.{said} "
            f"{users + ': ' if users else ''}it stays open, and the bot tries again when it changes; "
            "a merge by hand counts too.")


def _refused_before_the_tag(event: Event, hotfix: Hotfix, target: str, why: str, said: str, users: str) -> str:
    """Trunk flow: the merge into main comes before the tag, so nothing was tagged."""
    head = f"⛔ GitHub did not merge pull request #{event.detail['number']} into {target}, so nothing was tagged"
    if event.detail["reason"] == MergeRefusal.HEAD_MOVED.value:
        return (f"{head}: its branch moved past the approved commit.{said} The new commits need a review of their "
                "own; the review request follows.")
    return (f"{head}: {why}.{said} {users + ': ' if users else ''}once that is done, press *Retry tag* "
            f"(`/hotfix retry {hotfix.key}`).")


def pull_request_closed(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    detail = event.detail
    target = code(str(detail["target"]))
    return (f"🚫 Pull request {pull_link(detail['number'], str(detail['url']))} into {target} was closed without "
            f"merging: {target} does not have the fix yet. Reopen it, or merge the fix by hand and press "
            "*Merged by hand*.")


RENDERERS = {
    EventKind.PULL_REQUEST_OPENED: pull_request_opened,
    EventKind.REVIEW_APPROVED: review_approved,
    EventKind.CHANGES_REQUESTED: changes_requested,
    EventKind.APPROVAL_OUTDATED: approval_outdated,
    EventKind.CI_PASSED: ci_passed,
    EventKind.CI_FAILED: ci_failed,
    EventKind.CI_MISSING: ci_missing,
    EventKind.CI_OVERRIDDEN: ci_overridden,
    EventKind.DEPLOY_CHECKS_STARTED: deploy_checks_started,
    EventKind.DEPLOY_CHECKS_PASSED: deploy_checks_passed,
    EventKind.DEPLOY_CHECKS_FAILED: deploy_checks_failed,
    EventKind.MERGE_BACK_PR_OPENED: merge_back_pr_opened,
    EventKind.MERGE_REFUSED: merge_refused,
    EventKind.PULL_REQUEST_CLOSED: pull_request_closed,
}
