"""File names, commit subjects and branch names come from whoever pushes: in Slack they never ping or link."""
from __future__ import annotations

import json
from pathlib import Path

from bot.service.clock import ManualClock
from tests.support.driver import Driver
from tests.support.gitrepos import Remote, git
from tests.test_procedure import BRANCH, approved, monitored

HOSTILE_FILE = "x`<!channel>`.py"
HOSTILE_SUBJECT = "<!here> <@U0123> &lt;"


def test_a_hostile_file_name_and_commit_subject_never_ping_anyone(driver: Driver, remote: Remote, tmp_path: Path,
                                                                  clock: ManualClock) -> None:
    hotfix = approved(driver)
    engineer = remote.clone(tmp_path / "engineer")
    engineer.switch("develop")  # develop has the same file already: merging back conflicts on it
    engineer.commit(HOSTILE_FILE, "ON_DEVELOP = True\n", "Develop's version")
    engineer.push("HEAD:refs/heads/develop")
    engineer.switch(BRANCH)
    engineer.commit(HOSTILE_FILE, "FIXED = True\n", HOSTILE_SUBJECT)
    engineer.push(f"HEAD:refs/heads/{BRANCH}")

    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    driver.click("Approve review", hotfix, user="UREV1")
    driver.submit_review(hotfix, user="UREV1")
    driver.settle()
    engineer.commit("notes.txt", "after the review\n", HOSTILE_SUBJECT)  # listed when Tag & deploy refuses it
    engineer.push(f"HEAD:refs/heads/{BRANCH}")
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    moved = next(t for t in driver.thread(hotfix) if t.startswith("🛑 Not tagged"))
    assert "&lt;!here&gt; &lt;@U0123&gt; &amp;lt;" in moved
    driver.click("Approve review", hotfix, user="UREV1")
    driver.submit_review(hotfix, user="UREV1")
    driver.settle()
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    monitored(driver, clock)
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()

    shown = "`xˋ&lt;!channel&gt;ˋ.py`"
    assert shown in next(t for t in driver.thread(hotfix) if t.startswith("🔍"))
    assert shown in next(t for t in driver.thread(hotfix) if t.startswith("⚠️ Merging into `develop`"))
    assert git(remote.path, "log", "-1", "--format=%s", f"refs/heads/{BRANCH}") == HOSTILE_SUBJECT
    for call in driver.slack.calls:
        sent = json.dumps(call.args, ensure_ascii=False)
        assert "<!" not in sent and "<@U0123>" not in sent and HOSTILE_FILE not in sent, (call.method, sent)
