"""What reaches /slack/events that should not change anything: forgeries, replays, retries, hostile text."""
from __future__ import annotations

import time

import pytest
from sqlmodel import Session, func, select

from bot.store.tables import DecisionRow, EventRow, HotfixRow
from tests.conftest import SECRET
from bot.standins import payloads
from tests.support.driver import Answer, Driver, declaration_state, find_button, message_text
from bot.standins.signing import signed_headers

ISSUE_ID_HELP = "Issue ID must look like PROD-501"


def stored(driver: Driver) -> tuple[int, int, int]:
    """(hotfixes, decisions, audit events) as stored."""
    with Session(driver.bot.engine) as session:
        return tuple(session.exec(select(func.count()).select_from(table)).one()  # type: ignore[return-value]
                     for table in (HotfixRow, DecisionRow, EventRow))


def declaration_body(view_id: str | None = None, **fields) -> str:
    return payloads.view_submission("hotfix_declare", declaration_state(**fields), user_id="UDEV", view_id=view_id)


def assert_nothing_happened(driver: Driver) -> None:
    driver.settle()
    assert stored(driver) == (0, 0, 0)
    assert [c.method for c in driver.slack.calls if c.method != "auth.test"] == []  # Bolt asks who it is once


def field_errors(answer: Answer) -> dict[str, str]:
    assert answer.status == 200, answer
    body = answer.json()
    assert body.get("response_action") == "errors", answer
    return body["errors"]


# --- who is asking ---------------------------------------------------------------------------------------------------
def test_a_request_signed_with_the_wrong_secret_is_refused_and_changes_nothing(driver: Driver) -> None:
    body = declaration_body()

    answer = driver.post(body, headers=signed_headers("not-the-signing-secret-0000000000", body))

    assert answer.status == 401
    assert_nothing_happened(driver)


def test_a_request_altered_after_signing_is_refused(driver: Driver) -> None:
    headers = signed_headers(SECRET, declaration_body(title="Checkout returns 500"))

    answer = driver.post(declaration_body(title="Something else entirely"), headers=headers)

    assert answer.status == 401
    assert_nothing_happened(driver)


def test_an_unsigned_request_is_refused(driver: Driver) -> None:
    answer = driver.post(declaration_body(), headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert answer.status == 401
    assert_nothing_happened(driver)


def test_a_correctly_signed_request_older_than_five_minutes_is_refused(driver: Driver) -> None:
    answer = driver.post(declaration_body(), timestamp=int(time.time()) - 6 * 60)

    assert answer.status == 401
    assert_nothing_happened(driver)


def test_a_replayed_slash_command_from_six_minutes_ago_answers_nothing(driver: Driver) -> None:
    answer = driver.post(payloads.slash_command("list", user_id="UDEV"), timestamp=int(time.time()) - 6 * 60)

    assert answer.status == 401
    assert "Active hotfixes" not in answer.body and "No active hotfixes" not in answer.body


# --- Slack resending -------------------------------------------------------------------------------------------------
def test_a_retried_declaration_declares_one_hotfix(driver: Driver) -> None:
    body = declaration_body(view_id="V0RETRY0001")
    assert driver.post(body).status == 200
    driver.settle()

    retry_headers = {**signed_headers(SECRET, body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    retried = driver.post(body, headers=retry_headers)

    assert retried.status == 200 and retried.body == ""
    driver.settle()
    assert stored(driver)[0] == 1
    status_posts = [c for c in driver.slack.calls_to("chat.postMessage", channel="C0HOTFIX") if "thread_ts" not in c.args]
    assert len(status_posts) == 1
    assert status_posts[0]["text"].startswith("HF-1 ")
    assert sum("needs approval from" in t for t in driver.slack.texts()) == 1


def test_two_different_forms_declare_two_hotfixes(driver: Driver) -> None:
    """The retry guard keys on the modal, not on the content: two people may report the same title."""
    driver.post(declaration_body(view_id="V0FIRST0001"))
    driver.post(declaration_body(view_id="V0SECOND001"))
    driver.settle()

    assert stored(driver)[0] == 2


# --- hostile and oversize text ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("issue_id", [
    "PROD-1; rm -rf /",
    "../../x",
    "--upload-pack=touch x",
    "P" * 2000,
    "PRÖD-1",
])
def test_a_hostile_issue_id_is_answered_in_the_form_and_nothing_is_stored(driver: Driver, issue_id: str) -> None:
    answer = driver.submit_declaration(user="UDEV", issue_id=issue_id)

    errors = field_errors(answer)
    assert list(errors) == ["issue_id"]
    assert errors["issue_id"].startswith(ISSUE_ID_HELP)
    assert "letters, digits and - or _" in errors["issue_id"]
    assert issue_id not in answer.body
    assert_nothing_happened(driver)


def test_an_oversize_title_is_answered_on_the_title_field(driver: Driver) -> None:
    errors = field_errors(driver.submit_declaration(user="UDEV", title="t" * 151))

    assert errors == {"title": "Keep the title under 150 characters."}
    assert_nothing_happened(driver)


def test_an_oversize_impact_is_answered_on_the_impact_field(driver: Driver) -> None:
    errors = field_errors(driver.submit_declaration(user="UDEV", impact="i" * 2001))

    assert list(errors) == ["impact"] and "under 2000 characters" in errors["impact"]
    assert_nothing_happened(driver)


def test_every_problem_of_an_empty_form_is_answered_at_once(driver: Driver) -> None:
    errors = field_errors(driver.submit_declaration(user="UDEV", title="", issue_id="", severity=None, impact="",
                                                    risk="", repo=None))

    assert set(errors) == {"title", "issue_id", "severity", "impact", "risk", "repo"}
    assert_nothing_happened(driver)


def test_a_title_with_a_channel_ping_is_shown_and_never_pings(driver: Driver) -> None:
    title = "Checkout <!channel> fails <@UCTO> <https://evil.example|click>"
    hotfix = driver.declare(title=title, impact="Everyone <!here> is affected", risk="<!everyone> loses money")
    driver.settle()
    driver.click("Approve", hotfix, user="UEM")
    driver.settle()

    sent = driver.slack.texts()
    assert sent
    for dangerous in ("<!channel>", "<!here>", "<!everyone>", "<https://evil.example|click>", "<@UCTO> <"):
        offending = [t for t in sent if dangerous in t]
        assert offending == [], f"{dangerous!r} reached Slack unescaped in: {offending}"
    assert "Checkout &lt;!channel&gt; fails" in driver.status_text(hotfix)
    listed = driver.command("list", user="UDEV").text
    assert "<!channel>" not in listed and "&lt;!channel&gt;" in listed
    assert "<!channel>" not in message_text(driver.command("status HF-1", user="UDEV").json())
    with Session(driver.bot.engine) as session:
        assert session.exec(select(HotfixRow.title)).one() == title  # stored as typed, escaped only when shown


# --- the HTTP surface --------------------------------------------------------------------------------------------------
def test_healthz_answers_200_json(driver: Driver) -> None:
    answer = driver.request("GET", "/healthz")

    assert answer.status == 200
    assert answer.json()["status"] == "ok"


def test_every_command_and_click_of_the_walk_is_answered_well_within_slacks_3_seconds(driver: Driver) -> None:
    answers: dict[str, Answer] = {}
    answers["/hotfix help"] = driver.command("help", user="UDEV")
    answers["/hotfix declare"] = driver.command("declare Checkout returns 500", user="UDEV")
    driver.slack.take_problems()  # the fake over-checks action_id uniqueness across the modal's input blocks
    answers["submit declaration"] = driver.submit_declaration(user="UDEV", severity="critical")
    driver.settle()
    hotfix = driver.declare(severity="high", issue_id="PROD-502", title="Refunds stuck")
    driver.settle()
    answers["/hotfix list"] = driver.command("list", user="UEM")
    answers["/hotfix status"] = driver.command("status HF-2", user="UEM")
    answers["/hotfix status unknown"] = driver.command("status HF-99", user="UEM")
    answers["/hotfix bogus"] = driver.command("bogus", user="UEM")
    answers["Approve by the declarer (refused)"] = driver.click("Approve", hotfix, user="UDEV")
    answers["Approve by a non-approver (refused)"] = driver.click("Approve", hotfix, user="UREV1")
    answers["Reject by a non-approver (refused)"] = driver.click("Reject", hotfix, user="UREV2")
    answers["Approve by EM"] = driver.click("Approve", hotfix, user="UEM")
    answers["Approve by EM again (refused)"] = driver.click("Approve", hotfix, user="UEM")
    answers["Reject by lead (opens modal)"] = driver.click("Reject", hotfix, user="ULEAD")
    answers["Empty reason"] = driver.submit_reason(hotfix, "", user="ULEAD")
    answers["Approve by lead"] = driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()

    slow_or_failed = {name: (a.status, round(a.elapsed, 3)) for name, a in answers.items()
                      if a.status != 200 or a.elapsed >= 1.0}
    assert slow_or_failed == {}
    assert driver.ephemerals("ULEAD") == []
    assert "Fixing" in driver.status_text(hotfix)  # approved, and the branch is cut on the remote


def test_refused_clicks_are_acknowledged_every_time(driver: Driver) -> None:
    """A refusal is told as an ephemeral, and the click itself is still acknowledged (else Slack shows a failure)."""
    hotfix = driver.declare(user="UDEV")
    driver.settle()
    message = driver.slack.message(hotfix.channel, hotfix.ts)
    button = find_button(message, "Approve")

    answers = [driver.post(payloads.block_actions(button["action_id"], button["value"], user_id="UDEV",
                                                  channel_id=hotfix.channel, message_ts=hotfix.ts, message=message))
               for _ in range(8)]

    assert [(a.status, a.body) for a in answers] == [(200, "")] * 8
    assert max(a.elapsed for a in answers) < 1.0
    assert len(driver.slack.wait_for("chat.postEphemeral", count=8, user="UDEV")) == 8
