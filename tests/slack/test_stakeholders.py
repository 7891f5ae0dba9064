"""What people outside the hotfix see: the stakeholder channel, the App Home tab, and nothing of a security fix."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.standins import payloads
from tests.support.driver import Driver

PUBLIC = ("C0HOTFIX", "C0STAKE")


def test_stakeholders_get_one_line_per_phase_change_with_a_link_to_the_thread(driver: Driver) -> None:
    hotfix = driver.declare(severity="high", title="Checkout returns 500")
    driver.click("Approve", hotfix, user="UEM")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.settle()
    lines = [c["text"] for c in driver.slack.calls_to("chat.postMessage", channel="C0STAKE")]
    link = f"https://hotfix-team.slack.com/archives/{hotfix.channel}/p{hotfix.ts.replace('.', '')}"
    assert lines == [
        f"🟠 HF-1 · HIGH · Checkout returns 500: declared. <{link}|Thread>",
        f"🟠 HF-1 · HIGH · Checkout returns 500: Awaiting approval → Approved, cutting branch. <{link}|Thread>",
        f"🟠 HF-1 · HIGH · Checkout returns 500: Approved, cutting branch → Fixing. <{link}|Thread>",
    ]


def test_a_security_hotfix_keeps_its_details_out_of_every_public_channel(driver: Driver, remote) -> None:
    secret = ("SQL injection in user search", "SEC-123", "search endpoint leaks every user row", "exploitation")
    hotfix = driver.declare(severity="critical", security=True, title=secret[0], issue_id=secret[1],
                            impact=secret[2], risk="Active exploitation possible")
    for approver in ("UEM", "ULEAD", "UCTO"):
        driver.click("Approve", hotfix, user=approver)
    driver.settle()

    assert hotfix.channel == "G0SECRET"
    assert secret[0] in driver.status_text(hotfix)  # the private channel has the detail
    assert remote.has_ref("refs/heads/hotfix/HF-1-security-fix")  # the branch name gives nothing away
    public = [c for c in driver.slack.calls if c.get("channel") in PUBLIC]
    assert public, "stakeholders still hear that a security hotfix is running"
    for call in public:
        shown = json.dumps(call.args)
        assert all(word.lower() not in shown.lower() for word in secret), shown
        assert "Security hotfix in progress" in shown


def test_the_home_tab_lists_active_hotfixes_with_phase_and_age(driver: Driver) -> None:
    driver.declare(severity="high", title="Checkout returns 500")
    driver.bot.clock.advance(__import__("datetime").timedelta(minutes=42))
    answer = driver.post(payloads.event_callback({"type": "app_home_opened", "user": "UEM", "channel": "D0HOME",
                                                  "tab": "home", "event_ts": "1700000000.1"}))
    assert answer.status == 200
    home = driver.slack.last("views.publish", user_id="UEM")["view"]
    texts = [b["text"]["text"] for b in home["blocks"] if b.get("text")]
    assert texts[1] == "*Active hotfixes (1)*"  # below the last 30 days' figures
    assert "*HF-1* · HIGH · Checkout returns 500" in texts[2] and "Awaiting approval · 42m old" in texts[2]


def test_report_prints_the_post_mortem_draft_from_the_database_alone(driver: Driver, env: dict, tmp_path: Path) -> None:
    driver.declare(severity="high", title="Checkout returns 500")
    driver.settle()
    run = subprocess.run([sys.executable, "-m", "bot", "report", "HF-1"], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": os.environ["PATH"], "DATABASE_URL": env["DATABASE_URL"]}, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("# Post-mortem draft: HF-1 Checkout returns 500")
    assert "- Approval: not done (target 15m)" in run.stdout
    missing = subprocess.run([sys.executable, "-m", "bot", "report", "HF-9"], capture_output=True, text=True,
                             cwd=tmp_path, env={"PATH": os.environ["PATH"], "DATABASE_URL": env["DATABASE_URL"]})
    assert missing.returncode == 1 and "there is no hotfix HF-9" in missing.stderr
