"""Modal submissions: problems go back into the modal, in the ack itself."""
from __future__ import annotations

from slack_bolt import Ack, App

from bot.domain.transitions import Refused
from bot.service.hotfixes import HotfixService
from bot.slack import forms
from bot.slack.ids import BlockId, CallbackId


def register(app: App, service: HotfixService) -> None:
    @app.view(CallbackId.DECLARE)
    def on_declare_submitted(ack: Ack, body: dict, view: dict) -> None:
        form = forms.read_declaration(view)
        if problems := form.problems(service.repos):
            ack(response_action="errors", errors=forms.field_errors(problems))
            return
        ack()
        service.declare(form, declared_by=body["user"]["id"], request_key=view.get("id"))

    @app.view(CallbackId.REJECT)
    def on_reject_submitted(ack: Ack, body: dict, view: dict) -> None:
        try:
            service.reject(view.get("private_metadata", ""), user_id=body["user"]["id"], reason=forms.read_reason(view))
        except Refused as refusal:
            ack(response_action="errors", errors={BlockId.REASON.value: str(refusal)})
            return
        ack()
