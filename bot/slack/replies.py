"""Thread replies: one for each event of the audit trail that people need to hear about. Pure: no I/O."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, SectionBlock

from bot.domain import failures
from bot.domain.hotfix import Event, EventKind, Hotfix
from bot.domain.policy import ApprovalPolicy, TimeTargets, role_label
from bot.domain.timers import TimerKind
from bot.slack import github_replies, postmortem_reply, review_replies
from bot.slack.blocks import Message, clock_time, code, escape, mention, roll_back_button
from bot.slack.reminder_replies import reminder


def announcement(event: Event, hotfix: Hotfix, policy: ApprovalPolicy, events: Sequence[Event] = (), *,
                 times: TimeTargets, private: bool = False, github: bool = False) -> Message | None:
    """The thread reply for one audit event, or None for events that need no reply.

    Closing takes the whole timeline and the targets. `private`: the thread is in the security channel, so a
    security hotfix's diff, commit subjects and issue may show. `github`: the repo is reviewed on GitHub.
    """
    if revealing := (_GITHUB_REVEALING if github else _REVEALING).get(event.kind):
        return Message(revealing(event, hotfix, policy, private or not hotfix.security))
    render = (_GITHUB_RENDERERS if github else _RENDERERS).get(event.kind)
    if render is None:
        return None
    if event.kind is EventKind.CLOSED:
        return postmortem_reply.closed(event, hotfix, events, times, private)
    result = render(event, hotfix, policy)
    return result if isinstance(result, Message) or result is None else Message(result)


def check_in_answered(hotfix: Hotfix, user_id: str, now: datetime) -> Message:
    """Replaces the check-in's question and buttons: answered, by whom and when."""
    return Message(f"✅ {mention(user_id)} checked {hotfix.key} at {clock_time(now, now)}: looks fine.")


def direct_message(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message | None:
    """The DM a named person gets besides the thread reply (reminders only)."""
    if event.kind is not EventKind.REMINDED:
        return None
    return Message(f"{reminder(event, hotfix, policy).text} (from the hotfix thread of {hotfix.key})")


def _declared(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    needed = [f"{role_label(role)} ({', '.join(mention(u) for u in sorted(policy.holders(role)))})"
              for role in policy.roles_needed(hotfix.severity)]
    lines = [f"{hotfix.key} needs approval from: {'; '.join(needed)}. Use *Approve* or *Reject* on the message above."]
    if hotfix.override:
        lines.append(f"Override: {hotfix.severity.label} normally goes to the normal release; "
                     f"{mention(hotfix.declared_by)} says it cannot wait.")
    return "\n".join(lines)


def _approved(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    detail = event.detail
    missing = [role_label(r) for r in event.names("missing")]
    line = f"✅ {mention(event.actor)} approved as {role_label(detail['role'])} ({detail['count']} of {detail['of']})"
    if missing:
        return f"{line}. Still needed: {', '.join(missing)}."
    return f"{line}: all approvals in. Cutting {code(hotfix.branch)} now."


def _tagged(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    return (f"🏷️ Tagged {code(event.detail['tag'])} on `{event.detail['commit'][:10]}` and pushed: the deploy "
            f"pipeline takes it from here. Previous production: {code(event.detail['previous_tag'])}.\n"
            "Now: check the health endpoint, verify the fix, watch error rates and logs. "
            "Monitoring has started; press *Stable* or *Roll back* when you know.")


def _rolled_back(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    return (f"⏪ {mention(event.actor)} rolled back {code(event.detail['tag'])}. Redeploy "
            f"{code(event.detail['previous_tag'])} now. {hotfix.key} is back to fixing on {code(hotfix.branch)}: "
            "fix the fix, then Ready for review again.")


def _conflict(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    target, files = event.detail["target"], event.names("files")
    fix = hotfix.approved_commit or f"origin/{escape(hotfix.branch)}"  # the reviewed commit: the branch may have moved
    return (f"⚠️ Merging into {code(target)} conflicts in {', '.join(code(f) for f in files[:10])}; "
            f"nothing was pushed. Resolve it by hand (keep the hotfix's change, keep {escape(target)}'s new work):\n"
            f"```git fetch origin\ngit switch {escape(target)}\ngit merge --no-ff {fix}\n"
            f"# resolve, test, commit\ngit push origin {escape(target)}```\n"
            "Then press *Merged by hand*: the bot checks git.")


def _went_live(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    return (f"🟢 {code(event.detail['tag'])} is live: the version endpoint reported it at "
            f"{clock_time(event.at, event.at)} ({event.detail['after_tag']} after the tag).")


def _monitoring_ended_early(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    return (f"⏩ {mention(event.actor)} ended monitoring early, {event.detail['left']} before the window's end: "
            f"“{escape(event.detail['reason'])}”.")


def _health_failed(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message:
    text = f"🚨 Health check failed: {escape(event.detail['detail'])}. Consider Roll back."
    return Message(text, [SectionBlock(text=text), ActionsBlock(elements=[roll_back_button(hotfix)])])


def _merged(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str | None:
    """The bot's own merges show on the status message; a merge found by hand is news (a conflict was resolved)."""
    if event.detail["how"] == "by the bot":
        return None
    left = ", ".join(code(t) for t in hotfix.targets_left)
    tail = f" Still to merge: {left}." if left and event.detail["target"] in hotfix.merged_into else ""
    how = f"merged {event.detail['how']}, `{event.detail['commit'][:10]}`"
    return f"🔀 {code(event.detail['target'])} has the fix ({how}).{tail}"


def _then_retry(detail) -> str:
    return " Fix that, then press *Retry*." if failures.needs_retry_press(detail) else ""


_REVEALING = {
    EventKind.REVIEW_REQUESTED: review_replies.review_requested,
    EventKind.BRANCH_MOVED: review_replies.branch_moved,
    EventKind.BRANCH_KEPT: review_replies.branch_kept,
}

_GITHUB_REVEALING = {**_REVEALING, EventKind.REVIEW_REQUESTED: review_replies.review_requested_on_github}

_RENDERERS = {
    EventKind.DECLARED: _declared,
    EventKind.APPROVED: _approved,
    EventKind.REJECTED: lambda e, h, p: (
        f"❌ {mention(e.actor)} rejected {h.key} as {role_label(e.detail['role'])}: “{escape(e.detail['reason'])}”. "
        "It is closed; ship the fix through the normal release."),
    EventKind.BRANCH_CUT: lambda e, h, p: (
        f"🌿 Branch {code(e.detail['branch'])} pushed from {code(e.detail['base_ref'])} "
        f"(`{e.detail['base_commit'][:10]}`). "
        f"To start:\n```git fetch origin\ngit switch {escape(e.detail['branch'])}```\n"
        "Push the fix to that branch, then press *Ready for review*."),
    EventKind.TAGGED: _tagged,
    EventKind.STABLE: lambda e, h, p: (
        f"✅ {mention(e.actor)} confirmed {h.key} stable. Merging back into "
        f"{', '.join(code(t) for t in h.merge_targets)} (--no-ff)."),
    EventKind.MONITORING_ENDED_EARLY: _monitoring_ended_early,
    EventKind.ROLLED_BACK: _rolled_back,
    EventKind.MERGED_BACK: _merged,
    EventKind.MERGE_CONFLICT: _conflict,
    EventKind.ALL_MERGED: lambda e, h, p: (
        f"🎉 Every target has the fix ({', '.join(code(t) for t in e.names('targets'))}); "
        f"the bot deletes {code(h.branch)}. Press *Close* to finish."),
    EventKind.CLOSED: lambda e, h, p: "",
    EventKind.STEP_FAILED: lambda e, h, p: f"⚠️ {escape(failures.describe(e.detail))}{_then_retry(e.detail)}",
    EventKind.RETRIED: lambda e, h, p: f"🔁 {mention(e.actor)} asked to run the step again.",
    EventKind.REMINDED: reminder,
    EventKind.SNOOZED: lambda e, h, p: (
        f"💤 {mention(e.actor)} snoozed the {TimerKind(e.detail['timer']).label.lower()} "
        f"for {e.detail['minutes']} minutes."),
    EventKind.HEALTH_FAILED: _health_failed,
    EventKind.HEALTH_RECOVERED: lambda e, h, p: "💚 Health check passes again.",
    EventKind.WENT_LIVE: _went_live,
    **github_replies.RENDERERS,
}

_GITHUB_RENDERERS = {
    **_RENDERERS,
    EventKind.STABLE: lambda e, h, p: (
        f"✅ {mention(e.actor)} confirmed {h.key} stable. Merging back through pull requests into "
        f"{', '.join(code(t) for t in h.merge_targets)} (merge commits)."),
}
