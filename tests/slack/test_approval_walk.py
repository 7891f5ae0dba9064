"""Declare -> approve -> Approved, as the channel sees it, through signed HTTP and the fake Web API."""
from __future__ import annotations

from sqlmodel import Session, select

from bot.store.tables import DecisionRow, EventRow, JobRow
from tests.support.driver import Driver
from tests.support.gitrepos import Remote


def test_critical_hotfix_needs_three_roles_then_is_approved_and_the_branch_is_cut(driver: Driver, remote: Remote) -> None:
    hotfix = driver.declare(user="UDEV", severity="critical", title="Checkout returns 500")

    assert hotfix.key == "HF-1"
    status = driver.status_text(hotfix)
    assert "CRITICAL" in status and "Checkout returns 500" in status and "Awaiting approval" in status
    assert "⏳ Engineering manager" in status and "⏳ CTO" in status
    driver.settle()
    assert "needs approval from: Engineering manager (<@UEM>); On-call lead (<@ULEAD>); CTO (<@UCTO>)" in driver.thread(hotfix)[0]

    for user in ("UEM", "ULEAD"):
        assert driver.click("Approve", hotfix, user=user).status == 200
    driver.settle()
    assert "Awaiting approval" in driver.status_text(hotfix)
    assert driver.thread(hotfix)[-1].startswith("✅ <@ULEAD> approved as On-call lead (2 of 3). Still needed: CTO.")

    driver.click("Approve", hotfix, user="UCTO")
    driver.settle()
    branch = "hotfix/PROD-501-checkout-returns-500"
    assert remote.rev(f"refs/heads/{branch}") == remote.rev("v1.10.0")  # newest production tag, not main
    status = driver.status_text(hotfix)
    assert "Fixing" in status and f"`{branch}` from `v1.10.0`" in status
    assert "✅ CTO: <@UCTO>" in status
    assert "Approve" not in [e["text"]["text"] for b in driver.slack.message(hotfix.channel, hotfix.ts)["blocks"]
                             for e in b.get("elements", []) if e.get("type") == "button"]
    thread = driver.thread(hotfix)
    assert thread[-2] == f"✅ <@UCTO> approved as CTO (3 of 3): all approvals in. Cutting `{branch}` now."
    assert thread[-1].startswith(f"🌿 Branch `{branch}` pushed from `v1.10.0`")
    assert f"git switch {branch}" in thread[-1]

    with Session(driver.bot.engine) as session:
        decisions = session.exec(select(DecisionRow).order_by(DecisionRow.id)).all()
        assert [(d.role, d.user_id, d.approved) for d in decisions] == [
            ("engineering_manager", "UEM", True), ("oncall_lead", "ULEAD", True), ("cto", "UCTO", True)]
        assert all(d.at.tzinfo is not None for d in decisions)
        kinds = [e.kind for e in session.exec(select(EventRow).order_by(EventRow.id)).all()]
        assert kinds == ["declared", "approved", "approved", "approved", "fully_approved", "branch_cut"]
        git_jobs = session.exec(select(JobRow).where(JobRow.queue == "git")).all()
        assert [(j.kind, j.lane, j.state) for j in git_jobs] == [("cut_branch", "git:payments", "done")]


def test_high_hotfix_is_approved_after_two_roles(driver: Driver) -> None:
    hotfix = driver.declare(severity="high")
    driver.click("Approve", hotfix, user="ULEAD")
    driver.click("Approve", hotfix, user="UEM")
    driver.settle()
    assert "Fixing" in driver.status_text(hotfix)
    assert "(2 of 2): all approvals in." in driver.thread(hotfix)[-2]
