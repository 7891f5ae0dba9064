"""What people are told when the procedure says no, and the /hotfix answers, through signed HTTP."""
from __future__ import annotations

import threading

from sqlmodel import Session, func, select

from bot.store.tables import DecisionRow, EventRow, HotfixRow
from bot.standins import payloads
from tests.support.driver import CHANNEL, Driver, Posted, find_button, message_text


def counts(driver: Driver) -> tuple[int, int, int]:
    """(hotfixes, decisions, audit events) as stored."""
    with Session(driver.bot.engine) as session:
        return tuple(session.exec(select(func.count()).select_from(table)).one()  # type: ignore[return-value]
                     for table in (HotfixRow, DecisionRow, EventRow))


def decisions(driver: Driver) -> list[DecisionRow]:
    with Session(driver.bot.engine) as session:
        return list(session.exec(select(DecisionRow).order_by(DecisionRow.id)).all())


def refusal_to(driver: Driver, user: str, count: int = 1) -> str:
    """The newest ephemeral note to `user` in the hotfix channel, once the bot has sent it."""
    calls = driver.slack.wait_for("chat.postEphemeral", count=count, user=user)
    assert calls[-1]["channel"] == CHANNEL
    return calls[-1]["text"]


def forgive_per_view_action_ids(driver: Driver) -> None:
    """Slack wants an action_id unique within its block, not within the whole view; every input block of the
    declaration modal uses action_id "value" under its own block_id, which the fake (wrongly) reports."""
    problems = driver.slack.take_problems()
    assert all(p.startswith("views.open: action_id 'value' is used") for p in problems), problems


def declared(driver: Driver, **fields) -> Posted:
    hotfix = driver.declare(**fields)
    driver.settle()
    return hotfix


# --- buttons ---------------------------------------------------------------------------------------------------------
def test_declarer_clicking_approve_on_their_own_hotfix_is_told_why_and_nothing_is_recorded(driver: Driver) -> None:
    hotfix = declared(driver, user="UDEV")
    before, status = counts(driver), driver.status_text(hotfix)

    answer = driver.click("Approve", hotfix, user="UDEV")

    assert refusal_to(driver, "UDEV") == "You declared HF-1, so someone else has to approve it."
    driver.settle()
    assert counts(driver) == before
    assert driver.status_text(hotfix) == status
    assert "Awaiting approval" in status
    # Slack shows the click as failed unless it is acknowledged with a 200 within 3 s.
    assert (answer.status, answer.body) == (200, ""), answer
    assert answer.elapsed < 1.0, answer


def test_user_without_a_needed_role_is_told_which_roles_are_needed(driver: Driver) -> None:
    hotfix = declared(driver, severity="critical")
    before = counts(driver)

    driver.click("Approve", hotfix, user="UREV1")

    text = refusal_to(driver, "UREV1")
    assert text == "HF-1 needs approval from: Engineering manager, On-call lead, CTO. You hold none of those roles."
    driver.settle()
    assert counts(driver) == before
    assert "⏳ Engineering manager" in driver.status_text(hotfix)


def test_double_click_by_the_same_approver_is_answered_already_and_recorded_once(driver: Driver) -> None:
    hotfix = declared(driver, severity="critical")

    driver.click("Approve", hotfix, user="UEM")
    driver.settle()
    driver.click("Approve", hotfix, user="UEM")

    assert "already approved HF-1 as Engineering manager" in refusal_to(driver, "UEM")
    driver.settle()
    assert [(d.role, d.user_id, d.approved) for d in decisions(driver)] == [("engineering_manager", "UEM", True)]
    with Session(driver.bot.engine) as session:
        assert [e.kind for e in session.exec(select(EventRow).order_by(EventRow.id))] == ["declared", "approved"]
    assert sum("approved as Engineering manager" in t for t in driver.thread(hotfix)) == 1


def test_two_quick_clicks_by_the_same_approver_record_one_decision(driver: Driver) -> None:
    """A double click sends two requests before either is answered."""
    hotfix = declared(driver, severity="critical")
    message = driver.slack.message(hotfix.channel, hotfix.ts)
    button = find_button(message, "Approve")
    bodies = [payloads.block_actions(button["action_id"], button["value"], user_id="UEM", channel_id=hotfix.channel,
                                     message_ts=hotfix.ts, message=message) for _ in range(2)]
    threads = [threading.Thread(target=driver.post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert "already approved" in refusal_to(driver, "UEM")
    driver.settle()
    assert [(d.role, d.user_id) for d in decisions(driver)] == [("engineering_manager", "UEM")]


def test_approve_clicked_on_a_rejected_hotfix_is_refused(driver: Driver) -> None:
    hotfix = declared(driver)
    message_before_rejection = driver.slack.message(hotfix.channel, hotfix.ts)
    assert driver.submit_reason(hotfix, "A workaround exists", user="ULEAD").body == ""
    driver.settle()

    # Someone whose client still shows the old message, with its buttons, clicks Approve.
    button = find_button(message_before_rejection, "Approve")
    driver.post(payloads.block_actions(button["action_id"], button["value"], user_id="UEM", channel_id=hotfix.channel,
                                       message_ts=hotfix.ts, message=message_before_rejection))

    assert refusal_to(driver, "UEM") == "HF-1 is rejected; it takes no more approvals."
    driver.settle()
    assert [(d.user_id, d.approved) for d in decisions(driver)] == [("ULEAD", False)]
    assert "Rejected" in driver.status_text(hotfix)


def test_reject_opens_the_reason_modal_for_an_approver(driver: Driver) -> None:
    hotfix = declared(driver)

    assert driver.click("Reject", hotfix, user="ULEAD").status == 200

    view = driver.slack.wait_for("views.open")[-1]["view"]
    assert view["callback_id"] == "hotfix_reject"
    assert view["private_metadata"] == "HF-1"
    assert [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"] == ["Why reject it?"]
    assert "Awaiting approval" in driver.status_text(hotfix)
    assert not driver.ephemerals("ULEAD")


def test_reject_is_refused_without_a_modal_for_a_non_approver(driver: Driver) -> None:
    hotfix = declared(driver)

    driver.click("Reject", hotfix, user="UREV2")

    assert "needs approval from: Engineering manager, On-call lead" in refusal_to(driver, "UREV2")
    driver.settle()
    assert driver.slack.calls_to("views.open") == []
    assert "Awaiting approval" in driver.status_text(hotfix)


def test_reject_is_refused_for_the_declarer(driver: Driver) -> None:
    hotfix = declared(driver, user="UEM")

    driver.click("Reject", hotfix, user="UEM")

    assert refusal_to(driver, "UEM") == "You declared HF-1, so someone else has to reject it."
    assert driver.slack.calls_to("views.open") == []


def test_submitting_a_reason_rejects_the_hotfix_for_everyone_to_see(driver: Driver) -> None:
    hotfix = declared(driver)

    answer = driver.submit_reason(hotfix, "MEDIUM at most: a workaround exists", user="ULEAD")

    assert answer.status == 200 and answer.body == ""
    driver.settle()
    status = driver.status_text(hotfix)
    assert "Rejected" in status and "❌ On-call lead: <@ULEAD>" in status
    buttons = [e for b in driver.slack.message(hotfix.channel, hotfix.ts)["blocks"] for e in b.get("elements", [])
               if e.get("type") == "button"]
    assert buttons == []
    assert driver.thread(hotfix)[-1] == ("❌ <@ULEAD> rejected HF-1 as On-call lead: “MEDIUM at most: a workaround "
                                         "exists”. It is closed; ship the fix through the normal release.")
    assert [(d.role, d.user_id, d.approved, d.reason) for d in decisions(driver)] == [
        ("oncall_lead", "ULEAD", False, "MEDIUM at most: a workaround exists")]
    assert driver.command("list", user="UDEV").text == "No active hotfixes. `/hotfix declare` starts one."


def test_an_empty_reason_is_answered_inside_the_modal_and_rejects_nothing(driver: Driver) -> None:
    hotfix = declared(driver)
    before = counts(driver)

    answer = driver.submit_reason(hotfix, "   ", user="ULEAD")

    assert answer.status == 200
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"reason": "Say why you reject it: the declarer needs to know what to do instead."},
    }
    driver.settle()
    assert counts(driver) == before
    assert "Awaiting approval" in driver.status_text(hotfix)


# --- the declaration modal ------------------------------------------------------------------------------------------
def test_medium_without_override_is_answered_on_the_override_block_and_creates_nothing(driver: Driver) -> None:
    answer = driver.submit_declaration(user="UDEV", severity="medium", override=False)

    assert answer.status == 200
    body = answer.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["override"]
    assert "MEDIUM issues go to the normal release" in body["errors"]["override"]
    driver.settle()
    assert counts(driver) == (0, 0, 0)
    assert driver.slack.calls_to("chat.postMessage") == []


def test_medium_with_override_is_declared_and_the_thread_mentions_the_override(driver: Driver) -> None:
    hotfix = declared(driver, user="UDEV", severity="medium", override=True)

    assert "MEDIUM" in driver.status_text(hotfix)
    request = driver.thread(hotfix)[0]
    assert "Override: MEDIUM normally goes to the normal release; <@UDEV> says it cannot wait." in request
    with Session(driver.bot.engine) as session:
        assert session.exec(select(HotfixRow.override)).one() is True


# --- /hotfix ---------------------------------------------------------------------------------------------------------
def test_status_of_an_unknown_hotfix_is_a_polite_ephemeral(driver: Driver) -> None:
    answer = driver.command("status HF-99", user="UDEV")

    assert answer.status == 200
    assert answer.json()["response_type"] == "ephemeral"
    assert answer.text == "There is no hotfix HF-99. `/hotfix list` shows the active ones."
    assert driver.slack.calls_to("chat.postMessage") == []


def test_status_of_something_that_is_not_a_hotfix_id_says_what_they_look_like(driver: Driver) -> None:
    answer = driver.command("status <!channel>", user="UDEV")

    assert answer.json()["response_type"] == "ephemeral"
    assert "is not a hotfix ID; they look like HF-12" in answer.text
    assert "<!channel>" not in answer.body


def test_closing_before_the_merge_back_without_a_reason_says_how_to_give_one(driver: Driver) -> None:
    hotfix = declared(driver, user="UDEV")
    before = counts(driver)

    answer = driver.command(f"close {hotfix.key}", user="UDEV")

    assert answer.json()["response_type"] == "ephemeral"
    assert answer.text == ("HF-1 is not merged back yet (the fix). Close it with a reason: "
                           "`/hotfix close HF-1 &lt;reason&gt;`.")
    assert counts(driver) == before


def test_an_unknown_subcommand_is_answered_with_help(driver: Driver) -> None:
    answer = driver.command("bogus", user="UDEV")

    assert answer.json()["response_type"] == "ephemeral"
    assert answer.text.startswith("I don't know that one.")
    for usage in ("/hotfix declare [title]", "/hotfix status HF-12", "/hotfix list", "/hotfix help"):
        assert usage in answer.text


def test_list_shows_the_active_hotfixes_only(driver: Driver) -> None:
    first = declared(driver, title="Checkout returns 500", severity="critical")
    declared(driver, title="Refunds stuck", issue_id="PROD-502")
    driver.submit_reason(first, "Duplicate of HF-2", user="UEM")
    driver.settle()
    declared(driver, title="Login loops", issue_id="PROD-503", severity="high", user="UREV1")

    text = driver.command("list", user="UDEV").text

    assert text.startswith("Active hotfixes (2):")
    assert "*HF-2* · HIGH · Refunds stuck · Awaiting approval" in text
    assert "*HF-3* · HIGH · Login loops · Awaiting approval" in text and "<@UREV1>" in text
    assert "HF-1" not in text and "Checkout returns 500" not in text


def test_status_shows_where_a_hotfix_stands(driver: Driver) -> None:
    hotfix = declared(driver, severity="critical", title="Checkout returns 500")
    driver.click("Approve", hotfix, user="UCTO")
    driver.settle()

    answer = driver.command("status HF-1", user="UREV1")

    body = answer.json()
    assert body["response_type"] == "ephemeral"
    shown = message_text(body)
    assert "HF-1" in shown and "CRITICAL" in shown and "Checkout returns 500" in shown
    assert "Awaiting approval" in shown
    assert "✅ CTO: <@UCTO>" in shown and "⏳ Engineering manager" in shown and "⏳ On-call lead" in shown
    assert driver.command("status hf-1", user="UREV1").json() == body


def test_declare_opens_the_form_with_the_title_filled_in(driver: Driver) -> None:
    answer = driver.command("declare Some title", user="UDEV")

    assert answer.status == 200
    view = driver.slack.wait_for("views.open")[-1]["view"]
    assert view["type"] == "modal" and view["callback_id"] == "hotfix_declare"
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    labels = [b["label"]["text"] for b in inputs]
    assert labels[:6] == ["Title", "Issue ID", "Severity", "Impact", "Risk if delayed", "Repository"]
    title = next(b for b in inputs if b["label"]["text"] == "Title")
    assert title["element"]["initial_value"] == "Some title"
    assert counts(driver) == (0, 0, 0)
    forgive_per_view_action_ids(driver)


def test_declare_without_a_title_opens_an_empty_form(driver: Driver) -> None:
    driver.command("declare", user="UDEV")

    view = driver.slack.wait_for("views.open")[-1]["view"]
    title = next(b for b in view["blocks"] if b.get("block_id") == "title")
    assert "initial_value" not in title["element"]
    forgive_per_view_action_ids(driver)
