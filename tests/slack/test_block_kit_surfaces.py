"""Every surface the bot shows, at its longest and in its security variant, stays within Slack's Block Kit limits.

The fake Slack refuses (and lists) whatever Slack would refuse; each test ends with no problem listed.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.config import load_config
from bot.domain.declaration import TEXT_MAX, TITLE_MAX
from bot.domain.naming import branch_name
from bot.standins import payloads
from tests.support.driver import Driver, Posted
from tests.support.gitrepos import Remote, git

# Escaping makes these longer than they are typed: `&` becomes `&amp;`.
LONGEST_TITLE = ("<!channel> & " * 20)[:TITLE_MAX]
LONGEST_TEXT = ("&<>" * TEXT_MAX)[:TEXT_MAX]
REVIEWERS = [f"UREV{n}" for n in range(1, 61)]
MANAGERS = ["UEM", *(f"UEM{n}" for n in range(2, 31))]
BRANCH = branch_name("PROD-501", LONGEST_TITLE)


def declare_longest(driver: Driver, *, security: bool = False, issue_id: str = "PROD-501") -> Posted:
    return driver.declare(severity="critical", title=LONGEST_TITLE, impact=LONGEST_TEXT, risk=LONGEST_TEXT,
                          security=security, issue_id=issue_id)


def many_people(driver: Driver, config_path: Path) -> None:
    text = config_path.read_text().replace('reviewer = ["UREV1", "UREV2"]', f"reviewer = {REVIEWERS!r}")
    config_path.write_text(text.replace('engineering_manager = ["UEM"]', f"engineering_manager = {MANAGERS!r}"))
    driver.bot.reload(load_config(config_path))


def home(driver: Driver, user: str) -> dict:
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": "1700000000.1"}
    assert driver.post(payloads.event_callback(event)).status == 200
    return driver.slack.wait_for("views.publish", user_id=user)[-1]["view"]


def test_lists_of_many_hotfixes_with_the_longest_titles_fit_in_the_home_tab_and_in_hotfix_list(driver: Driver) -> None:
    for n in range(52):  # 52 lines of 150 escaped `&` would be over Slack's 40,000 characters
        driver.declare(severity="high", title="&" * TITLE_MAX, security=n % 26 == 25, issue_id=f"PROD-{n}")
    driver.settle()

    listed = driver.command("list", user="UDEV")
    tab = home(driver, "UDEV")

    assert listed.text.startswith("Active hotfixes (52):") and listed.text.endswith("…and 12 more.")
    assert tab["blocks"][2]["text"]["text"] == "*Active hotfixes (52)*" and len(tab["blocks"]) == 43  # below 2 of stats
    assert "Security hotfix in progress" in listed.text
    driver.slack.assert_no_problems()


def test_every_surface_of_a_hotfix_at_its_longest_stays_within_the_limits(
    driver: Driver, config_path: Path, remote: Remote, tmp_path: Path
) -> None:
    many_people(driver, config_path)
    hotfix = declare_longest(driver)
    public_security = declare_longest(driver, security=True, issue_id="SEC-1")
    rejected = declare_longest(driver)
    for approver in ("UEM", "ULEAD", "UCTO"):
        driver.click("Approve", hotfix, user=approver)
    driver.click("Reject", rejected, user="UEM2")
    driver.submit_reason(rejected, "r" * 500, user="UEM2")
    driver.settle()

    engineer = remote.clone(tmp_path / "engineer")
    engineer.switch(BRANCH)
    (engineer.path / "deep" / "er").mkdir(parents=True)
    for n in range(30):
        (engineer.path / "deep" / "er" / f"module_{n:02d}_{'x' * 60}.py").write_text(f"VALUE = {n}\n")
    git(engineer.path, "add", "-A")
    git(engineer.path, "commit", "--quiet", "-m", "Fix everything")
    engineer.push(f"HEAD:refs/heads/{BRANCH}")
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    driver.bot.clock.advance(timedelta(minutes=31))
    driver.bot.service.timers.fire_due_timers()  # the review reminder, to 60 reviewers by DM
    driver.settle()
    driver.click("Request changes", hotfix, user="UREV7")
    driver.click("Approve review", hotfix, user="UREV7")
    driver.command(f"status {hotfix.key}", user="UDEV")
    driver.command(f"status {public_security.key}", user="UDEV")
    driver.command("declare " + LONGEST_TITLE * 2, user="UDEV")
    home(driver, "UEM")

    request = next(t for t in driver.thread(hotfix) if t.startswith("🔍"))
    assert "30 file(s)" in request and "and 20 more" in request
    assert len(driver.slack.calls_to("chat.postMessage", channel="UREV42")) == 1
    assert [c.method for c in driver.slack.calls if c.method.startswith("views.")].count("views.open") == 4
    driver.slack.assert_no_problems()
