"""Thread replies: one for each event of the audit trail that people need to hear about. Pure: no I/O."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock

from bot.domain import postmortem
from bot.domain.hotfix import Event, EventKind, Hotfix
from bot.domain.policy import REVIEWER, ApprovalPolicy, TimeTargets, role_label
from bot.domain.timers import TimerKind
from bot.slack.ids import ActionId
from bot.slack.views import Message, clock_time, escape, mention

MINIMAL_FILES, MINIMAL_LINES = 5, 100  # seed 003: keep changes minimal
SLACK_TEXT_MAX = 3000


def announcement(event: Event, hotfix: Hotfix, policy: ApprovalPolicy, events: Sequence[Event] = (), *,
                 times: TimeTargets | None = None, private: bool = False) -> Message | None:
    """The thread reply for one audit event, or None for events that need no reply.

    Closing takes the whole timeline and the targets; `private`: the thread is in the security channel.
    """
    render = _RENDERERS.get(event.kind)
    if render is None:
        return None
    if event.kind is EventKind.CLOSED:
        return _closed(event, hotfix, events, times or TimeTargets(), private)
    result = render(event, hotfix, policy)
    return result if isinstance(result, Message) or result is None else Message(result)


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
    missing = [role_label(r) for r in filter(None, detail["missing"].split(","))]
    line = f"✅ {mention(event.actor)} approved as {role_label(detail['role'])} ({detail['count']} of {detail['of']})"
    if missing:
        return f"{line}. Still needed: {', '.join(missing)}."
    return f"{line}: all approvals in. Cutting `{hotfix.branch}` now."


def _review_requested(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    files = event.detail["files"].split("\n")
    plus, minus = int(event.detail["insertions"]), int(event.detail["deletions"])
    reviewers = " ".join(mention(u) for u in sorted(policy.holders(REVIEWER) - {hotfix.declared_by}))
    shown = ", ".join(f"`{f}`" for f in files[:10]) + (f" and {len(files) - 10} more" if len(files) > 10 else "")
    lines = [f"🔍 {reviewers}: review `{hotfix.branch}` please (1 reviewer, not the declarer).",
             f"{len(files)} file(s), +{plus} −{minus}: {shown}"]
    if len(files) > MINIMAL_FILES or plus + minus > MINIMAL_LINES:
        lines.append(f"⚠️ Not a minimal change (over {MINIMAL_FILES} files or {MINIMAL_LINES} lines). "
                     "Hotfixes fix only the immediate problem.")
    lines.append("Use *Approve review* or *Request changes* on the status message.")
    return "\n".join(lines)


def _tagged(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    return (f"🏷️ Tagged `{event.detail['tag']}` on `{event.detail['commit'][:10]}` and pushed: the deploy pipeline "
            f"takes it from here. Previous production: `{event.detail['previous_tag']}`.\n"
            "Now: check the health endpoint, verify the fix, watch error rates and logs. "
            "Monitoring has started; press *Stable* or *Roll back* when you know.")


def _rolled_back(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    return (f"⏪ {mention(event.actor)} rolled back `{event.detail['tag']}`. Redeploy `{event.detail['previous_tag']}` "
            f"now. {hotfix.key} is back to fixing on `{hotfix.branch}`: fix the fix, then Ready for review again.")


def _conflict(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    target, files = event.detail["target"], event.detail["files"].split("\n")
    return (f"⚠️ Merging into `{target}` conflicts in {', '.join(f'`{f}`' for f in files[:10])}; nothing was pushed. "
            f"Resolve it by hand (keep the hotfix's change, keep {target}'s new work):\n"
            f"```git fetch origin\ngit switch {target}\ngit merge --no-ff origin/{hotfix.branch}\n"
            f"# resolve, test, commit\ngit push origin {target}```\nThen press *Merged by hand*: the bot checks git.")


def reminder(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message:
    people = " ".join(mention(u) for u in filter(None, event.detail.get("users", "").split(",")))
    kind = TimerKind(event.detail["timer"])
    text = f"⏰ {people}: " + _REMINDER_TEXT[kind].format(
        key=hotfix.key, branch=hotfix.branch, tag=event.detail.get("tag", ""),
        missing=", ".join(role_label(r) for r in filter(None, event.detail.get("missing", "").split(","))),
        targets=", ".join(f"`{t}`" for t in filter(None, event.detail.get("targets", "").split(","))),
    )
    if never_live := event.detail.get("never_live"):
        text += f" `{never_live}` was never reported by the version endpoint."
    value = f"{hotfix.key}|{kind.value}"
    answers = [  # the end of monitoring asks the question itself, right where the person reads it
        ButtonElement(text="Stable", action_id=ActionId.STABLE, value=hotfix.key, style="primary"),
        ButtonElement(text="Roll back", action_id=ActionId.ROLL_BACK, value=hotfix.key, style="danger"),
    ] if kind is TimerKind.MONITORING_END else []
    if kind is TimerKind.MONITORING_CHECKIN:
        answers = [ButtonElement(text="Looks fine", action_id=ActionId.LOOKS_FINE, value=value, style="primary")]
    buttons = ActionsBlock(elements=[
        *answers,
        ButtonElement(text="Snooze 30m", action_id=ActionId.SNOOZE_30M, value=value),
        ButtonElement(text="Snooze 1h", action_id=ActionId.SNOOZE_1H, value=value),
    ])
    return Message(text, [SectionBlock(text=text), buttons])


_REMINDER_TEXT = {
    TimerKind.APPROVAL_ESCALATION: "{key} still needs approval from {missing}. Approve or Reject on the status message.",
    TimerKind.REVIEW_HALFWAY: "review of {key} (`{branch}`) is half-way through its SLA. Please review it now.",
    TimerKind.REVIEW_OVERDUE: "review of {key} (`{branch}`) is overdue. Please review it now.",
    TimerKind.MONITORING_CHECKIN: "{key} monitoring check-in: are error rates and latency normal?",
    TimerKind.MONITORING_END: "the monitoring window of {key} (`{tag}`) is over. Press Stable or Roll back.",
    TimerKind.MERGE_BACK_DUE: "merge-back of {key} is overdue: git does not show the fix in {targets} yet.",
    TimerKind.POSTMORTEM_DUE: "the post-mortem of {key} is due. `hotfix-bot report {key}` prints the draft.",
}


def check_in_answered(hotfix: Hotfix, user_id: str, now: datetime) -> Message:
    """Replaces the check-in's question and buttons: answered, by whom and when."""
    return Message(f"✅ {mention(user_id)} checked {hotfix.key} at {clock_time(now, now)}: looks fine.")


def direct_message(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message | None:
    """The DM a named person gets besides the thread reply (reminders only)."""
    if event.kind is not EventKind.REMINDED:
        return None
    return Message(f"{reminder(event, hotfix, policy).text} (from the hotfix thread of {hotfix.key})")


def _closed(event: Event, hotfix: Hotfix, events: Sequence[Event], times: TimeTargets, private: bool) -> Message:
    reason = f" Reason: “{escape(postmortem.one_line(event.detail['reason']))}”." if event.detail.get("reason") else ""
    head = (f"🏁 {mention(event.actor)} closed {hotfix.key}.{reason} The post-mortem draft is below; "
            f"`hotfix-bot report {hotfix.key}` prints it as Markdown for your wiki or issue tracker.")
    document = postmortem.build(hotfix, events, times, SLACK_STYLE, reveal=private or not hotfix.security)
    texts = [head, f"*{document.title}*"]
    for section in document.sections:
        if not section.hint:
            texts += _in_sections(f"*{section.heading}*", [f"• {line}" for line in section.lines])
    to_fill = [f"• *{s.heading}*: {s.hint}" for s in document.sections if s.hint]
    texts += _in_sections("*To fill in* (in the Markdown)", to_fill)
    if len(texts) > MESSAGE_BLOCKS_MAX:
        texts = texts[: MESSAGE_BLOCKS_MAX - 1] + [f"…and more: `hotfix-bot report {hotfix.key}` prints all of it."]
    return Message(f"{head}\n{document.title}", [SectionBlock(text=text) for text in texts])


SLACK_STYLE = postmortem.Style(person=mention, text=lambda typed: escape(postmortem.one_line(typed)),
                               code=lambda name: f"`{name}`")
MESSAGE_BLOCKS_MAX = 50


def _in_sections(heading: str, lines: Sequence[str]) -> list[str]:
    """Section blocks of at most SLACK_TEXT_MAX characters; a longer section goes on in the next block."""
    texts, current = [], heading
    for line in lines:
        line = line if len(line) <= SLACK_TEXT_MAX - 100 else line[: SLACK_TEXT_MAX - 101] + "…"
        if len(current) + 1 + len(line) > SLACK_TEXT_MAX:
            texts.append(current)
            current = f"{heading} (continued)"
        current += "\n" + line
    return [*texts, current]


def _went_live(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    return (f"🟢 `{event.detail['tag']}` is live: the version endpoint reported it at {clock_time(event.at, event.at)} "
            f"({event.detail['after_tag']} after the tag).")


def _merged(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str | None:
    """The bot's own merges show on the status message; a merge found by hand is news (a conflict was resolved)."""
    if event.detail["how"] == "by the bot":
        return None
    left = ", ".join(f"`{t}`" for t in hotfix.targets_left)
    tail = f" Still to merge: {left}." if left and event.detail["target"] in hotfix.merged_into else ""
    return f"🔀 `{event.detail['target']}` has the fix (merged {event.detail['how']}, `{event.detail['commit'][:10]}`).{tail}"


_RENDERERS = {
    EventKind.DECLARED: _declared,
    EventKind.APPROVED: _approved,
    EventKind.REJECTED: lambda e, h, p: (
        f"❌ {mention(e.actor)} rejected {h.key} as {role_label(e.detail['role'])}: “{escape(e.detail['reason'])}”. "
        "It is closed; ship the fix through the normal release."),
    EventKind.BRANCH_CUT: lambda e, h, p: (
        f"🌿 Branch `{e.detail['branch']}` pushed from `{e.detail['base_ref']}` (`{e.detail['base_commit'][:10]}`). "
        f"To start:\n```git fetch origin\ngit switch {e.detail['branch']}```\n"
        "Push the fix to that branch, then press *Ready for review*."),
    EventKind.REVIEW_REQUESTED: _review_requested,
    EventKind.REVIEW_APPROVED: lambda e, h, p: f"👍 {mention(e.actor)} approved the review ({role_label(e.detail['role'])}).",
    EventKind.CHANGES_REQUESTED: lambda e, h, p: (
        f"✏️ {mention(e.actor)} requested changes: “{escape(e.detail['reason'])}”. Push them, then Ready for review."),
    EventKind.TAGGED: _tagged,
    EventKind.STABLE: lambda e, h, p: (
        f"✅ {mention(e.actor)} confirmed {h.key} stable. Merging back into "
        f"{', '.join(f'`{t}`' for t in h.merge_targets)} (--no-ff)."),
    EventKind.ROLLED_BACK: _rolled_back,
    EventKind.MERGED_BACK: _merged,
    EventKind.MERGE_CONFLICT: _conflict,
    EventKind.ALL_MERGED: lambda e, h, p: (
        f"🎉 Every target has the fix ({', '.join(f'`{t}`' for t in e.detail['targets'].split(','))}); "
        f"the bot deletes `{h.branch}`. Press *Close* to finish."),
    EventKind.CLOSED: lambda e, h, p: "",
    EventKind.STEP_FAILED: lambda e, h, p: f"⚠️ {escape(e.detail.get('message', 'A step failed.'))}",
    EventKind.RETRIED: lambda e, h, p: f"🔁 {mention(e.actor)} asked to run the step again.",
    EventKind.REMINDED: reminder,
    EventKind.SNOOZED: lambda e, h, p: (
        f"💤 {mention(e.actor)} snoozed the {TimerKind(e.detail['timer']).label.lower()} for {e.detail['minutes']} minutes."),
    EventKind.HEALTH_FAILED: lambda e, h, p: f"🚨 Health check failed: {escape(e.detail['detail'])}. Consider Roll back.",
    EventKind.HEALTH_RECOVERED: lambda e, h, p: "💚 Health check passes again.",
    EventKind.WENT_LIVE: _went_live,
}
