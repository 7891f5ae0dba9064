"""The modals, the status message, the answers to /hotfix, the stakeholder line and the App Home tab, built from
domain objects (thread replies: replies.py). Pure: no I/O."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock, Block, ButtonElement, CheckboxesElement, ContextBlock, InputBlock, MarkdownTextObject, Option,
    PlainTextInputElement, SectionBlock, StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.checklists import REVIEW_CHECKLIST, SECURITY_CHECKLIST
from bot.domain.declaration import TEXT_MAX, TITLE_MAX
from bot.domain.durations import format_duration
from bot.domain.hotfix import Hotfix, Stage
from bot.domain.policy import SEVERITY_CRITERIA, ApprovalPolicy, Severity, role_label
from bot.domain.stats import StepFigures, Stats
from bot.domain.timers import Timer, TimerKind
from bot.domain.transitions import REASON_MAX, missing_roles
from bot.slack import github_status
from bot.slack.blocks import Message, clock_time, code, escape, mention
from bot.slack.github_replies import tag_anyway_button
from bot.slack.github_status import OnGitHub
from bot.slack.ids import ActionId, BlockId, CallbackId

SEVERITY_ICON = {Severity.CRITICAL: "🔴", Severity.HIGH: "🟠", Severity.MEDIUM: "🟡", Severity.LOW: "⚪"}
SECURITY_TITLE = "Security hotfix in progress"


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


def reason_modal(hotfix: Hotfix, callback: CallbackId) -> View:
    """Reject, Request changes and ending monitoring early each ask for one reason."""
    title, submit, question, example = _REASON_MODALS[callback]
    return View(
        type="modal", callback_id=callback, title=f"{title} {hotfix.key}", submit=submit, close="Cancel",
        private_metadata=hotfix.key,
        blocks=[
            SectionBlock(text=f"*{hotfix.key}* · {hotfix.severity.label} · {escape(public_title(hotfix))}"),
            _text_input(BlockId.REASON, question, multiline=True, max_length=REASON_MAX, placeholder=example),
        ],
    )


_REASON_MODALS = {
    CallbackId.REJECT: ("Reject", "Reject", "Why reject it?",
                        "e.g. MEDIUM at most: a workaround exists; ship it in Monday's release"),
    CallbackId.REQUEST_CHANGES: ("Changes for", "Send", "What has to change?",
                                 "e.g. the null check belongs in the caller; add a test for expired cards"),
    CallbackId.END_MONITORING_EARLY: ("End monitoring", "Stable now", "Why end monitoring early?",
                                      "e.g. the fix is verified in production and error rates are back to normal"),
    CallbackId.TAG_ANYWAY: ("Tag anyway", "Tag & deploy", "Why ship it without CI?",
                            "e.g. CI is down for the whole org; the fix is one line and tested locally"),
}



# Slack takes at most 10 options in one checkboxes element: each checklist is its own element.
CHECKLISTS = {BlockId.CHECKLIST: REVIEW_CHECKLIST, BlockId.SECURITY_CHECKLIST: SECURITY_CHECKLIST}


def review_modal(hotfix: Hotfix) -> View:
    checklists = [_checklist(BlockId.CHECKLIST, "Hotfix review checklist")]
    if hotfix.security:
        checklists.append(_checklist(BlockId.SECURITY_CHECKLIST, "Security review checklist"))
    return View(
        type="modal", callback_id=CallbackId.APPROVE_REVIEW, title=f"Review {hotfix.key}", submit="Approve review",
        close="Cancel", private_metadata=f"{hotfix.key}|{hotfix.review_commit}",  # the approval is for this commit
        blocks=[
            SectionBlock(text=f"*{hotfix.key}* · {code(hotfix.branch)}\nYou approve commit `{hotfix.review_commit}`, "
                              "the one the review request in the thread shows. Tick every item you checked."),
            *checklists,
        ],
    )


def _checklist(block: BlockId, label: str) -> InputBlock:
    options = [Option(value=str(i), text=item) for i, item in enumerate(CHECKLISTS[block])]
    return InputBlock(block_id=block, label=label, element=CheckboxesElement(action_id=block, options=options))


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


def status_message(hotfix: Hotfix, policy: ApprovalPolicy, timers: Sequence[Timer] = (), *, now: datetime,
                   private: bool = False, github: OnGitHub | None = None) -> Message:
    """`private`: shown only in the security channel, so a security hotfix's details may appear. `github`: the
    repo is reviewed on GitHub (its pull request and CI show; the review buttons do not)."""
    reveal = private or not hotfix.security
    title = escape(hotfix.title if reveal else SECURITY_TITLE)
    headline = f"{SEVERITY_ICON[hotfix.severity]} *{hotfix.key}* · {hotfix.severity.label} · {title}"
    blocks: list[Block] = [SectionBlock(text=headline), SectionBlock(fields=_facts(hotfix, reveal, now, github))]
    if reveal:
        impact = f"*Impact:* {escape(hotfix.impact)}\n*Risk if delayed:* {escape(hotfix.risk)}"
        blocks.append(SectionBlock(text=impact[:3000]))
    if github is not None:
        blocks.extend(github_status.blocks(hotfix, github))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=approvals_line(hotfix, policy, now))]))
    timers = [t for t in timers if t.kind not in _UNSHOWN_TIMERS]
    if timers:
        due = " · ".join(f"{t.kind.label} {clock_time(t.due_at, now)}" for t in timers)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Next: {due}")]))
    if buttons := _buttons(hotfix, github):
        blocks.append(ActionsBlock(block_id=BlockId.DECISION, elements=buttons))
    text = f"{hotfix.key} · {hotfix.severity.label} · {escape(public_title(hotfix))} · {hotfix.stage.label}"
    return Message(text, blocks)


_UNSHOWN_TIMERS = (TimerKind.DEPLOY_PROBE, TimerKind.CODE_HOST_POLL)  # every 30 s and 15 s: noise, not news


def _facts(hotfix: Hotfix, reveal: bool, now: datetime, github: OnGitHub | None) -> list[str]:
    facts = [
        f"*Stage*\n{hotfix.stage.label}",
        f"*Issue*\n{escape(hotfix.issue_id) if reveal else 'restricted'}",
        f"*Declared by*\n{mention(hotfix.declared_by)} at {clock_time(hotfix.declared_at, now)}",
        f"*Repository*\n{hotfix.repo}",
    ]
    if hotfix.base_ref:
        facts.append(f"*Branch*\n{code(hotfix.branch)} from {code(hotfix.base_ref)}")
    if github is not None and (github.pull or hotfix.stage is Stage.IN_REVIEW):
        facts.append(github_status.pull_request_fact(github))
    if hotfix.tag:
        facts.append(f"*Tag*\n{code(hotfix.tag)} (was {code(hotfix.previous_tag or '')})")
    if hotfix.merge_targets:
        facts.append("*Merge-back*\n" + " · ".join(
            f"{'✅' if t in hotfix.merged_into else '⏳'} {code(t)}{github_status.merge_pull(github, t)}"
            for t in hotfix.merge_targets))
    return facts


def _buttons(hotfix: Hotfix, github: OnGitHub | None) -> list[ButtonElement]:
    """The stage's buttons; on GitHub the review happens on the pull request, and Tag anyway shows while no check
    ever reported on the approved commit."""
    buttons = _STAGE_BUTTONS.get(hotfix.stage, ())
    if github is not None and hotfix.stage is Stage.IN_REVIEW:
        # Reviewed on the pull request; while none is open (opening it was refused), Retry opens it.
        buttons = () if github.pull is not None else (("Retry pull request", ActionId.RETRY, None),)
    elements = [ButtonElement(text=label, action_id=action, value=hotfix.key, style=style)
                for label, action, style in buttons]
    if github is not None and github.ci_missing and hotfix.stage is Stage.REVIEWED:
        elements.append(tag_anyway_button(hotfix))
    return elements


_STAGE_BUTTONS: dict[Stage, tuple[tuple[str, ActionId, str | None], ...]] = {
    Stage.AWAITING_APPROVAL: (("Approve", ActionId.APPROVE, "primary"), ("Reject", ActionId.REJECT, "danger")),
    Stage.APPROVED: (("Retry branch", ActionId.RETRY, None),),
    Stage.FIXING: (("Ready for review", ActionId.READY_FOR_REVIEW, "primary"),),
    Stage.IN_REVIEW: (("Approve review", ActionId.APPROVE_REVIEW, "primary"),
                      ("Request changes", ActionId.REQUEST_CHANGES, None)),
    Stage.REVIEWED: (("Tag & deploy", ActionId.TAG_AND_DEPLOY, "primary"),),
    Stage.DEPLOYING: (("Retry tag", ActionId.RETRY, None),),
    Stage.MONITORING: (("Stable", ActionId.STABLE, "primary"), ("Roll back", ActionId.ROLL_BACK, "danger")),
    Stage.MERGING_BACK: (("Merged by hand", ActionId.MERGED_BY_HAND, None), ("Retry merge-back", ActionId.RETRY, None)),
    Stage.MERGED: (("Close", ActionId.CLOSE, "primary"),),
}


def approvals_line(hotfix: Hotfix, policy: ApprovalPolicy, now: datetime) -> str:
    parts = [f"✅ {role_label(d.role)}: {mention(d.user_id)} {clock_time(d.at, now)}" for d in hotfix.approvals]
    if hotfix.rejection:
        parts.append(f"❌ {role_label(hotfix.rejection.role)}: {mention(hotfix.rejection.user_id)}")
    elif hotfix.stage is Stage.AWAITING_APPROVAL:
        parts += [f"⏳ {role_label(role)}" for role in missing_roles(hotfix, policy)]
    return "Approvals: " + " · ".join(parts) if parts else "Approvals: none needed"


# --- ephemeral answers to /hotfix ----------------------------------------------------------------------------------
HELP = (
    "*/hotfix* commands:\n"
    "• `/hotfix declare [title]`: open the declaration form\n"
    "• `/hotfix status HF-12`: where a hotfix stands\n"
    "• `/hotfix list`: active hotfixes\n"
    "• `/hotfix review HF-12` · `deploy HF-12` · `stable HF-12` · `rollback HF-12` · `merged HF-12`: "
    "the buttons' steps\n"
    "• `/hotfix stable HF-12 [reason]`: Stable once the monitoring window is over; an on-call lead may end it "
    "early with a reason\n"
    "• `/hotfix retry HF-12`: run a failed git step again (branch, tag or merge-back)\n"
    "• `/hotfix close HF-12 [reason]`: close (a reason is needed before every merge-back is done)\n"
    "• `/hotfix help`: this list"
)


def active_list(hotfixes: Sequence[Hotfix], now: datetime) -> Message:
    if not hotfixes:
        return Message("No active hotfixes. `/hotfix declare` starts one.")
    lines = [
        f"{SEVERITY_ICON[h.severity]} *{h.key}* · {h.severity.label} · {escape(public_title(h))} · {h.stage.label} · "
        f"declared {clock_time(h.declared_at, now)} by {mention(h.declared_by)}"
        for h in hotfixes[:40]
    ]
    more = f"\n…and {len(hotfixes) - 40} more." if len(hotfixes) > 40 else ""
    return Message(f"Active hotfixes ({len(hotfixes)}):\n" + "\n".join(lines) + more)


def stakeholder_line(hotfix: Hotfix, previous_stage: str, stage: str, thread_link: str) -> Message:
    """For the stakeholder channel: what changed, in one line, and where to read more."""
    change = f"{Stage(previous_stage).label} → {Stage(stage).label}" if previous_stage else "declared"
    headline = (f"{SEVERITY_ICON[hotfix.severity]} {hotfix.key} · {hotfix.severity.label} · "
                f"{escape(public_title(hotfix))}")
    return Message(f"{headline}: {change}. <{thread_link}|Thread>")


def home_view(hotfixes: Sequence[Hotfix], now: datetime, figures: Stats) -> View:
    """The App Home tab: the last days' figures, then the active hotfixes with their phase and age."""
    lines = [
        f"{SEVERITY_ICON[h.severity]} *{h.key}* · {h.severity.label} · {escape(public_title(h))}\n"
        f"{h.stage.label} · {format_duration(now - h.declared_at)} old · declared by {mention(h.declared_by)}"
        for h in hotfixes[:40]
    ] or ["No active hotfixes. `/hotfix declare` starts one."]
    return View(type="home", blocks=[*_home_figures(figures),
                                     SectionBlock(text=f"*Active hotfixes ({len(hotfixes)})*"),
                                     *[SectionBlock(text=line) for line in lines]])


def _home_figures(figures: Stats) -> list[Block]:
    now, before = figures.current, figures.previous
    days = (now.end - now.start).days
    failure = now.change_failure
    oldest = max((d.waiting for d in figures.debt), default=None)
    facts = [
        f"*Hotfixes declared*\n{now.total.declared} ({before.total.declared} the {days} days before)",
        f"*Time to restore, median*\n{_took(now.restore.median)} ({_took(before.restore.median)} before)",
        "*Change failure rate*\n" + (f"{failure.rate:.0%} ({failure.failed} of {failure.deployed} deployed)"
                                      if failure.rate is not None else "none deployed"),
        f"*Merge-back debt*\n{len(figures.debt)} fix(es)" + (f", oldest {format_duration(oldest)}" if oldest else ""),
    ]
    blocks: list[Block] = [SectionBlock(text=f"*The last {days} days*"), SectionBlock(fields=facts)]
    if bars := [_step_bar(step) for step in now.steps if step.target and step.spread.median is not None]:
        blocks.append(SectionBlock(text="Median step time against its target\n```" + "\n".join(bars) + "```"))
    if slowest := now.slowest:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"Where we wait: {escape(slowest.step)} (median {_took(slowest.spread.median)}). "
                 "`hotfix-bot stats` has the rest.")]))
    return blocks


STEP_BAR_CELLS = 10  # the target's length; a step over its target shows a full bar and ▶


def _step_bar(step: StepFigures) -> str:
    median, target = step.spread.median, step.target
    filled = min(STEP_BAR_CELLS, round(STEP_BAR_CELLS * median / target))
    bar = "█" * filled + "░" * (STEP_BAR_CELLS - filled) + ("▶" if median > target else " ")
    return f"{escape(f'{step.step:<10}')} {bar} {format_duration(median)} of {format_duration(target)}"


def _took(span: timedelta | None) -> str:
    return "–" if span is None else format_duration(span)
