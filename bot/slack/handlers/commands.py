"""/hotfix and its subcommands."""
from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.transitions import Refused
from bot.slack import github_status, views
from bot.slack.handlers.uses import UseCases
from bot.slack.refusals import refusal_text
from bot.slack.views import Message

Subcommand = Callable[[UseCases, str], Message]


def register(app: App, uses: UseCases) -> None:
    @app.command("/hotfix")
    def on_hotfix_command(ack: Ack, command: dict, client: WebClient) -> None:
        verb, _, rest = command.get("text", "").strip().partition(" ")
        if verb.lower() == "declare":
            ack()  # the trigger_id lives 3 s: open the modal straight away
            client.views_open(trigger_id=command["trigger_id"], view=views.declare_modal(uses.rules().repos, title=rest.strip()))
            return
        try:
            if verb.lower() in STEP_METHODS:
                reply = _step(verb.lower())(uses, rest.strip(), command["user_id"])
            else:
                reply = SUBCOMMANDS.get(verb.lower(), _unknown)(uses, rest.strip())
        except Refused as refusal:
            reply = Message(views.escape(refusal_text(refusal)))
        ack(response_type="ephemeral", **reply.as_kwargs())


def _status(uses: UseCases, rest: str) -> Message:
    if not rest:
        return Message("Which one? `/hotfix status HF-12`. `/hotfix list` shows the active ones.")
    hotfix, events = uses.read.timeline(rest.split()[0])
    spec = uses.rules().repos.get(hotfix.repo)
    github = github_status.on_github(hotfix, events) if spec is not None and spec.on_github else None
    return views.status_message(hotfix, uses.rules().policy.approvals, now=uses.clock.now(), github=github)


def _list(uses: UseCases, _rest: str) -> Message:
    return views.active_list(uses.read.active(), uses.clock.now())


def _help(_uses: UseCases, _rest: str) -> Message:
    return Message(views.HELP)


def _unknown(_uses: UseCases, _rest: str) -> Message:
    return Message("I don't know that one.\n" + views.HELP)


def _step(name: str) -> Callable[[UseCases, str, str], Message]:
    """`/hotfix <verb> HF-12 [reason]`: the same step as the button, for keyboards and for phones."""
    def run(uses: UseCases, rest: str, user_id: str) -> Message:
        key, _, reason = rest.partition(" ")
        if not key:
            return Message(f"Which hotfix? e.g. `/hotfix {name} HF-12`.")
        if reason.strip() and name in WITH_A_REASON:
            hotfix = getattr(uses.people, WITH_A_REASON[name])(key, user_id=user_id, reason=reason)
        else:
            hotfix = getattr(uses.people, STEP_METHODS[name])(key, user_id=user_id)
        return Message(f"{hotfix.key}: {hotfix.stage.label}.")
    return run


STEP_METHODS = {"review": "ready_for_review", "deploy": "tag_and_deploy", "stable": "mark_stable",
                "rollback": "roll_back", "merged": "merged_by_hand", "retry": "retry",
                "close": "close"}
WITH_A_REASON = {"close": "close", "stable": "end_monitoring_early"}  # `/hotfix stable HF-12 <reason>` ends it early
SUBCOMMANDS: dict[str, Subcommand] = {"status": _status, "list": _list, "help": _help, "": _help}
