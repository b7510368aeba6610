"""The period of SPEC §2: calendar days counted back over days that are not skipped, as UTC
intervals in the PBX's time zone; WEEK and LAST_7_DAYS ignore the skip flags."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callback_module.rules.period import in_period, period_days, period_intervals

BERLIN = ZoneInfo("Europe/Berlin")
SAT, MON = date(2026, 11, 21), date(2026, 11, 23)
SUN = date(2026, 11, 22)


def nov(*days: int) -> list[date]:
    return [date(2026, 11, d) for d in days]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


NONE, SATS, SUNS, BOTH = (False, False), (True, False), (False, True), (True, True)
DAYS = [
    # seen from Monday 23 November 2026
    pytest.param(MON, "TODAY", NONE, nov(23), id="mon-today"),
    pytest.param(MON, "TODAY", BOTH, nov(23), id="mon-today-skip-weekend"),
    pytest.param(MON, "YESTERDAY", NONE, nov(23, 22), id="mon-yesterday"),
    pytest.param(MON, "YESTERDAY", SATS, nov(23, 22), id="mon-yesterday-skip-sat"),
    pytest.param(MON, "YESTERDAY", SUNS, nov(23, 21), id="mon-yesterday-skip-sun"),
    pytest.param(MON, "YESTERDAY", BOTH, nov(23, 20), id="mon-yesterday-skip-weekend-is-fri"),
    pytest.param(MON, "LAST_2_DAYS", NONE, nov(23, 22, 21), id="mon-last-2"),
    pytest.param(MON, "LAST_2_DAYS", SATS, nov(23, 22, 20), id="mon-last-2-skip-sat"),
    pytest.param(MON, "LAST_2_DAYS", SUNS, nov(23, 21, 20), id="mon-last-2-skip-sun"),
    pytest.param(MON, "LAST_2_DAYS", BOTH, nov(23, 20, 19), id="mon-last-2-skip-weekend"),
    pytest.param(MON, "LAST_3_DAYS", NONE, nov(23, 22, 21, 20), id="mon-last-3"),
    pytest.param(MON, "LAST_3_DAYS", BOTH, nov(23, 20, 19, 18), id="mon-last-3-skip-weekend"),
    # seen from Sunday 22 November 2026
    pytest.param(SUN, "TODAY", NONE, nov(22), id="sun-today"),
    pytest.param(SUN, "TODAY", SATS, nov(22), id="sun-today-skip-sat"),
    pytest.param(SUN, "TODAY", SUNS, nov(21), id="sun-today-skip-sun-is-sat"),
    pytest.param(SUN, "TODAY", BOTH, nov(20), id="sun-today-skip-weekend-is-fri"),
    pytest.param(SUN, "YESTERDAY", NONE, nov(22, 21), id="sun-yesterday"),
    pytest.param(SUN, "YESTERDAY", SATS, nov(22, 20), id="sun-yesterday-skip-sat"),
    pytest.param(SUN, "YESTERDAY", SUNS, nov(21, 20), id="sun-yesterday-skip-sun"),
    pytest.param(SUN, "YESTERDAY", BOTH, nov(20, 19), id="sun-yesterday-skip-weekend"),
    pytest.param(SUN, "LAST_2_DAYS", BOTH, nov(20, 19, 18), id="sun-last-2-skip-weekend"),
    pytest.param(SUN, "LAST_3_DAYS", NONE, nov(22, 21, 20, 19), id="sun-last-3"),
    pytest.param(SUN, "LAST_3_DAYS", BOTH, nov(20, 19, 18, 17), id="sun-last-3-skip-weekend"),
    # seen from Saturday 21 November 2026
    pytest.param(SAT, "TODAY", NONE, nov(21), id="sat-today"),
    pytest.param(SAT, "TODAY", SATS, nov(20), id="sat-today-skip-sat-is-fri"),
    pytest.param(SAT, "TODAY", SUNS, nov(21), id="sat-today-skip-sun"),
    pytest.param(SAT, "TODAY", BOTH, nov(20), id="sat-today-skip-weekend"),
    pytest.param(SAT, "YESTERDAY", NONE, nov(21, 20), id="sat-yesterday"),
    pytest.param(SAT, "YESTERDAY", SATS, nov(20, 19), id="sat-yesterday-skip-sat"),
    pytest.param(SAT, "YESTERDAY", BOTH, nov(20, 19), id="sat-yesterday-skip-weekend"),
    pytest.param(SAT, "LAST_2_DAYS", SUNS, nov(21, 20, 19), id="sat-last-2-skip-sun"),
    pytest.param(SAT, "LAST_3_DAYS", BOTH, nov(20, 19, 18, 17), id="sat-last-3-skip-weekend"),
    # midweek, with a weekend inside the period
    pytest.param(date(2026, 11, 18), "LAST_3_DAYS", BOTH, nov(18, 17, 16, 13),
                 id="wed-last-3-skip-weekend-reaches-fri"),
    pytest.param(date(2026, 11, 18), "LAST_3_DAYS", NONE, nov(18, 17, 16, 15),
                 id="wed-last-3"),
]


@pytest.mark.parametrize(("today", "period", "skip", "expected"), DAYS)
def test_period_days(today, period, skip, expected):
    assert period_days(period, today, *skip) == expected


@pytest.mark.parametrize("period", ["WEEK", "LAST_7_DAYS", "ALL", ""])
def test_period_days_only_for_day_periods(period):
    with pytest.raises(ValueError, match="not a day period"):
        period_days(period, MON)


INTERVALS = [
    pytest.param("2026-11-23T10:00", UTC, "TODAY", NONE,
                 [("2026-11-23T00:00", "2026-11-24T00:00")], id="today-utc"),
    pytest.param("2026-11-23T10:00", BERLIN, "TODAY", NONE,
                 [("2026-11-22T23:00", "2026-11-23T23:00")], id="today-berlin-winter"),
    pytest.param("2026-11-23T23:30", BERLIN, "TODAY", NONE,
                 [("2026-11-23T23:00", "2026-11-24T23:00")],
                 id="today-is-the-local-date-not-utc"),
    pytest.param("2026-11-23T10:00", BERLIN, "YESTERDAY", BOTH,
                 [("2026-11-19T23:00", "2026-11-20T23:00"),
                  ("2026-11-22T23:00", "2026-11-23T23:00")],
                 id="monday-yesterday-skip-weekend-friday-and-monday"),
    pytest.param("2026-11-23T10:00", BERLIN, "LAST_2_DAYS", NONE,
                 [("2026-11-20T23:00", "2026-11-23T23:00")], id="adjacent-days-merge"),
    pytest.param("2026-11-22T10:00", BERLIN, "TODAY", BOTH,
                 [("2026-11-19T23:00", "2026-11-20T23:00")], id="sunday-today-skip-weekend"),
    # DST ends in Berlin on Sunday 25 October 2026 (a 25-hour day), begins on 29 March (23 h).
    pytest.param("2026-10-25T12:00", BERLIN, "TODAY", NONE,
                 [("2026-10-24T22:00", "2026-10-25T23:00")], id="dst-end-day-25-hours"),
    pytest.param("2026-10-26T10:00", BERLIN, "YESTERDAY", NONE,
                 [("2026-10-24T22:00", "2026-10-26T23:00")], id="yesterday-across-dst-end"),
    pytest.param("2026-10-26T10:00", BERLIN, "YESTERDAY", BOTH,
                 [("2026-10-22T22:00", "2026-10-23T22:00"),
                  ("2026-10-25T23:00", "2026-10-26T23:00")],
                 id="friday-in-summer-time-monday-in-winter-time"),
    pytest.param("2026-03-29T12:00", BERLIN, "TODAY", NONE,
                 [("2026-03-28T23:00", "2026-03-29T22:00")], id="dst-start-day-23-hours"),
    pytest.param("2026-03-30T12:00", BERLIN, "LAST_2_DAYS", NONE,
                 [("2026-03-27T23:00", "2026-03-30T22:00")], id="last-2-across-dst-start"),
    pytest.param("2026-10-28T12:00", BERLIN, "WEEK", NONE,
                 [("2026-10-25T23:00", "9999-01-01T00:00")], id="week-from-monday-winter"),
    pytest.param("2026-10-25T12:00", BERLIN, "WEEK", NONE,
                 [("2026-10-18T22:00", "9999-01-01T00:00")],
                 id="week-started-in-summer-time"),
    pytest.param("2026-11-22T23:30", BERLIN, "WEEK", NONE,
                 [("2026-11-22T23:00", "9999-01-01T00:00")],
                 id="week-local-monday-00-30-is-a-new-week"),
    pytest.param("2026-11-22T12:00", BERLIN, "WEEK", BOTH,
                 [("2026-11-15T23:00", "9999-01-01T00:00")], id="week-ignores-skip-flags"),
    pytest.param("2026-10-28T12:00", BERLIN, "LAST_7_DAYS", NONE,
                 [("2026-10-21T12:00", "9999-01-01T00:00")],
                 id="last-7-days-is-168-hours-across-dst"),
    pytest.param("2026-11-23T10:00", BERLIN, "LAST_7_DAYS", BOTH,
                 [("2026-11-16T10:00", "9999-01-01T00:00")],
                 id="last-7-days-ignores-skip-flags"),
]


@pytest.mark.parametrize(("now", "tz", "period", "skip", "expected"), INTERVALS)
def test_period_intervals(now, tz, period, skip, expected):
    intervals = period_intervals(period, utc(now), tz, *skip)
    assert intervals == [(utc(start), utc(end)) for start, end in expected]
    assert all(start.tzinfo is UTC and end.tzinfo is UTC for start, end in intervals)


def test_now_in_another_zone_means_the_same_instant():
    now = utc("2026-11-23T10:00")
    assert period_intervals("TODAY", now.astimezone(BERLIN), BERLIN) == \
        period_intervals("TODAY", now, BERLIN)


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        period_intervals("TODAY", datetime(2026, 11, 23, 10), BERLIN)


def test_unknown_period_is_refused():
    with pytest.raises(ValueError, match="unknown period"):
        period_intervals("FORTNIGHT", utc("2026-11-23T10:00"), BERLIN)


MONDAY_YESTERDAY = period_intervals("YESTERDAY", utc("2026-11-23T10:00"), BERLIN, True, True)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(("at", "inside"), [
    pytest.param(utc("2026-11-19T23:00"), True, id="friday-00-00-local-start-inclusive"),
    pytest.param(utc("2026-11-19T23:00") - TICK, False, id="thursday-last-instant"),
    pytest.param(utc("2026-11-20T12:00"), True, id="friday-noon"),
    pytest.param(utc("2026-11-20T23:00") - TICK, True, id="friday-last-instant"),
    pytest.param(utc("2026-11-20T23:00"), False, id="saturday-00-00-end-exclusive"),
    pytest.param(utc("2026-11-21T12:00"), False, id="skipped-saturday"),
    pytest.param(utc("2026-11-22T12:00"), False, id="skipped-sunday"),
    pytest.param(utc("2026-11-22T23:00"), True, id="monday-00-00-local"),
    pytest.param(utc("2026-11-23T22:59:59"), True, id="monday-evening"),
    pytest.param(utc("2026-11-23T23:00"), False, id="tuesday-not-yet"),
])
def test_in_period_boundaries(at, inside):
    assert in_period(at, MONDAY_YESTERDAY) is inside


def test_in_period_of_no_intervals_is_false():
    assert not in_period(utc("2026-11-23T10:00"), [])


def test_week_keeps_calls_dated_a_little_ahead():
    week = period_intervals("WEEK", utc("2026-11-23T10:00"), BERLIN)
    assert in_period(utc("2026-11-23T10:05"), week)
    assert not in_period(utc("2026-11-22T22:59:59"), week)
