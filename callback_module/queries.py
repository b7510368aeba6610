"""Reading entries for the lists, the API and the CLI: by state, group and period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import Entry, EntryCall, Group, Settings
from .rules.period import period_intervals


def current_intervals(period: str | None = None,
                      now: datetime | None = None) -> list[tuple[datetime, datetime]] | None:
    """The configured (or given) period as UTC intervals; None for ``all``."""
    settings = Settings.load()
    period = period or settings.period
    if period.lower() == "all":
        return None
    return period_intervals(period, now or datetime.now(UTC), ZoneInfo(settings.timezone or "UTC"),
                            settings.skip_saturdays, settings.skip_sundays)


def entries_select(states: Sequence[str] | None = None, group_ids: Sequence[int] | None = None,
                   intervals: list[tuple[datetime, datetime]] | None = None) -> Select:
    """Entries with a missed call inside the period, requested and oldest-waiting first."""
    query = select(Entry)
    if states:
        query = query.where(Entry.state.in_(states))
    if group_ids is not None:
        query = query.where(Entry.group_id.in_(group_ids))
    if intervals is not None:
        inside = or_(*(and_(EntryCall.at >= start, EntryCall.at < end)
                       for start, end in intervals))
        query = query.where(exists().where(EntryCall.entry_id == Entry.id, inside))
    return query


def list_entries(states=None, group_ids=None, intervals=None, *, offset: int = 0,
                 limit: int | None = None) -> list[Entry]:
    query = entries_select(states, group_ids, intervals).options(
        selectinload(Entry.calls), selectinload(Entry.attempts), selectinload(Entry.group)
    ).order_by(Entry.first_call_at, Entry.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def count_by_state(group_ids: Sequence[int] | None, intervals) -> dict[str, int]:
    query = entries_select(None, group_ids, intervals).with_only_columns(
        Entry.state, func.count()).group_by(Entry.state)
    counts = {"open": 0, "attempts": 0, "done": 0, "not_reached": 0}
    counts.update({state: n for state, n in db.session.execute(query).all()})
    return counts


def group_ids_named(names: Sequence[str]) -> list[int]:
    return list(db.session.scalars(select(Group.id).where(Group.name.in_(names))))
