"""A security hotfix from declare to close: the review it needs, and nothing public that names the issue."""
from __future__ import annotations

import json
from pathlib import Path

from bot.service.clock import ManualClock
from bot.standins import payloads
from tests.support.driver import Driver, Posted
from tests.support.gitrepos import Remote, git
from tests.test_procedure import monitored

ISSUE = "CVE-2026-1234"
SECRETS = (ISSUE, "Token forgery in login", "any account can be taken over")
BRANCH = "hotfix/HF-1-security-fix"
PUBLIC = ("C0HOTFIX", "C0STAKE")


def declared(driver: Driver) -> Posted:
    hotfix = driver.declare(severity="critical", security=True, issue_id=ISSUE, title=SECRETS[1], impact=SECRETS[2])
    for approver in ("UEM", "ULEAD", "UCTO"):
        driver.click("Approve", hotfix, user=approver)
    driver.settle()
    return hotfix


def test_the_security_review_has_every_checklist_item_in_a_modal_slack_accepts(
    driver: Driver, remote: Remote, tmp_path: Path
) -> None:
    hotfix = declared(driver)
    remote.clone(tmp_path / "engineer").push_fix(BRANCH)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()

    assert driver.click("Approve review", hotfix, user="UREV1").status == 200
    opened = driver.slack.last("views.open")
    assert opened.error is None
    checklists = {b["block_id"]: [o["text"]["text"] for o in b["element"]["options"]]
                  for b in opened["view"]["blocks"] if b["type"] == "input"}
    assert len(checklists["checklist"]) == 8
    assert checklists["security_checklist"] == ["Security team has reviewed", "Fix doesn't introduce new vulnerabilities",
                                                "No sensitive data exposed in logs/errors"]

    inputs = [b for b in opened["view"]["blocks"] if b["type"] == "input"]
    state = {b["block_id"]: {b["block_id"]: {"type": "checkboxes", "selected_options": (
        b["element"]["options"] if b["block_id"] == "checklist" else [])}} for b in inputs}
    half = payloads.view_submission("hotfix_approve_review", state, user_id="UREV1", private_metadata=hotfix.key,
                                    blocks=opened["view"]["blocks"])
    assert driver.post(half).json()["errors"] == {
        "security_checklist": "Tick every item; if one fails, cancel and use Request changes instead."}

    assert driver.submit_review(hotfix, user="UREV1").status == 200
    driver.settle()
    assert "Review approved" in driver.status_text(hotfix)


def test_nothing_public_and_nothing_in_git_names_the_issue_of_a_security_hotfix(
    driver: Driver, remote: Remote, tmp_path: Path, clock: ManualClock
) -> None:
    hotfix = declared(driver)
    remote.clone(tmp_path / "engineer").push_fix(BRANCH)
    driver.click("Ready for review", hotfix, user="UDEV")
    driver.settle()
    driver.click("Approve review", hotfix, user="UREV1")
    driver.submit_review(hotfix, user="UREV1")
    driver.settle()
    driver.click("Tag & deploy", hotfix, user="UDEV")
    driver.settle()
    monitored(driver, clock)
    driver.click("Stable", hotfix, user="UDEV")
    driver.settle()
    status = driver.command(f"status {hotfix.key}", user="UOTHER")
    listed = driver.command("list", user="UOTHER")
    driver.click("Close", hotfix, user="UDEV")
    driver.settle()

    assert hotfix.channel == "G0SECRET" and ISSUE in driver.status_text(hotfix)  # the security channel has it
    assert remote.tag_message("v1.10.1").startswith("Hotfix HF-1: Security fix")
    merges = git(remote.path, "log", "--merges", "--format=%B", "main", "develop")
    assert "Merge hotfix HF-1 (security fix) into main" in merges
    refs = git(remote.path, "for-each-ref", "--format=%(refname) %(contents)")
    public = [json.dumps(c.args) for c in driver.slack.calls if c.get("channel") in PUBLIC]
    answers = [status.body, listed.body]
    assert public and "Security hotfix in progress" in status.body and "Security hotfix in progress" in listed.body
    for shown in (*public, *answers, refs, merges):
        assert not any(secret.lower() in shown.lower() for secret in SECRETS), shown
