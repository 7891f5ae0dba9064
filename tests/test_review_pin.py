"""What was reviewed is what ships: a commit pushed after any click never reaches the tag, the merge-back or the
delete unreviewed. Each test is the attacker's: a clone pushes at that moment, on a real remote, through the app."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.service.clock import ManualClock
from tests.git.test_worker_faults import deliver_slack_only, process
from bot.standins import payloads
from tests.support.config import CONFIG
from tests.support.driver import Driver, Posted
from tests.support.fake_slack import FakeSlack
from tests.support.gitrepos import CHECKOUT_FIX, Remote, git
from tests.test_procedure import BRANCH, approved, monitored, reviewed

SNEAKY = "def total(cart):\n    return 0  # `rm -rf` <!channel> & co\n"


@pytest.fixture
def config_path(tmp_path: Path, remote_url: str, request: pytest.FixtureRequest) -> Path:
    """The tests' team, with a security reviewer; `in_a_public_channel` tests have no security channel."""
    text = CONFIG.format(remote=remote_url).replace('reviewer = ["UREV1", "UREV2"]',
                                                    'reviewer = ["UREV1", "UREV2"]\nsecurity = ["USEC"]')
    if "in_a_public_channel" in request.node.name:
        text = text.replace('security_channel = "G0SECRET"\n', "")
    path = tmp_path / "hotfix.toml"
    path.write_text(text)
    return path


def approve_review(driver: Driver, hotfix: Posted, user: str) -> dict:
    assert driver.click("Approve review", hotfix, user=user).status == 200
    return driver.submit_review(hotfix, user=user).json()


def approve_security_fix(driver: Driver, hotfix: Posted, user: str) -> None:
    """Through the service: a security hotfix's checklist modal has 11 options, one more than Slack allows (reported
    to the lead), so Slack refuses to open it."""
    service = driver.bot.service
    service.people.approve_review(hotfix.key, user_id=user, commit=service.read.get(hotfix.key).review_commit or "")


def test_a_push_after_the_approval_is_not_tagged_and_needs_its_own_review(
    driver: Driver, remote: Remote, tmp_path: Path
) -> None:
    hotfix = approved(driver)
    engineer = remote.clone(tmp_path / "engineer")
    first = reviewed(driver, engineer, hotfix)
    sneaky = engineer.commit("checkout.py", SNEAKY, "Tidy `total` <b>")
    engineer.push(f"HEAD:refs/heads/{BRANCH}")

    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()

    assert "v1.10.1" not in remote.tags()
    moved = next(t for t in driver.thread(hotfix) if t.startswith("🛑"))
    assert moved == (f"🛑 Not tagged: `{BRANCH}` moved past the approved `{first[:10]}` to `{sneaky[:10]}`. "
                     f"1 commit(s) nobody reviewed:\n• `{sneaky[:7]}` Tidy ˋtotalˋ &lt;b&gt; (Test Engineer)\n"
                     "They need a review too: a new review request follows.")
    request = driver.thread(hotfix)[-1]
    assert request.startswith(f"🔍 <@UREV1> <@UREV2>: review `{BRANCH}` at `{sneaky[:10]}` please")
    assert f"🆕 1 commit(s) since the approved `{first[:10]}`:\n• `{sneaky[:7]}` Tidy" in request
    # The diff since the approved commit, escaped, its backticks unable to close the code block.
    assert f"The diff since `{first[:10]}`:\n```diff --git" in request
    assert "+    return 0  # ˋrm -rfˋ &lt;!channel&gt; &amp; co```" in request
    assert request.count("```") == 2
    assert "In review" in driver.status_text(hotfix)

    assert approve_review(driver, hotfix, "UREV2") == {}
    driver.settle()
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    assert remote.rev("v1.10.1") == sneaky


def test_an_approval_names_its_commit_and_a_newer_review_request_refuses_it(
    driver: Driver, remote: Remote, tmp_path: Path
) -> None:
    hotfix = approved(driver)
    engineer = remote.clone(tmp_path / "engineer")
    first = engineer.push_fix(BRANCH)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    driver.click("Approve review", hotfix, user="UREV1")
    modal = driver.slack.last("views.open").args["view"]
    assert f"You approve commit `{first}`" in json.dumps(modal)

    driver.click("Request changes", hotfix, user="UREV2")
    driver.submit_reason(hotfix, "add a test", user="UREV2", callback="hotfix_request_changes")
    second = engineer.push_fix(BRANCH, content=CHECKOUT_FIX + "# tested\n")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()

    options = next(b for b in modal["blocks"] if b.get("block_id") == "checklist")["element"]["options"]
    state = {"checklist": {"checklist": {"type": "checkboxes", "selected_options": options}}}
    answer = driver.post(payloads.view_submission(  # the modal UREV1 opened on the first commit
        "hotfix_approve_review", state, user_id="UREV1", private_metadata=modal["private_metadata"],
        blocks=modal["blocks"]))
    assert answer.json()["response_action"] == "errors"
    assert f"`{second[:10]}` is up for review now" in answer.json()["errors"]["checklist"]
    assert "In review" in driver.status_text(hotfix)


def test_after_the_tag_a_push_stays_out_of_the_merge_back_and_the_branch_is_kept(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = approved(driver)
    engineer = remote.clone(tmp_path / "engineer")
    fix = reviewed(driver, engineer, hotfix, filename="payments.py",  # develop changed payments.py: a conflict
                   fix="def charge(card):\n    return gateway.charge(card, idempotent=True)\n")
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    sneaky = engineer.commit("checkout.py", SNEAKY, "After the tag")
    engineer.push(f"HEAD:refs/heads/{BRANCH}")
    monitored(driver, clock)

    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    assert remote.parents("main")[1] == fix  # the tagged commit, not the branch
    assert "return 0" not in remote.file_at("main", "checkout.py")

    engineer.switch("develop")  # by hand, the tagged commit only
    git(engineer.path, "merge", "--no-ff", "--quiet", fix, "-X", "theirs", "-m", "Merge the hotfix by hand")
    engineer.push("HEAD:refs/heads/develop")
    driver.click("Merged by hand", hotfix, user="UDEV")
    driver.settle()

    assert "Merged back, ready to close" in driver.status_text(hotfix)
    assert remote.rev(f"refs/heads/{BRANCH}") == sneaky  # kept: deleting it would lose the new commit
    kept = driver.thread(hotfix)[-1]
    assert kept.startswith(f"🌿 Kept `{BRANCH}`: it points at `{sneaky[:10]}`, past the merged `{fix[:10]}`")
    assert f"• `{sneaky[:7]}` After the tag (Test Engineer)" in kept


def test_a_push_between_ready_for_review_and_the_diff_is_what_the_review_shows(
    env: dict[str, str], slack: FakeSlack, clock: ManualClock, remote: Remote, tmp_path: Path
) -> None:
    with process(env, slack, clock, workers=False) as driver:
        hotfix = approved(driver)
        engineer = remote.clone(tmp_path / "engineer")
        engineer.push_fix(BRANCH)
        driver.click("Ready for review", hotfix, user="UDEV")
        deliver_slack_only(driver.bot)
        later = engineer.push_fix(BRANCH, content=SNEAKY)

        driver.click("Approve review", hotfix, user="UREV1")  # nothing shown yet: nothing to approve
        assert driver.ephemerals("UREV1")[-1].startswith("The review request of HF-1 is not in the thread yet")

        driver.settle()
        request = driver.thread(hotfix)[-1]
        assert f"at `{later[:10]}` please" in request and "ˋrm -rfˋ" in request
        approve_review(driver, hotfix, "UREV1")
        driver.settle()
        driver.click("Tag & deploy", hotfix, user="UDEV")
        driver.settle()
        assert remote.rev("v1.10.1") == later


def test_a_security_review_from_before_the_roll_back_does_not_count_again_in_a_public_channel(
    driver: Driver, remote: Remote, tmp_path: Path
) -> None:
    hotfix = driver.declare(severity="high", security=True, title="Token leak", issue_id="SEC-9")
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    branch = "hotfix/HF-1-security-fix"  # a security branch never names its issue
    engineer = remote.clone(tmp_path / "engineer")
    engineer.push_fix(branch, filename="tokens.py", content="SECRET_SAUCE = 'redacted'\n")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    approve_security_fix(driver, hotfix, "USEC")
    driver.settle()
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    driver.click("Roll back", hotfix, user="UDEV")
    driver.settle()

    second = engineer.push_fix(branch, filename="tokens.py", content="SECRET_SAUCE = None\n")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    request = driver.thread(hotfix)[-1]
    assert hotfix.channel == "C0HOTFIX"  # no security channel: the thread is public
    assert "tokens.py" not in request and "SECRET_SAUCE" not in request and "Fix tokens.py" not in request
    assert f"the diff and the file names stay out of it. See them with `git fetch origin && git diff " in request
    assert f"• `{second[:7]}` (Test Engineer)" in request

    approve_security_fix(driver, hotfix, "UREV1")
    driver.settle()
    assert "In review" in driver.status_text(hotfix)  # USEC's review was of the rolled-back commit
    approve_security_fix(driver, hotfix, "USEC")
    driver.settle()
    assert "Review approved" in driver.status_text(hotfix)
