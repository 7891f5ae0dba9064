"""What the thread and the status message say of a hotfix on GitHub, rendered from events built here: the words a
person sees, GitHub's text kept inert, and every surface within Block Kit's limits."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.domain.codehost import Check, CheckState, MergeRefusal
from bot.domain.github_ci import check_rows
from bot.domain.hotfix import BOT, Event, EventKind, Hotfix, PollCodeHost, Stage
from bot.domain.policy import ApprovalPolicy, Severity
from bot.domain.timers import CancelTimers, StartTimer, Timer, TimerKind
from bot.domain.transitions import Refused, Remedy
from bot.service.ports import News
from bot.slack import notifier, replies, views
from bot.slack.blocks import Message
from bot.slack.github_status import on_github
from bot.slack.ids import ActionId, CallbackId
from bot.slack.refusals import refusal_text
from tests.domain.github_builders import AT, HEAD, NEW, POLICY, PR_URL, ROLES, check, hotfix, later, pr_opened
from tests.support.block_kit_limits import message_problems, view_problems

HOSTILE = "<!channel> <@U123> *bold* `code` ~strike~ _it_ <https://evil.example|click>"
EVIL_URL = "javascript:alert(1)"
LONG_NAME = "n" * 5000


def say(event: Event, fix: Hotfix | None = None, *, github: bool = True) -> Message | None:
    message = replies.announcement(event, fix or hotfix(), POLICY.approvals, times=POLICY.times, github=github)
    assert message is None or message_problems(message.as_kwargs()) == []
    return message


def said(event: Event, fix: Hotfix | None = None) -> str:
    message = say(event, fix)
    assert message is not None
    return message.text


def bot_event(kind: EventKind, actor: str = BOT, **detail) -> Event:
    return Event(kind, actor, later(10), detail)


def buttons(message: Message) -> list[str]:
    return [e["action_id"] for b in message.as_kwargs().get("blocks", []) if b["type"] == "actions"
            for e in b["elements"]]


def assert_inert(text: str) -> None:
    """No mention, no link but http(s) ones, and no formatting outside code spans (where nothing is read)."""
    for live in ("<!channel>", "<@U123>", "javascript:", "<https://evil"):
        assert live not in text, live
    outside_code = re.sub(r"`[^`]*`", "", text)
    for markup in ("*bold*", "~strike~", "_it_", "`code`"):
        assert markup not in outside_code, markup


def ci(kind: EventKind, checks: list[Check], commit: str = HEAD, failing: list[Check] = (),
       running: list[Check] = ()) -> Event:
    return bot_event(kind, commit=commit, checks=check_rows(checks), failing=check_rows(failing),
                     running=check_rows(running), missing=())


# --- the thread ------------------------------------------------------------------------------------------------
def test_the_pull_request_is_linked_and_the_review_is_on_github() -> None:
    text = said(pr_opened())

    assert f"<{PR_URL}|#12>" in text and "into `main`" in text and "Review it on GitHub" in text


def test_the_review_request_of_a_github_repo_offers_no_slack_review() -> None:
    request = bot_event(EventKind.REVIEW_REQUESTED, commit=HEAD, base="a" * 40, approved="", insertions=1,
                        deletions=1, changes=(("app/pay.py", 1, 1),), shown_changes=(("app/pay.py", 1, 1),),
                        patch="", new_commits=())

    on_github, in_slack = said(request), say(request, github=False).text

    assert "Review it on GitHub" in on_github and "Approve review" not in on_github
    assert "Use *Approve review* or *Request changes*" in in_slack


def test_an_approval_names_the_reviewer_and_the_commit() -> None:
    approved = bot_event(EventKind.REVIEW_APPROVED, "UREV1", role="reviewer", login="rita-gh", commit=HEAD,
                         submitted=AT.isoformat())
    unmapped = bot_event(EventKind.REVIEW_APPROVED, "<@U123>", role="reviewer", login="<@U123>", commit=HEAD,
                         submitted="")

    assert said(approved).startswith(f"👍 <@UREV1> approved the pull request on GitHub at `{HEAD[:10]}`")
    assert "GitHub user `&lt;@U123&gt;`" in said(unmapped) and "<@U123>" not in said(unmapped)


def test_a_security_fix_approved_by_a_reviewer_still_asks_a_security_reviewer() -> None:
    policy = ApprovalPolicy.build({Severity.HIGH: ("oncall_lead",)}, {**ROLES, "security": ["USEC"]})
    approved = bot_event(EventKind.REVIEW_APPROVED, "UREV1", role="reviewer", login="rita-gh", commit=HEAD,
                         submitted="")
    secret = hotfix(security=True)

    waiting = replies.announcement(approved, secret, policy, times=POLICY.times, github=True)
    done = replies.announcement(approved, hotfix(Stage.REVIEWED, security=True, approved_commit=HEAD), policy,
                                times=POLICY.times, github=True)

    assert waiting is not None and waiting.text.endswith(
        "A security fix: <@USEC>, a security reviewer's approval on GitHub is needed too.")
    assert done is not None and "security reviewer" not in done.text


def test_changes_requested_quote_the_reviewer_without_pinging_or_formatting() -> None:
    text = said(bot_event(EventKind.CHANGES_REQUESTED, "UREV2", role="reviewer", reason=HOSTILE, login="sam-gh",
                          commit=HEAD, submitted=""))

    assert text.startswith("✏️ <@UREV2> requested changes on GitHub: “&lt;!channel&gt; &lt;@U123&gt; ∗bold∗")
    assert "back to fixing" in text and "*Ready for review*" in text
    assert_inert(text)


def test_an_approval_outdated_by_a_push_asks_for_a_new_one() -> None:
    text = said(bot_event(EventKind.APPROVAL_OUTDATED, approved=HEAD, head=NEW))

    assert f"`{NEW[:10]}` was pushed after the approval of `{HEAD[:10]}`" in text and "approving review" in text


def test_ci_waiting_and_running_stay_out_of_the_thread() -> None:
    assert say(bot_event(EventKind.CI_WAITING, commit=HEAD, missing=())) is None
    assert say(ci(EventKind.CI_PENDING, [check("lint", CheckState.IN_PROGRESS)])) is None


def test_ci_passed_says_whether_tag_and_deploy_is_open() -> None:
    passed = ci(EventKind.CI_PASSED, [check("lint", CheckState.SUCCESS), check("test", CheckState.SUCCESS)])

    assert said(passed, hotfix(Stage.REVIEWED, approved_commit=HEAD)).endswith("(2 check(s)). Tag & deploy is open.")
    assert "once the review approves this commit" in said(passed)


def test_ci_failed_names_the_failing_checks_with_their_links() -> None:
    failing = [check("test", CheckState.FAILURE), Check("evil", CheckState.ERROR, EVIL_URL)]
    text = said(ci(EventKind.CI_FAILED, [check("lint", CheckState.SUCCESS), *failing], failing=failing))

    assert f"CI failed on `{HEAD[:10]}`: <https://ci.example.com/test|`test`>, `evil`." in text
    assert "Tag & deploy stays closed" in text and "lint" not in text
    assert_inert(text)


def test_hostile_and_huge_check_lists_stay_inert_and_within_the_limits() -> None:
    checks = [Check(LONG_NAME, CheckState.FAILURE, EVIL_URL), Check(HOSTILE, CheckState.FAILURE, None),
              *(Check(f"job {n} " + "&" * 300, CheckState.FAILURE, PR_URL + "?" + "x" * 400) for n in range(300))]
    text = said(ci(EventKind.CI_FAILED, checks, failing=checks))
    failed = say(bot_event(EventKind.DEPLOY_CHECKS_FAILED, tag="v1.4.1", commit=HEAD, checks=check_rows(checks),
                           failing=check_rows(checks)), hotfix(Stage.MONITORING))

    assert "n" * 79 + "…`" in text and LONG_NAME not in text and "more." in text
    assert_inert(text)
    assert failed is not None and "more. Consider Roll back." in failed.text


def test_no_check_after_the_wait_offers_tag_anyway_to_the_on_call_leads() -> None:
    message = say(bot_event(EventKind.CI_MISSING, commit=HEAD, waited="10m"), hotfix(Stage.REVIEWED))

    assert message is not None and buttons(message) == [ActionId.TAG_ANYWAY]
    assert f"No check and no status reported on `{HEAD[:10]}` after 10m" in message.text
    assert "<@ULEAD>: an on-call lead can press *Tag anyway* and say why" in message.text


def test_an_override_says_who_and_why() -> None:
    text = said(bot_event(EventKind.CI_OVERRIDDEN, "ULEAD", commit=HEAD, reason="CI is down <!here>"))

    assert text == f"⚠️ <@ULEAD> ships `{HEAD[:10]}` without CI: “CI is down &lt;!here&gt;”. The post-mortem records it."


def test_the_tags_checks_are_reported_and_a_failure_offers_roll_back() -> None:
    deploy = [check("deploy-prod", CheckState.IN_PROGRESS)]
    monitoring = hotfix(Stage.MONITORING, tag="v1.4.1", tag_commit=HEAD)
    detail = {"tag": "v1.4.1", "commit": HEAD, "checks": check_rows(deploy)}
    started = said(bot_event(EventKind.DEPLOY_CHECKS_STARTED, **detail), monitoring)
    passed = said(bot_event(EventKind.DEPLOY_CHECKS_PASSED, **detail), monitoring)
    failed = say(bot_event(EventKind.DEPLOY_CHECKS_FAILED, **detail, failing=check_rows(deploy)), monitoring)

    link = "<https://ci.example.com/deploy-prod|`deploy-prod`>"
    assert started == f"🚀 The push of `v1.4.1` started 1 check(s) on `{HEAD[:10]}`: {link}."
    assert passed.startswith(f"✅ The deploy checks of `v1.4.1` passed: {link}.")
    assert failed is not None and failed.text == f"🚨 The deploy pipeline of `v1.4.1` failed: {link}. Consider Roll back."
    assert buttons(failed) == [ActionId.ROLL_BACK]


def test_a_merge_back_pull_request_is_linked() -> None:
    text = said(bot_event(EventKind.MERGE_BACK_PR_OPENED, target="develop", number=13, url=PR_URL, head=HEAD),
                hotfix(Stage.MERGING_BACK))

    assert text.startswith(f"🔀 Pull request <{PR_URL}|#13> merges the fix into `develop`")


@pytest.mark.parametrize(("reason", "words"), [
    (MergeRefusal.REQUIRED_REVIEW, "wants an approving review"),
    (MergeRefusal.FAILING_CHECKS, "required checks on it are failing"),
    (MergeRefusal.CONFLICT, "it conflicts with `develop`: resolve the conflict"),
    (MergeRefusal.HEAD_MOVED, "never merges commits nobody reviewed"),
    (MergeRefusal.NOT_ALLOWED, "does not let the bot merge it"),
])
def test_a_refused_merge_says_why_and_names_who_can_act(reason: MergeRefusal, words: str) -> None:
    text = said(bot_event(EventKind.MERGE_REFUSED, target="develop", number=13, sha=HEAD, reason=reason.value,
                          message=HOSTILE * 20, users=("UREV1", "UREV2")), hotfix(Stage.MERGING_BACK))

    assert text.startswith("⛔ GitHub did not merge pull request #13 into `develop`: ") and words in text
    assert "<@UREV1> <@UREV2>: it stays open, and the bot tries again" in text and len(text) < 1000
    assert_inert(text)


def test_a_pull_request_closed_unmerged_says_the_target_lacks_the_fix() -> None:
    text = said(bot_event(EventKind.PULL_REQUEST_CLOSED, target="develop", number=13, url=EVIL_URL),
                hotfix(Stage.MERGING_BACK))

    assert text.startswith("🚫 Pull request #13 into `develop` was closed without merging: `develop` does not")
    assert "*Merged by hand*" in text and "javascript" not in text


# --- the status message ------------------------------------------------------------------------------------
def status(fix: Hotfix, events: list[Event], timers: tuple[Timer, ...] = (), *, private: bool = False) -> Message:
    message = views.status_message(fix, POLICY.approvals, timers, now=later(20), private=private,
                                   github=on_github(fix, events))
    assert message_problems(message.as_kwargs()) == []
    return message


def everything(message: Message) -> str:
    return str(message.as_kwargs())


def test_the_status_message_links_the_pull_request_and_offers_no_slack_review() -> None:
    poll = Timer(1, TimerKind.CODE_HOST_POLL, later(21))
    reminder = Timer(2, TimerKind.REVIEW_OVERDUE, later(50))
    message = status(hotfix(), [pr_opened()], (poll, reminder))
    plain = views.status_message(hotfix(), POLICY.approvals, (poll, reminder), now=later(20))

    assert f"*Pull request*\\n<{PR_URL}|#12> into `main`" in everything(message)
    assert buttons(message) == [] and "Review on GitHub" in everything(message)
    assert buttons(plain) == [ActionId.APPROVE_REVIEW, ActionId.REQUEST_CHANGES]
    assert "GitHub check" not in everything(message) and "GitHub check" not in everything(plain)
    assert TimerKind.REVIEW_OVERDUE.label in everything(message)


def test_the_status_message_shows_the_running_checks_bounded() -> None:
    few = [check("lint", CheckState.SUCCESS), check("test", CheckState.IN_PROGRESS)]
    many = [Check(HOSTILE + LONG_NAME, CheckState.QUEUED, EVIL_URL)] + [check(f"job-{n}", CheckState.QUEUED)
                                                                        for n in range(299)]
    shown = everything(status(hotfix(), [pr_opened(), ci(EventKind.CI_PENDING, few, running=few[1:])]))
    crowded = everything(status(hotfix(), [pr_opened(), ci(EventKind.CI_PENDING, many, running=many)]))

    assert f"*CI* on `{HEAD[:10]}`: ⏳ running, 1 of 2 done" in shown
    assert "✅ `lint` success · <https://ci.example.com/lint|details>" in shown
    assert "⏳ `test` in progress · <https://ci.example.com/test|details>" in shown
    assert "…and 290 more" in crowded
    assert_inert(crowded)


def test_tag_anyway_shows_while_no_check_reported_on_the_approved_commit() -> None:
    reviewed = hotfix(Stage.REVIEWED, approved_commit=HEAD)
    missing = [pr_opened(), bot_event(EventKind.CI_WAITING, commit=HEAD, missing=()),
               bot_event(EventKind.CI_MISSING, commit=HEAD, waited="10m")]
    passed = [pr_opened(), ci(EventKind.CI_PASSED, [check("lint", CheckState.SUCCESS)])]

    assert buttons(status(reviewed, missing)) == [ActionId.TAG_AND_DEPLOY, ActionId.TAG_ANYWAY]
    assert "no check and no status after 10m" in everything(status(reviewed, missing))
    assert buttons(status(reviewed, passed)) == [ActionId.TAG_AND_DEPLOY]
    assert "✅ passed (1 check(s))" in everything(status(reviewed, passed))


def test_while_monitoring_the_status_message_shows_the_checks_the_tag_started() -> None:
    monitoring = hotfix(Stage.MONITORING, approved_commit=HEAD, tag="v1.4.1", tag_commit=HEAD)
    deploy = check_rows([check("deploy-prod", CheckState.FAILURE)])
    events = [pr_opened(), ci(EventKind.CI_PASSED, [check("lint", CheckState.SUCCESS)]),
              bot_event(EventKind.TAGGED, "ULEAD", tag="v1.4.1", commit=HEAD, previous_tag="v1.4.0"),
              bot_event(EventKind.DEPLOY_CHECKS_STARTED, tag="v1.4.1", commit=HEAD, checks=deploy),
              bot_event(EventKind.DEPLOY_CHECKS_FAILED, tag="v1.4.1", commit=HEAD, checks=deploy, failing=deploy)]
    shown = everything(status(monitoring, events))

    assert "*Deploy checks* of `v1.4.1`: ❌ failed\\n• ❌ `deploy-prod` failure" in shown
    assert "*CI*" not in shown and buttons(status(monitoring, events)) == [ActionId.STABLE, ActionId.ROLL_BACK]


def test_while_merging_back_each_target_links_its_pull_request() -> None:
    merging = hotfix(Stage.MERGING_BACK, approved_commit=HEAD, tag="v1.4.1", tag_commit=HEAD,
                     merge_targets=("main", "develop", "release/2"), merged_into=("main",))
    events = [pr_opened(), bot_event(EventKind.MERGE_BACK_PR_OPENED, target="develop", number=13, url=PR_URL,
                                     head=HEAD)]

    assert (f"*Merge-back*\\n✅ `main` (<{PR_URL}|#12>) · ⏳ `develop` (<{PR_URL}|#13>) · ⏳ `release/2`"
            in everything(status(merging, events)))


def test_the_tag_anyway_modal_asks_why_and_the_refusal_points_at_its_button() -> None:
    modal = views.reason_modal(hotfix(Stage.REVIEWED, approved_commit=HEAD), CallbackId.TAG_ANYWAY).to_dict()

    assert view_problems(modal, method="views.open") == []
    assert modal["title"]["text"] == "Tag anyway HF-7" and "Why ship it without CI?" in str(modal)
    assert "*Tag anyway*" in refusal_text(Refused("No check reported.", Remedy.OVERRIDE_CI, "HF-7"))


def test_a_security_hotfix_on_github_shows_no_title_or_impact() -> None:
    secret = hotfix(Stage.REVIEWED, approved_commit=HEAD, security=True)
    events = [pr_opened(), ci(EventKind.CI_PASSED, [check("lint", CheckState.SUCCESS)]),
              bot_event(EventKind.CI_MISSING, commit=HEAD, waited="10m")]
    shown = [everything(status(secret, events))] + [everything(m) for e in events if (m := say(e, secret))]

    assert all(secret.title not in text and secret.impact not in text for text in shown)
    assert secret.title in everything(status(secret, events, private=True))


# --- the poll loop ---------------------------------------------------------------------------------------------
def test_polling_github_does_not_refresh_the_status_message() -> None:
    poll = (PollCodeHost(), StartTimer(TimerKind.CODE_HOST_POLL, timedelta(seconds=15)))
    stop = (CancelTimers((TimerKind.CODE_HOST_POLL,)),)
    news = [News(hotfix(), (), effects) for effects in (poll, stop)]
    learnt = News(hotfix(), ((5, ci(EventKind.CI_PENDING, [check("lint", CheckState.QUEUED)])),), poll)

    assert [notifier.slack_jobs(n) for n in news] == [[], []]
    assert notifier.StatusRefresh(7) in notifier.slack_jobs(learnt)
