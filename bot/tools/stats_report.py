"""`hotfix-bot stats`: the statistics (bot.store.statistics reads them) as a table, Markdown, CSV or JSON."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import stats
from bot.domain.durations import format_duration
from bot.domain.stats import PeriodFigures, Spread, Stats


def render(figures: Stats, span: timedelta, form: str) -> str:
    return _RENDERERS[form](figures, span)


# --- the figures as tables, for people ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


def tables(figures: Stats, span: timedelta) -> list[Table]:
    now, before = figures.current, figures.previous
    length = _span_label(span)
    return [_summary(figures, length), _outcomes(now), _steps(now, before, length), _debt(figures)]


def headline(figures: Stats, span: timedelta) -> str:
    return (f"Hotfix statistics, {_day(figures.current.start)} to {_day(figures.current.end)} "
            f"(the last {_span_label(span)}), compared with the {_span_label(span)} before")


def _span_label(span: timedelta) -> str:
    whole_days = span.days if span == timedelta(days=span.days) else 0
    return f"{whole_days} days" if whole_days > 1 else format_duration(span)


def _summary(figures: Stats, length: str) -> Table:
    now, before = figures.current, figures.previous
    rows = [
        ("Hotfixes declared", str(now.total.declared), str(before.total.declared)),
        ("Time to restore, median (declared to live)", _took(now.restore.median), _took(before.restore.median)),
        ("Time to restore, p90", _took(now.restore.p90), _took(before.restore.p90)),
        ("Tagged, live time unknown", str(now.restore_unknown), str(before.restore_unknown)),
        ("Change failure rate", failure_rate(now), failure_rate(before)),
        ("Merge-back debt (fixes not in every target)", str(len(figures.debt)), ""),
    ]
    trends = [_trend(step.spread, before.step(step.step).spread if before.step(step.step) else Spread())
              for step in now.steps]
    notes = [f"Faster or slower than the {length} before: time to restore {_trend(now.restore, before.restore)}; "
             f"{trends.count('faster')} step(s) faster, {trends.count('slower')} slower."]
    if slowest := now.slowest:
        notes.append(f"Where we wait: {slowest.step} (median {_took(slowest.spread.median)}).")
    return Table("Summary", ("Figure", f"Last {length}", f"{length} before"), tuple(rows), tuple(notes))


def failure_rate(period: PeriodFigures) -> str:
    failure = period.change_failure
    if failure.rate is None:
        return "none deployed"
    return (f"{failure.rate:.0%} ({failure.failed} of {failure.deployed}: {failure.rolled_back} rolled back, "
            f"{failure.followed_up} followed by another hotfix within {stats.FOLLOW_UP_WINDOW.days}d)")


def _outcomes(period: PeriodFigures) -> Table:
    rows = [(severity.label, *map(str, _counts(outcome))) for severity, outcome in period.outcomes.items()]
    rows.append(("Total", *map(str, _counts(period.total))))
    return Table("Hotfixes by severity and outcome",
                 ("Severity", "Declared", "Closed", "Rejected", "Still open", "Rolled back at least once"), tuple(rows))


def _counts(outcome: stats.Outcomes) -> tuple[int, ...]:
    return outcome.declared, outcome.closed, outcome.rejected, outcome.open, outcome.rolled_back


def _steps(now: PeriodFigures, before: PeriodFigures, length: str) -> Table:
    rows = []
    for step in now.steps:
        earlier = before.step(step.step)
        earlier_spread = earlier.spread if earlier else Spread()
        rows.append((step.step, str(step.spread.count), _took(step.spread.median), _took(step.spread.p90),
                     _took(step.target), str(step.over_target) if step.target else "", _took(earlier_spread.median),
                     _trend(step.spread, earlier_spread)))
    return Table("Steps against their targets",
                 ("Step", "Measured", "Median", "p90", "Target", "Over target", f"Median {length} before", "Trend"),
                 tuple(rows))


def _debt(figures: Stats) -> Table:
    rows = tuple((d.key, d.repo, ", ".join(d.targets_left), format_duration(d.waiting), "yes" if d.overdue else "no")
                 for d in figures.debt)
    return Table("Merge-back debt", ("Hotfix", "Repository", "Missing in", "Since Stable", "Overdue"), rows,
                 () if rows else ("Every fix is in every target.",))


def _trend(now: Spread, before: Spread) -> str:
    if now.median is None or before.median is None:
        return "no comparison"
    if now.median == before.median:
        return "the same"
    return "faster" if now.median < before.median else "slower"


def _took(span: timedelta | None) -> str:
    return "–" if span is None else format_duration(span)


def _day(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _as_table(figures: Stats, span: timedelta) -> str:
    out = [headline(figures, span)]
    for table in tables(figures, span):
        out += ["", table.title]
        if table.rows:
            grid = [table.header, *table.rows]
            widths = [max(len(row[i]) for row in grid) for i in range(len(table.header))]
            out += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in grid]
        out += list(table.notes)
    return "\n".join(out) + "\n"


def _as_markdown(figures: Stats, span: timedelta) -> str:
    out = [f"# {headline(figures, span)}"]
    for table in tables(figures, span):
        out += ["", f"## {table.title}", ""] if out[-1] else [f"## {table.title}", ""]
        if table.rows:
            out += [_pipe(table.header), _pipe(tuple("---" for _ in table.header)), *map(_pipe, table.rows), ""]
        for note in table.notes:
            out += [note, ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _pipe(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"


# --- the figures as data, for spreadsheets and scripts --------------------------------------------------------------
def as_data(figures: Stats, span: timedelta) -> dict:
    """Durations in seconds, rates as fractions, times as ISO 8601."""
    return {
        "span_seconds": _seconds(span),
        "current": _period_data(figures.current),
        "previous": _period_data(figures.previous),
        "merge_back_debt": [{"hotfix": d.key, "repo": d.repo, "missing_in": list(d.targets_left),
                             "waiting_seconds": _seconds(d.waiting), "overdue": d.overdue} for d in figures.debt],
    }


def _period_data(period: PeriodFigures) -> dict:
    failure = period.change_failure
    return {
        "start": period.start.isoformat(), "end": period.end.isoformat(),
        "outcomes": {s.value: _outcome_data(o) for s, o in period.outcomes.items()} | {
            "total": _outcome_data(period.total)},
        "steps": [{"step": s.step, "target_seconds": _seconds(s.target), **_spread_data(s.spread),
                   "over_target": s.over_target} for s in period.steps],
        "time_to_restore": {**_spread_data(period.restore), "unknown": period.restore_unknown},
        "change_failure": {"deployed": failure.deployed, "rolled_back": failure.rolled_back,
                           "followed_up": failure.followed_up, "failed": failure.failed,
                           "rate": None if failure.rate is None else round(failure.rate, 4)},
    }


def _outcome_data(outcome: stats.Outcomes) -> dict:
    return {"declared": outcome.declared, "closed": outcome.closed, "rejected": outcome.rejected,
            "open": outcome.open, "rolled_back": outcome.rolled_back}


def _spread_data(spread: Spread) -> dict:
    return {"measured": spread.count, "median_seconds": _seconds(spread.median), "p90_seconds": _seconds(spread.p90)}


def _seconds(span: timedelta | None) -> int | None:
    return None if span is None else round(span.total_seconds())


def _as_json(figures: Stats, span: timedelta) -> str:
    return json.dumps(as_data(figures, span), indent=2) + "\n"


def _as_csv(figures: Stats, span: timedelta) -> str:
    """One figure a row: period, section, item, measure, value (blank when there is none)."""
    data = as_data(figures, span)
    rows: list[tuple] = []
    for period in ("current", "previous"):
        figures_of = data[period]
        rows += [(period, "outcomes", severity, measure, value)
                 for severity, counts in figures_of["outcomes"].items() for measure, value in counts.items()]
        rows += [(period, "steps", step["step"], measure, value)
                 for step in figures_of["steps"] for measure, value in step.items() if measure != "step"]
        rows += [(period, "time_to_restore", "", m, v) for m, v in figures_of["time_to_restore"].items()]
        rows += [(period, "change_failure", "", m, v) for m, v in figures_of["change_failure"].items()]
    rows += [("now", "merge_back_debt", debt["hotfix"], measure, " ".join(value) if isinstance(value, list) else value)
             for debt in data["merge_back_debt"] for measure, value in debt.items() if measure != "hotfix"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("period", "section", "item", "measure", "value"))
    writer.writerows(tuple("" if cell is None else cell for cell in row) for row in rows)
    return out.getvalue()


_RENDERERS: Mapping[str, Callable[[Stats, timedelta], str]] = {
    "table": _as_table, "markdown": _as_markdown, "csv": _as_csv, "json": _as_json,
}
