"""Tag anyway, through signed HTTP: when no check ever reported on the approved commit of a GitHub hotfix, an
on-call lead presses the button, says why in a modal, and the tag goes out with the reason in the thread."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.hotfix import BOT, Event, EventKind, Stage
from bot.service.people import PeopleSteps
from bot.standins import payloads
from tests.slack.github_hotfix import github_says, on_github, push_fix
from tests.support.driver import Driver, Posted, find_button
from tests.support.gitrepos import Remote

pytestmark = pytest.mark.skipif(not hasattr(PeopleSteps, "tag_anyway"),
                                reason="the service's tag_anyway is not on this branch yet")


def no_ci_after_the_wait(driver: Driver, remote: Remote, tmp_path: Path) -> tuple[Posted, str]:
    """A GitHub hotfix approved on `head`, on which no check reported for the whole CI wait."""
    hotfix = driver.declare(severity="high", title="Checkout total is wrong")
    for approver in ("UEM", "ULEAD"):
        driver.click("Approve", hotfix, user=approver)
    driver.settle()
    branch = next(t for t in driver.thread(hotfix) if t.startswith("🌿")).split("`")[1]
    head = push_fix(remote, tmp_path, branch)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    now = driver.bot.clock.now()
    github_says(driver, hotfix,
                Event(EventKind.REVIEW_APPROVED, "UREV1", now, {"role": "reviewer", "login": "rita-gh",
                                                                 "commit": head, "submitted": now.isoformat()}),
                Event(EventKind.CI_WAITING, BOT, now, {"commit": head, "missing": ()}),
                Event(EventKind.CI_MISSING, BOT, now, {"commit": head, "waited": "10m"}),
                stage=Stage.REVIEWED, commit=head)
    return hotfix, head


def test_an_on_call_lead_tags_without_ci_and_says_why(driver: Driver, config_path: Path, remote: Remote,
                                                       tmp_path: Path) -> None:
    on_github(driver, config_path)
    hotfix, head = no_ci_after_the_wait(driver, remote, tmp_path)

    driver.click("Tag anyway", hotfix, user="ULEAD")
    modal = driver.slack.wait_for("views.open")[-1]["view"]
    driver.submit_reason(hotfix, "CI is down org-wide; one-line fix", user="ULEAD", callback="hotfix_tag_anyway")
    driver.settle()

    assert modal["callback_id"] == "hotfix_tag_anyway" and modal["private_metadata"] == hotfix.key
    assert f"⚠️ <@ULEAD> ships `{head[:10]}` without CI: “CI is down org-wide; one-line fix”." in "\n".join(
        driver.thread(hotfix))
    assert any(t.startswith("🏷️ Tagged") for t in driver.thread(hotfix))
    driver.slack.assert_no_problems()


def test_someone_who_is_not_an_on_call_lead_is_told_so_and_no_modal_opens(
        driver: Driver, config_path: Path, remote: Remote, tmp_path: Path) -> None:
    on_github(driver, config_path)
    hotfix, _ = no_ci_after_the_wait(driver, remote, tmp_path)
    button = find_button(driver.slack.message(hotfix.channel, hotfix.ts), "Tag anyway")

    driver.post(payloads.block_actions(button["action_id"], button["value"], user_id="UDEV",
                                       channel_id=hotfix.channel, message_ts=hotfix.ts,
                                       message=driver.slack.message(hotfix.channel, hotfix.ts),
                                       response_url=driver.slack.response_url()))

    note = driver.slack.wait_for("chat.postEphemeral", user="UDEV")[-1]["text"]
    assert "on-call lead" in note
    assert driver.slack.calls_to("views.open") == []
