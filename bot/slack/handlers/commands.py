"""/hotfix and its subcommands."""
from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.transitions import Refused
from bot.service.hotfixes import HotfixService
from bot.slack import views
from bot.slack.refusals import refusal_text
from bot.slack.views import Message

Subcommand = Callable[[HotfixService, str], Message]


def register(app: App, service: HotfixService) -> None:
    @app.command("/hotfix")
    def on_hotfix_command(ack: Ack, command: dict, client: WebClient) -> None:
        verb, _, rest = command.get("text", "").strip().partition(" ")
        if verb.lower() == "declare":
            ack()  # the trigger_id lives 3 s: open the modal straight away
            client.views_open(trigger_id=command["trigger_id"], view=views.declare_modal(service.repos, title=rest.strip()))
            return
        try:
            if verb.lower() in STEP_METHODS:
                reply = _step(verb.lower())(service, rest.strip(), command["user_id"])
            else:
                reply = SUBCOMMANDS.get(verb.lower(), _unknown)(service, rest.strip())
        except Refused as refusal:
            reply = Message(views.escape(refusal_text(refusal)))
        ack(response_type="ephemeral", **reply.as_kwargs())


def _status(service: HotfixService, rest: str) -> Message:
    if not rest:
        return Message("Which one? `/hotfix status HF-12`. `/hotfix list` shows the active ones.")
    return views.status_message(service.get(rest.split()[0]), service.policy.approvals, now=service.clock.now())


def _list(service: HotfixService, _rest: str) -> Message:
    return views.active_list(service.active(), service.clock.now())


def _help(_service: HotfixService, _rest: str) -> Message:
    return Message(views.HELP)


def _unknown(_service: HotfixService, _rest: str) -> Message:
    return Message("I don't know that one.\n" + views.HELP)


def _step(name: str) -> Callable[[HotfixService, str, str], Message]:
    """`/hotfix <verb> HF-12 [reason]`: the same step as the button, for keyboards and for phones."""
    def run(service: HotfixService, rest: str, user_id: str) -> Message:
        key, _, reason = rest.partition(" ")
        if not key:
            return Message(f"Which hotfix? e.g. `/hotfix {name} HF-12`.")
        if reason.strip() and name in WITH_A_REASON:
            hotfix = getattr(service, WITH_A_REASON[name])(key, user_id=user_id, reason=reason)
        else:
            hotfix = getattr(service, STEP_METHODS[name])(key, user_id=user_id)
        return Message(f"{hotfix.key}: {hotfix.stage.label}.")
    return run


STEP_METHODS = {"review": "ready_for_review", "deploy": "tag_and_deploy", "stable": "mark_stable",
                "rollback": "roll_back", "merged": "merged_by_hand", "retry": "retry",
                "close": "close"}
WITH_A_REASON = {"close": "close", "stable": "end_monitoring_early"}  # `/hotfix stable HF-12 <reason>` ends it early
SUBCOMMANDS: dict[str, Subcommand] = {"status": _status, "list": _list, "help": _help, "": _help}
