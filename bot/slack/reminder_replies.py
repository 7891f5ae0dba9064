"""Reminders in the thread: who is asked to do what, with the buttons that answer or snooze. Pure: no I/O."""
from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock

from bot.domain.hotfix import Event, Hotfix
from bot.domain.policy import ApprovalPolicy, role_label
from bot.domain.timers import TimerKind
from bot.slack.blocks import Message, code, mention, roll_back_button, stable_button
from bot.slack.ids import ActionId


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
    answers = {TimerKind.MONITORING_END: [stable_button(hotfix), roll_back_button(hotfix)],
               TimerKind.MONITORING_CHECKIN: [_looks_fine_button(value), roll_back_button(hotfix)]}.get(kind, [])
    buttons = ActionsBlock(elements=[
        *answers,
        ButtonElement(text="Snooze 30m", action_id=ActionId.SNOOZE_30M, value=value),
        ButtonElement(text="Snooze 1h", action_id=ActionId.SNOOZE_1H, value=value),
    ])
    return Message(text, [SectionBlock(text=text), buttons])


def _looks_fine_button(value: str) -> ButtonElement:
    return ButtonElement(text="Looks fine", action_id=ActionId.LOOKS_FINE, value=value, style="primary")


_REMINDER_TEXT = {
    TimerKind.APPROVAL_ESCALATION: "{key} still needs approval from {missing}. "
                                   "Approve or Reject on the status message.",
    TimerKind.REVIEW_HALFWAY: "review of {key} ({branch}) is half-way through its SLA. Please review it now.",
    TimerKind.REVIEW_OVERDUE: "review of {key} ({branch}) is overdue. Please review it now.",
    TimerKind.MONITORING_CHECKIN: "{key} monitoring check-in: are error rates and latency normal?",
    TimerKind.MONITORING_END: "the monitoring window of {key} ({tag}) is over. Press Stable or Roll back.",
    TimerKind.MERGE_BACK_DUE: "merge-back of {key} is overdue: git does not show the fix in {targets} yet.",
    TimerKind.POSTMORTEM_DUE: "the post-mortem of {key} is due. `hotfix-bot report {key}` prints the draft.",
}
