"""Button clicks. Refusals raised here reach the person through bot.slack.errors."""
from __future__ import annotations

from datetime import timedelta

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.service.hotfixes import HotfixService
from bot.slack import views
from bot.slack.ids import ActionId


def register(app: App, service: HotfixService) -> None:
    @app.action(ActionId.APPROVE)
    def on_approve_clicked(ack: Ack, body: dict, action: dict) -> None:
        ack()
        service.approve(action.get("value", ""), user_id=body["user"]["id"])

    @app.action(ActionId.REJECT)
    def on_reject_clicked(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        hotfix = service.check_may_reject(action.get("value", ""), user_id=body["user"]["id"])
        client.views_open(trigger_id=body["trigger_id"], view=views.reject_modal(hotfix))

    def on_snooze_clicked(ack: Ack, body: dict, action: dict) -> None:
        ack()
        key, _, kind = action.get("value", "").partition("|")
        service.snooze(key, kind, user_id=body["user"]["id"], by=SNOOZES[ActionId(action["action_id"])])

    for snooze in SNOOZES:
        app.action(snooze)(on_snooze_clicked)


SNOOZES = {ActionId.SNOOZE_30M: timedelta(minutes=30), ActionId.SNOOZE_1H: timedelta(hours=1)}
