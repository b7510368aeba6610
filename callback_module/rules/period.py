"""Which calls the lists show: the period of SPEC §2, as UTC intervals.

The period is only a view: it filters, it never changes or deletes an entry.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from ..settings_schema import DAY_PERIODS

_DAYS_BACK = {"TODAY": 0, "YESTERDAY": 1, "LAST_2_DAYS": 2, "LAST_3_DAYS": 3}


def period_days(period: str, today: date, skip_saturdays: bool = False,
                skip_sundays: bool = False) -> list[date]:
    """The calendar days of a day period, newest first, counted back over non-skipped days.

    TODAY is the most recent non-skipped day up to today; each further day of the period is
    the non-skipped day before the last one taken.
    """
    if period not in _DAYS_BACK:
        raise ValueError(f"{period} is not a day period")
    skipped = {5} if skip_saturdays else set()
    if skip_sundays:
        skipped.add(6)
    days: list[date] = []
    day = today
    while len(days) <= _DAYS_BACK[period]:
        if day.weekday() not in skipped:
            days.append(day)
        day -= timedelta(days=1)
    return days


def period_intervals(period: str, now: datetime, tz: tzinfo, skip_saturdays: bool = False,
                     skip_sundays: bool = False) -> list[tuple[datetime, datetime]]:
    """The period as half-open UTC intervals [start, end), oldest first; adjacent days merge."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(tz)
    if period == "LAST_7_DAYS":
        return [((now - timedelta(days=7)).astimezone(UTC), _far_future())]
    if period == "WEEK":
        monday = local_now.date() - timedelta(days=local_now.weekday())
        return [(_local_midnight(monday, tz), _far_future())]
    if period not in DAY_PERIODS:
        raise ValueError(f"unknown period {period!r}")
    intervals: list[tuple[datetime, datetime]] = []
    for day in sorted(period_days(period, local_now.date(), skip_saturdays, skip_sundays)):
        start = _local_midnight(day, tz)
        end = _local_midnight(day + timedelta(days=1), tz)
        if intervals and intervals[-1][1] == start:
            intervals[-1] = (intervals[-1][0], end)
        else:
            intervals.append((start, end))
    return intervals


def in_period(at: datetime, intervals: list[tuple[datetime, datetime]]) -> bool:
    return any(start <= at < end for start, end in intervals)


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _far_future() -> datetime:
    # Calls dated a little ahead (a PBX clock that runs fast) still belong to "now".
    return datetime(9999, 1, 1, tzinfo=UTC)
