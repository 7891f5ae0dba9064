"""The statistics' rules on hand-made histories: time to restore, change failure, p90, merge-back debt."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.hotfix import BOT, Event, EventKind, Hotfix, Stage
from bot.domain.policy import Severity, TimeTargets
from bot.domain.stats import History, Spread, compute

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=30)


def history(number: int, declared: datetime, stage: Stage, *steps: tuple[EventKind, timedelta, dict],
            repo: str = "payments", tag: str | None = None, merged_into: tuple[str, ...] = ("main", "develop")) -> History:
    hotfix = Hotfix(title="t", issue_id=f"P-{number}", severity=Severity.HIGH, impact="i", risk="r", repo=repo,
                    branch="b", declared_by="UDEV", declared_at=declared, stage=stage, number=number, tag=tag,
                    merge_targets=("main", "develop"), merged_into=merged_into)
    events = [Event(EventKind.DECLARED, "UDEV", declared)]
    events += [Event(kind, BOT, declared + after, detail) for kind, after, detail in steps]
    return History(hotfix, events)


def tagged(tag: str, after: timedelta) -> tuple[EventKind, timedelta, dict]:
    return EventKind.TAGGED, after, {"tag": tag}


def test_time_to_restore_is_declared_to_the_last_tag_live_and_a_rollback_is_a_change_failure() -> None:
    rolled_back = history(1, NOW - timedelta(days=3), Stage.CLOSED,
                          tagged("v1.0.1", timedelta(minutes=30)), (EventKind.WENT_LIVE, timedelta(minutes=35),
                                                                      {"tag": "v1.0.1"}),
                          (EventKind.ROLLED_BACK, timedelta(minutes=40), {"tag": "v1.0.1", "previous_tag": "v1.0.0"}),
                          tagged("v1.0.2", timedelta(minutes=70)),
                          (EventKind.WENT_LIVE, timedelta(minutes=80), {"tag": "v1.0.2"}), tag="v1.0.2")
    never_live = history(2, NOW - timedelta(days=20), Stage.CLOSED, tagged("v2.0.1", timedelta(minutes=10)),
                         repo="ledger", tag="v2.0.1")

    figures = compute([rolled_back, never_live], TimeTargets(), now=NOW, span=SPAN).current

    assert figures.restore == Spread(1, timedelta(minutes=80), timedelta(minutes=80))
    assert figures.restore_unknown == 1
    assert (figures.change_failure.deployed, figures.change_failure.rolled_back, figures.change_failure.failed) == (2, 1, 1)
    assert figures.total.rolled_back == 1 and figures.total.closed == 2


def test_a_hotfix_on_the_same_repo_within_a_week_of_the_tag_fails_the_change_and_not_later() -> None:
    first = history(1, NOW - timedelta(days=20), Stage.CLOSED, tagged("v1.0.1", timedelta(hours=1)), tag="v1.0.1")
    again = history(2, NOW - timedelta(days=14), Stage.CLOSED, tagged("v1.0.2", timedelta(hours=1)), tag="v1.0.2")
    other_repo = history(3, NOW - timedelta(days=13, hours=12), Stage.REJECTED, repo="ledger")

    failure = compute([first, again, other_repo], TimeTargets(), now=NOW, span=SPAN).current.change_failure

    assert (failure.deployed, failure.followed_up, failure.failed) == (2, 1, 1)  # `again` came 6 days after the tag


def test_median_and_p90_by_nearest_rank() -> None:
    spread = Spread.of([timedelta(minutes=m) for m in (1, 2, 3, 4, 5, 6, 7, 8, 9, 100)])

    assert spread == Spread(10, timedelta(minutes=5, seconds=30), timedelta(minutes=9))


def test_merge_back_debt_counts_an_old_fix_and_a_fix_closed_early_but_not_one_still_monitoring() -> None:
    stable = (EventKind.STABLE, timedelta(hours=1), {})
    old = history(1, NOW - timedelta(days=200), Stage.MERGING_BACK, stable, merged_into=("main",))
    closed_early = history(2, NOW - timedelta(hours=2), Stage.CLOSED, stable, merged_into=())
    monitoring = history(3, NOW - timedelta(hours=1), Stage.MONITORING, merged_into=())

    debt = compute([old, closed_early, monitoring], TimeTargets(), now=NOW, span=SPAN).debt

    assert [(d.key, d.targets_left, d.overdue) for d in debt] == [
        ("HF-1", ("develop",), True), ("HF-2", ("main", "develop"), True)]
    assert debt[1].waiting == timedelta(hours=1)
