"""Button clicks. Refusals raised here reach the person through bot.slack.errors."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.hotfix import Hotfix
from bot.slack import replies, views
from bot.slack.handlers.uses import UseCases
from bot.slack.ids import ActionId, CallbackId

SNOOZES = {ActionId.SNOOZE_30M: timedelta(minutes=30), ActionId.SNOOZE_1H: timedelta(hours=1)}


def register(app: App, uses: UseCases) -> None:
    for register_some in (_register_steps, _register_stable, _register_modal_steps, _register_snoozes,
                          _register_looks_fine):
        register_some(app, uses)


def _register_steps(app: App, uses: UseCases) -> None:
    steps: dict[ActionId, Callable[..., Hotfix]] = {
        ActionId.APPROVE: uses.people.approve,
        ActionId.READY_FOR_REVIEW: uses.people.ready_for_review,
        ActionId.TAG_AND_DEPLOY: uses.people.tag_and_deploy,
        ActionId.ROLL_BACK: uses.people.roll_back,
        ActionId.MERGED_BY_HAND: uses.people.merged_by_hand,
        ActionId.CLOSE: uses.people.close,
        ActionId.RETRY: uses.people.retry,
    }

    def on_step_clicked(ack: Ack, body: dict, action: dict) -> None:
        ack()
        steps[ActionId(action["action_id"])](action.get("value", ""), user_id=body["user"]["id"])

    for action_id in steps:
        app.action(action_id)(on_step_clicked)


def _register_stable(app: App, uses: UseCases) -> None:
    @app.action(ActionId.STABLE)
    def on_stable_clicked(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        key, user_id = action.get("value", ""), body["user"]["id"]
        if early := uses.people.check_stable(key, user_id=user_id):  # an on-call lead, before the window is over
            client.views_open(trigger_id=body["trigger_id"],
                              view=views.reason_modal(early, CallbackId.END_MONITORING_EARLY))
        else:
            uses.people.mark_stable(key, user_id=user_id)


def _register_modal_steps(app: App, uses: UseCases) -> None:
    # These ask something first, in a modal; the rules are checked before it opens and again on submit.
    modals: dict[ActionId, tuple[Callable[..., Hotfix], Callable[[Hotfix], object]]] = {
        ActionId.REJECT: (uses.people.check_may_reject, lambda h: views.reason_modal(h, CallbackId.REJECT)),
        ActionId.REQUEST_CHANGES: (uses.people.check_may_review, lambda h: views.reason_modal(h, CallbackId.REQUEST_CHANGES)),
        ActionId.APPROVE_REVIEW: (uses.people.check_may_review, views.review_modal),
        ActionId.TAG_ANYWAY: (uses.people.check_may_tag_anyway,  # no check ever reported on the approved commit
                              lambda h: views.reason_modal(h, CallbackId.TAG_ANYWAY)),
    }

    def on_modal_step_clicked(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        check, modal = modals[ActionId(action["action_id"])]
        hotfix = check(action.get("value", ""), user_id=body["user"]["id"])
        client.views_open(trigger_id=body["trigger_id"], view=modal(hotfix))

    for action_id in modals:
        app.action(action_id)(on_modal_step_clicked)


def _register_snoozes(app: App, uses: UseCases) -> None:
    def on_snooze_clicked(ack: Ack, body: dict, action: dict) -> None:
        ack()
        key, _, kind = action.get("value", "").partition("|")
        uses.people.snooze(key, kind, user_id=body["user"]["id"], by=SNOOZES[ActionId(action["action_id"])])

    for snooze in SNOOZES:
        app.action(snooze)(on_snooze_clicked)


def _register_looks_fine(app: App, uses: UseCases) -> None:
    @app.action(ActionId.LOOKS_FINE)
    def on_looks_fine_clicked(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        key, _, _ = action.get("value", "").partition("|")
        user = body["user"]["id"]
        hotfix = uses.people.looks_fine(key, user_id=user)
        respond(replace_original=True, **replies.check_in_answered(hotfix, user, uses.clock.now()).as_kwargs())
