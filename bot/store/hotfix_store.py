"""Rows <-> domain objects for one unit of work. Nothing outside bot/store sees a row."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from bot.domain.hotfix import Decision, Event, EventKind, Hotfix, Stage
from bot.domain.policy import Severity
from bot.service.ports import StaleWrite
from bot.store.event_detail import detail_from_json, detail_to_json
from bot.store.tables import DecisionRow, EventRow, HotfixRow

__all__ = ["HotfixStore", "StaleWrite"]

_COPIED = (
    "title", "issue_id", "impact", "risk", "repo", "branch", "declared_by", "declared_at",
    "security", "override", "base_ref", "base_commit", "tag", "tag_commit", "previous_tag", "closed_at",
    "review_commit", "approved_commit",
)
_LISTS = ("merge_targets", "merged_into")


class HotfixStore:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._versions: dict[int, int] = {}

    def add(self, hotfix: Hotfix, *, request_key: str | None = None) -> Hotfix:
        row = HotfixRow(severity=hotfix.severity.value, stage=hotfix.stage.value, request_key=request_key,
                        **_columns(hotfix))
        self.session.add(row)
        self.session.flush()
        self._versions[row.id] = row.version
        self._add_decisions(row.id, hotfix.decisions)
        return self._to_domain(row, hotfix.decisions)

    def by_request_key(self, request_key: str) -> Hotfix | None:
        row = self.session.exec(select(HotfixRow).where(HotfixRow.request_key == request_key)).first()
        return self._hydrate(row)

    def get(self, number: int, *, for_update: bool = False) -> Hotfix | None:
        query = select(HotfixRow).where(HotfixRow.id == number)
        if for_update:
            query = query.with_for_update()
        return self._hydrate(self.session.exec(query).first())

    def get_many(self, numbers: list[int], *, for_update: bool = False) -> dict[int, Hotfix]:
        """Several hotfixes in two queries (rows locked in id order, so concurrent callers cannot deadlock)."""
        query = select(HotfixRow).where(col(HotfixRow.id).in_(numbers)).order_by(HotfixRow.id)
        rows = self.session.exec(query.with_for_update() if for_update else query).all()
        decisions: dict[int, list[Decision]] = {}
        for d in self.session.exec(select(DecisionRow).where(col(DecisionRow.hotfix_id).in_(numbers))
                                   .order_by(DecisionRow.id)).all():
            decisions.setdefault(d.hotfix_id, []).append(Decision(d.role, d.user_id, d.at, d.approved, d.reason))
        for row in rows:
            self._versions[row.id] = row.version
        return {row.id: self._to_domain(row, tuple(decisions.get(row.id, ()))) for row in rows}

    def active(self) -> list[Hotfix]:
        inactive = [Stage.CLOSED.value, Stage.REJECTED.value]
        numbers = self.session.exec(select(HotfixRow.id).where(col(HotfixRow.stage).not_in(inactive))).all()
        return list(self.get_many(list(numbers)).values())

    def save(self, before: Hotfix, after: Hotfix) -> None:
        number = after.number
        assert number is not None and number in self._versions, "save() takes a hotfix loaded in this unit of work"
        version = self._versions[number]
        changes = _columns(after) | {"stage": after.stage.value}
        result = self.session.execute(
            update(HotfixRow)
            .where(HotfixRow.id == number, HotfixRow.version == version)
            .values(version=version + 1, **changes)
        )
        if result.rowcount != 1:
            raise StaleWrite(after.key)
        self._versions[number] = version + 1
        self._add_decisions(number, after.decisions[len(before.decisions):])

    def append_events(self, number: int, events: Sequence[Event]) -> list[int]:
        """One Core insert (building ORM objects costs more than the database does); returns the new ids."""
        if not events:
            return []
        table = EventRow.__table__
        inserted = self.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), [
            {"hotfix_id": number, "kind": e.kind.value, "actor": e.actor, "at": e.at,
             "detail": detail_to_json(e.detail)} for e in events
        ])
        return list(inserted.scalars())

    def events(self, number: int) -> list[Event]:
        rows = self.session.exec(select(EventRow).where(EventRow.hotfix_id == number).order_by(EventRow.id))
        return [self._event(row) for row in rows.all()]

    def events_of(self, numbers: list[int]) -> dict[int, list[Event]]:
        """The events of several hotfixes in one query, each hotfix's oldest first."""
        rows = self.session.exec(select(EventRow).where(col(EventRow.hotfix_id).in_(numbers)).order_by(EventRow.id))
        found: dict[int, list[Event]] = {number: [] for number in numbers}
        for row in rows.all():
            found[row.hotfix_id].append(self._event(row))
        return found

    def _add_decisions(self, number: int, decisions: tuple[Decision, ...]) -> None:
        self.session.add_all(
            DecisionRow(hotfix_id=number, role=d.role, user_id=d.user_id, approved=d.approved, reason=d.reason, at=d.at)
            for d in decisions
        )
        self.session.flush()

    def _hydrate(self, row: HotfixRow | None) -> Hotfix | None:
        if row is None:
            return None
        self._versions[row.id] = row.version
        decisions = self.session.exec(
            select(DecisionRow).where(DecisionRow.hotfix_id == row.id).order_by(DecisionRow.id)
        ).all()
        return self._to_domain(row, tuple(Decision(d.role, d.user_id, d.at, d.approved, d.reason) for d in decisions))

    @staticmethod
    def _to_domain(row: HotfixRow, decisions: tuple[Decision, ...]) -> Hotfix:
        return Hotfix(
            number=row.id, severity=Severity(row.severity), stage=Stage(row.stage), decisions=decisions,
            **{name: getattr(row, name) for name in _COPIED},
            **{name: tuple(filter(None, getattr(row, name).split(","))) for name in _LISTS},
        )

    @staticmethod
    def _event(row: EventRow) -> Event:
        return Event(EventKind(row.kind), row.actor, row.at, detail_from_json(row.detail))


def _columns(hotfix: Hotfix) -> dict:
    return {name: getattr(hotfix, name) for name in _COPIED} | {name: ",".join(getattr(hotfix, name)) for name in _LISTS}
