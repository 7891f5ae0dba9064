"""Modal submissions: problems go back into the modal, in the ack itself."""
from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App

from bot.domain.hotfix import Hotfix
from bot.domain.transitions import Refused
from bot.slack import forms
from bot.slack.handlers.uses import UseCases
from bot.slack.ids import BlockId, CallbackId
from bot.slack.refusals import refusal_text


def register(app: App, uses: UseCases) -> None:
    people = uses.people
    @app.view(CallbackId.DECLARE)
    def on_declare_submitted(ack: Ack, body: dict, view: dict) -> None:
        form = forms.read_declaration(view)
        if problems := form.problems(uses.rules().repos):
            ack(response_action="errors", errors=forms.field_errors(problems))
            return
        ack()
        people.declare(form, declared_by=body["user"]["id"], request_key=view.get("id"))

    reasoned: dict[CallbackId, Callable[..., Hotfix]] = {
        CallbackId.REJECT: people.reject,
        CallbackId.REQUEST_CHANGES: people.request_changes,
        CallbackId.END_MONITORING_EARLY: people.end_monitoring_early,
        CallbackId.TAG_ANYWAY: people.tag_anyway,  # no check ever reported on the approved commit
    }

    def on_reason_submitted(ack: Ack, body: dict, view: dict) -> None:
        step = reasoned[CallbackId(view["callback_id"])]
        _submit(ack, BlockId.REASON, lambda: step(view.get("private_metadata", ""), user_id=body["user"]["id"],
                                                    reason=forms.read_reason(view)))

    for callback in reasoned:
        app.view(callback)(on_reason_submitted)

    @app.view(CallbackId.APPROVE_REVIEW)
    def on_review_submitted(ack: Ack, body: dict, view: dict) -> None:
        key, _, commit = view.get("private_metadata", "").partition("|")
        if unticked := forms.unticked(view):
            ack(response_action="errors", errors={unticked.value: "Tick every item; if one fails, "
                                                  "cancel and use Request changes instead."})
            return
        _submit(ack, BlockId.CHECKLIST, lambda: people.approve_review(key, user_id=body["user"]["id"],
                                                                         commit=commit))


def _submit(ack: Ack, block: BlockId, step: Callable[[], Hotfix]) -> None:
    """Run the step before acking, so that a refusal shows in the modal under `block`."""
    try:
        step()
    except Refused as refusal:
        ack(response_action="errors", errors={block.value: refusal_text(refusal)})
        return
    ack()
