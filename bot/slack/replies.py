"""Thread replies: one for each event of the audit trail that people need to hear about. Pure: no I/O."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock

from bot.domain import postmortem
from bot.domain.hotfix import Event, EventKind, Hotfix
from bot.domain.policy import REVIEWER, ApprovalPolicy, TimeTargets, role_label
from bot.domain.review import PATCH_KEPT, Commit, ReviewChange, commits_from_detail
from bot.domain.timers import TimerKind
from bot.slack.ids import ActionId
from bot.slack.views import Message, clock_time, code, escape, inert, mention

MINIMAL_FILES, MINIMAL_LINES = 5, 100  # the procedure: keep changes minimal
DIFF_LINES_SHOWN, DIFF_CHARS_SHOWN = 40, 3000  # a diff up to this size is shown whole in the review request
SLACK_TEXT_MAX = 3000


def announcement(event: Event, hotfix: Hotfix, policy: ApprovalPolicy, events: Sequence[Event] = (), *,
                 times: TimeTargets | None = None, private: bool = False) -> Message | None:
    """The thread reply for one audit event, or None for events that need no reply.

    Closing takes the whole timeline and the targets. `private`: the thread is in the security channel, so a
    security hotfix's diff, commit subjects and issue may show.
    """
    if revealing := _REVEALING.get(event.kind):
        return Message(revealing(event, hotfix, policy, private or not hotfix.security))
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
    missing = [role_label(r) for r in event.names("missing")]
    line = f"✅ {mention(event.actor)} approved as {role_label(detail['role'])} ({detail['count']} of {detail['of']})"
    if missing:
        return f"{line}. Still needed: {', '.join(missing)}."
    return f"{line}: all approvals in. Cutting {code(hotfix.branch)} now."


def _review_requested(event: Event, hotfix: Hotfix, policy: ApprovalPolicy, reveal: bool) -> str:
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
    lines.append(f"Use *Approve review* or *Request changes* on the status message. An approval counts for "
                 f"`{change.commit[:10]}` only: commits pushed after it need a review of their own.")
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



def _branch_moved(event: Event, hotfix: Hotfix, policy: ApprovalPolicy, reveal: bool) -> str:
    commits = commits_from_detail(event.detail["commits"])
    return (f"🛑 Not tagged: `{hotfix.branch}` moved past the approved `{event.detail['approved'][:10]}` to "
            f"`{event.detail['head'][:10]}`. {len(commits)} commit(s) nobody reviewed:\n"
            f"{_commit_list(commits, reveal)}\nThey need a review too: a new review request follows.")


def _branch_kept(event: Event, hotfix: Hotfix, policy: ApprovalPolicy, reveal: bool) -> str:
    commits = commits_from_detail(event.detail["commits"])
    return (f"🌿 Kept `{event.detail['branch']}`: it points at `{event.detail['head'][:10]}`, past the merged "
            f"`{event.detail['merged'][:10]}`, so deleting it would lose {len(commits)} commit(s) no target has:\n"
            f"{_commit_list(commits, reveal)}\nSave that work elsewhere, then delete the branch by hand.")


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
    return (f"⚠️ Merging into {code(target)} conflicts in {', '.join(code(f) for f in files[:10])}; nothing was pushed. "
            f"Resolve it by hand (keep the hotfix's change, keep {escape(target)}'s new work):\n"
            f"```git fetch origin\ngit switch {escape(target)}\ngit merge --no-ff {fix}\n"
            f"# resolve, test, commit\ngit push origin {escape(target)}```\nThen press *Merged by hand*: the bot checks git.")


def reminder(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message:
    people = " ".join(mention(u) for u in event.names("users"))
    kind = TimerKind(event.detail["timer"])
    text = f"⏰ {people}: " + _REMINDER_TEXT[kind].format(
        key=hotfix.key, branch=code(hotfix.branch), tag=code(event.detail.get("tag", "")),
        missing=", ".join(role_label(r) for r in event.names("missing")),
        targets=", ".join(code(t) for t in event.names("targets")),
    )
    if never_live := event.detail.get("never_live"):
        text += f" {code(never_live)} was never reported by the version endpoint."
    value = f"{hotfix.key}|{kind.value}"
    # The end of monitoring asks the question itself, right where the person reads it; Roll back is always at hand.
    answers = {TimerKind.MONITORING_END: [_stable_button(hotfix), _roll_back_button(hotfix)],
               TimerKind.MONITORING_CHECKIN: [_looks_fine_button(value), _roll_back_button(hotfix)]}.get(kind, [])
    buttons = ActionsBlock(elements=[
        *answers,
        ButtonElement(text="Snooze 30m", action_id=ActionId.SNOOZE_30M, value=value),
        ButtonElement(text="Snooze 1h", action_id=ActionId.SNOOZE_1H, value=value),
    ])
    return Message(text, [SectionBlock(text=text), buttons])


def _stable_button(hotfix: Hotfix) -> ButtonElement:
    return ButtonElement(text="Stable", action_id=ActionId.STABLE, value=hotfix.key, style="primary")


def _looks_fine_button(value: str) -> ButtonElement:
    return ButtonElement(text="Looks fine", action_id=ActionId.LOOKS_FINE, value=value, style="primary")


def _roll_back_button(hotfix: Hotfix) -> ButtonElement:
    return ButtonElement(text="Roll back", action_id=ActionId.ROLL_BACK, value=hotfix.key, style="danger")


_REMINDER_TEXT = {
    TimerKind.APPROVAL_ESCALATION: "{key} still needs approval from {missing}. Approve or Reject on the status message.",
    TimerKind.REVIEW_HALFWAY: "review of {key} ({branch}) is half-way through its SLA. Please review it now.",
    TimerKind.REVIEW_OVERDUE: "review of {key} ({branch}) is overdue. Please review it now.",
    TimerKind.MONITORING_CHECKIN: "{key} monitoring check-in: are error rates and latency normal?",
    TimerKind.MONITORING_END: "the monitoring window of {key} ({tag}) is over. Press Stable or Roll back.",
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
    return (f"🟢 {code(event.detail['tag'])} is live: the version endpoint reported it at "
            f"{clock_time(event.at, event.at)} ({event.detail['after_tag']} after the tag).")


def _monitoring_ended_early(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    return (f"⏩ {mention(event.actor)} ended monitoring early, {event.detail['left']} before the window's end: "
            f"“{escape(event.detail['reason'])}”.")


def _health_failed(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message:
    text = f"🚨 Health check failed: {escape(event.detail['detail'])}. Consider Roll back."
    return Message(text, [SectionBlock(text=text), ActionsBlock(elements=[_roll_back_button(hotfix)])])


def _merged(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str | None:
    """The bot's own merges show on the status message; a merge found by hand is news (a conflict was resolved)."""
    if event.detail["how"] == "by the bot":
        return None
    left = ", ".join(code(t) for t in hotfix.targets_left)
    tail = f" Still to merge: {left}." if left and event.detail["target"] in hotfix.merged_into else ""
    how = f"merged {event.detail['how']}, `{event.detail['commit'][:10]}`"
    return f"🔀 {code(event.detail['target'])} has the fix ({how}).{tail}"


_REVEALING = {
    EventKind.REVIEW_REQUESTED: _review_requested,
    EventKind.BRANCH_MOVED: _branch_moved,
    EventKind.BRANCH_KEPT: _branch_kept,
}

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
    EventKind.REVIEW_APPROVED: lambda e, h, p: f"👍 {mention(e.actor)} approved the review ({role_label(e.detail['role'])}).",
    EventKind.CHANGES_REQUESTED: lambda e, h, p: (
        f"✏️ {mention(e.actor)} requested changes: “{escape(e.detail['reason'])}”. Push them, then Ready for review."),
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
    EventKind.STEP_FAILED: lambda e, h, p: f"⚠️ {escape(e.detail.get('message', 'A step failed.'))}",
    EventKind.RETRIED: lambda e, h, p: f"🔁 {mention(e.actor)} asked to run the step again.",
    EventKind.REMINDED: reminder,
    EventKind.SNOOZED: lambda e, h, p: (
        f"💤 {mention(e.actor)} snoozed the {TimerKind(e.detail['timer']).label.lower()} for {e.detail['minutes']} minutes."),
    EventKind.HEALTH_FAILED: _health_failed,
    EventKind.HEALTH_RECOVERED: lambda e, h, p: "💚 Health check passes again.",
    EventKind.WENT_LIVE: _went_live,
}
