"""Every Block Kit surface the bot shows, built from domain objects. Pure: no I/O."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock, Block, ButtonElement, CheckboxesElement, ContextBlock, InputBlock, MarkdownTextObject, Option,
    PlainTextInputElement, SectionBlock, StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.declaration import TEXT_MAX, TITLE_MAX
from bot.domain.hotfix import Event, EventKind, Hotfix, Stage
from bot.domain.policy import SEVERITY_CRITERIA, ApprovalPolicy, Severity, role_label
from bot.domain.timers import Timer, TimerKind
from bot.domain.transitions import REASON_MAX, missing_roles
from bot.slack.ids import ActionId, BlockId, CallbackId

SEVERITY_ICON = {Severity.CRITICAL: "🔴", Severity.HIGH: "🟠", Severity.MEDIUM: "🟡", Severity.LOW: "⚪"}
SECURITY_TITLE = "Security hotfix in progress"


@dataclass(frozen=True)
class Message:
    text: str  # also the notification and screen-reader fallback
    blocks: list[Block] = field(default_factory=list)

    def as_kwargs(self) -> dict:
        kwargs: dict = {"text": self.text}
        if self.blocks:
            kwargs["blocks"] = [b.to_dict() for b in self.blocks]
        return kwargs


def escape(text: str) -> str:
    """User text is shown, never interpreted: no <!channel> pings or fake links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def clock_time(at: datetime) -> str:
    return at.strftime("%H:%M UTC")


# --- modals ----------------------------------------------------------------------------------------------------
def declare_modal(repos: Sequence[str], *, title: str = "") -> View:
    severity_options = [
        Option(value=s.value, text=f"{SEVERITY_ICON[s]} {s.label}", description=SEVERITY_CRITERIA[s]) for s in Severity
    ]
    repo_options = [Option(value=name, text=name) for name in repos]
    return View(
        type="modal", callback_id=CallbackId.DECLARE, title="Declare a hotfix", submit="Declare", close="Cancel",
        blocks=[
            _text_input(BlockId.TITLE, "Title", initial=title[:TITLE_MAX], max_length=TITLE_MAX,
                        placeholder="Checkout returns 500 for expired cards"),
            _text_input(BlockId.ISSUE_ID, "Issue ID", placeholder="PROD-501", max_length=32),
            InputBlock(block_id=BlockId.SEVERITY, label="Severity", element=StaticSelectElement(
                action_id=BlockId.SEVERITY, placeholder="How bad is it?", options=severity_options)),
            _text_input(BlockId.IMPACT, "Impact", multiline=True, max_length=TEXT_MAX,
                        placeholder="Who is affected and how, e.g. all card payments fail"),
            _text_input(BlockId.RISK, "Risk if delayed", multiline=True, max_length=TEXT_MAX,
                        placeholder="e.g. revenue loss every minute; active exploitation possible"),
            InputBlock(block_id=BlockId.REPO, label="Repository", element=StaticSelectElement(
                action_id=BlockId.REPO, options=repo_options,
                initial_option=repo_options[0] if len(repo_options) == 1 else None)),
            _checkbox(BlockId.SECURITY, "Security", "Security vulnerability: keep details out of public channels"),
            _checkbox(BlockId.OVERRIDE, "MEDIUM / LOW only", "This cannot wait for the normal release",
                      hint="MEDIUM and LOW issues normally ship with the next release, not as a hotfix."),
        ],
    )


def reject_modal(hotfix: Hotfix) -> View:
    return View(
        type="modal", callback_id=CallbackId.REJECT, title=f"Reject {hotfix.key}", submit="Reject", close="Cancel",
        private_metadata=hotfix.key,
        blocks=[
            SectionBlock(text=f"*{hotfix.key}* · {hotfix.severity.label} · {escape(public_title(hotfix))}"),
            _text_input(BlockId.REASON, "Why reject it?", multiline=True, max_length=REASON_MAX,
                        placeholder="e.g. MEDIUM at most: a workaround exists; ship it in Monday's release"),
        ],
    )


def _text_input(block: BlockId, label: str, *, initial: str = "", multiline: bool = False, max_length: int,
                placeholder: str | None = None) -> InputBlock:
    element = PlainTextInputElement(action_id=block, multiline=multiline, max_length=max_length,
                                    placeholder=placeholder, initial_value=initial or None)
    return InputBlock(block_id=block, label=label, element=element)


def _checkbox(block: BlockId, label: str, option: str, *, hint: str | None = None) -> InputBlock:
    element = CheckboxesElement(action_id=block, options=[Option(value="yes", text=option)])
    return InputBlock(block_id=block, label=label, element=element, optional=True, hint=hint)


# --- the status message ------------------------------------------------------------------------------------------
def public_title(hotfix: Hotfix) -> str:
    return SECURITY_TITLE if hotfix.security else hotfix.title


def status_message(hotfix: Hotfix, policy: ApprovalPolicy, timers: Sequence[Timer] = ()) -> Message:
    headline = f"{SEVERITY_ICON[hotfix.severity]} *{hotfix.key}* · {hotfix.severity.label} · {escape(public_title(hotfix))}"
    facts = [
        f"*Stage*\n{hotfix.stage.label}",
        f"*Issue*\n{escape(hotfix.issue_id) if not hotfix.security else 'restricted'}",
        f"*Declared by*\n{mention(hotfix.declared_by)} at {clock_time(hotfix.declared_at)}",
        f"*Repository*\n{hotfix.repo}",
    ]
    if hotfix.base_ref:
        facts.append(f"*Branch*\n`{hotfix.branch}` from `{hotfix.base_ref}`")
    blocks: list[Block] = [SectionBlock(text=headline), SectionBlock(fields=facts)]
    if not hotfix.security:
        blocks.append(SectionBlock(text=f"*Impact:* {escape(hotfix.impact)}\n*Risk if delayed:* {escape(hotfix.risk)}"[:3000]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=approvals_line(hotfix, policy))]))
    if timers:
        due = " · ".join(f"{t.kind.label} {clock_time(t.due_at)}" for t in timers)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Next: {due}")]))
    if hotfix.stage is Stage.AWAITING_APPROVAL:
        blocks.append(ActionsBlock(block_id=BlockId.DECISION, elements=[
            ButtonElement(text="Approve", action_id=ActionId.APPROVE, value=hotfix.key, style="primary"),
            ButtonElement(text="Reject", action_id=ActionId.REJECT, value=hotfix.key, style="danger"),
        ]))
    text = f"{hotfix.key} · {hotfix.severity.label} · {public_title(hotfix)} · {hotfix.stage.label}"
    return Message(text, blocks)


def approvals_line(hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    parts = [f"✅ {role_label(d.role)}: {mention(d.user_id)} {clock_time(d.at)}" for d in hotfix.approvals]
    if hotfix.rejection:
        parts.append(f"❌ {role_label(hotfix.rejection.role)}: {mention(hotfix.rejection.user_id)}")
    elif hotfix.stage is Stage.AWAITING_APPROVAL:
        parts += [f"⏳ {role_label(role)}" for role in missing_roles(hotfix, policy)]
    return "Approvals: " + " · ".join(parts) if parts else "Approvals: none needed"


# --- thread replies ------------------------------------------------------------------------------------------------
def announcement(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message | None:
    """The thread reply for one audit event, or None for events that need no reply."""
    match event.kind:
        case EventKind.DECLARED:
            return Message(_approval_request(hotfix, policy))
        case EventKind.APPROVED:
            return Message(_approved(event, hotfix, policy))
        case EventKind.FULLY_APPROVED:
            return Message(f"🟢 All approvals in: {hotfix.key} is approved. Cutting `{hotfix.branch}` now.")
        case EventKind.REJECTED:
            return Message(
                f"❌ {mention(event.actor)} rejected {hotfix.key} as {role_label(event.detail['role'])}: "
                f"“{escape(event.detail['reason'])}”. It is closed; ship the fix through the normal release."
            )
        case EventKind.BRANCH_CUT:
            return Message(_branch_cut(event))
        case EventKind.STEP_FAILED:
            return Message(f"⚠️ {escape(event.detail.get('message', 'A step failed.'))}")
        case EventKind.REMINDED:
            return reminder(event, hotfix, policy)
        case EventKind.SNOOZED:
            return Message(f"💤 {mention(event.actor)} snoozed the {_timer_kind(event).label.lower()} "
                           f"for {event.detail['minutes']} minutes.")
    return None


def _timer_kind(event: Event) -> TimerKind:
    return TimerKind(event.detail["timer"])


def reminder(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message:
    people = " ".join(mention(u) for u in filter(None, event.detail.get("users", "").split(",")))
    kind = _timer_kind(event)
    text = f"⏰ {people}: " + _REMINDER_TEXT[kind].format(
        key=hotfix.key, branch=hotfix.branch,
        missing=", ".join(role_label(r) for r in filter(None, event.detail.get("missing", "").split(","))),
    )
    value = f"{hotfix.key}|{kind.value}"
    buttons = ActionsBlock(elements=[
        ButtonElement(text="Snooze 30m", action_id=ActionId.SNOOZE_30M, value=value),
        ButtonElement(text="Snooze 1h", action_id=ActionId.SNOOZE_1H, value=value),
    ])
    return Message(text, [SectionBlock(text=text), buttons])


_REMINDER_TEXT = {
    TimerKind.APPROVAL_ESCALATION: "{key} still needs approval from {missing}. Approve or Reject on the status message.",
    TimerKind.REVIEW_HALFWAY: "review of {key} (`{branch}`) is half-way through its SLA. Please review it now.",
    TimerKind.REVIEW_OVERDUE: "review of {key} (`{branch}`) is overdue. Please review it now.",
    TimerKind.MONITORING_CHECKIN: "{key} monitoring check-in: are error rates and latency normal?",
    TimerKind.MONITORING_END: "the monitoring window of {key} is over. Is it stable? Press Stable or Roll back.",
    TimerKind.MERGE_BACK_DUE: "merge-back of {key} is overdue: git does not show the fix in every target yet.",
    TimerKind.POSTMORTEM_DUE: "the post-mortem of {key} is due. `hotfix-bot report {key}` prints the draft.",
}


def direct_message(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> Message | None:
    """The DM a named person gets besides the thread reply (reminders only)."""
    if event.kind is not EventKind.REMINDED:
        return None
    return Message(f"{reminder(event, hotfix, policy).text} (hotfix channel thread of {hotfix.key})")


def _approval_request(hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    needed = [
        f"{role_label(role)} ({', '.join(mention(u) for u in sorted(policy.holders(role)))})"
        for role in policy.roles_needed(hotfix.severity)
    ]
    lines = [f"{hotfix.key} needs approval from: {'; '.join(needed)}. Use *Approve* or *Reject* on the message above."]
    if hotfix.override:
        lines.append(
            f"Override: {hotfix.severity.label} normally goes to the normal release; "
            f"{mention(hotfix.declared_by)} says it cannot wait."
        )
    return "\n".join(lines)


def _approved(event: Event, hotfix: Hotfix, policy: ApprovalPolicy) -> str:
    needed = policy.roles_needed(hotfix.severity)
    done = len(needed) - len(missing_roles(hotfix, policy)) if hotfix.stage is Stage.AWAITING_APPROVAL else len(needed)
    line = f"✅ {mention(event.actor)} approved as {role_label(event.detail['role'])} ({done} of {len(needed)})."
    missing = missing_roles(hotfix, policy) if hotfix.stage is Stage.AWAITING_APPROVAL else ()
    return line + (f" Still needed: {', '.join(role_label(r) for r in missing)}." if missing else "")


def _branch_cut(event: Event) -> str:
    branch, base, commit = event.detail["branch"], event.detail["base_ref"], event.detail["base_commit"][:10]
    return (
        f"🌿 Branch `{branch}` pushed from `{base}` (`{commit}`). To start:\n"
        f"```git fetch origin\ngit switch {branch}```\nPush the fix to that branch, then press *Ready for review*."
    )


# --- ephemeral answers to /hotfix ----------------------------------------------------------------------------------
HELP = (
    "*/hotfix* commands:\n"
    "• `/hotfix declare [title]`: open the declaration form\n"
    "• `/hotfix status HF-12`: where a hotfix stands\n"
    "• `/hotfix list`: active hotfixes\n"
    "• `/hotfix help`: this list"
)


def status_summary(hotfix: Hotfix, policy: ApprovalPolicy) -> Message:
    return status_message(hotfix, policy)


def active_list(hotfixes: Sequence[Hotfix]) -> Message:
    if not hotfixes:
        return Message("No active hotfixes. `/hotfix declare` starts one.")
    lines = [
        f"{SEVERITY_ICON[h.severity]} *{h.key}* · {h.severity.label} · {escape(public_title(h))} · {h.stage.label} · "
        f"declared {clock_time(h.declared_at)} by {mention(h.declared_by)}"
        for h in hotfixes[:40]
    ]
    more = f"\n…and {len(hotfixes) - 40} more." if len(hotfixes) > 40 else ""
    return Message(f"Active hotfixes ({len(hotfixes)}):\n" + "\n".join(lines) + more)
