"""Rows of the PBX's ``cdr`` and realtime ``queue_log`` tables as legs and queue events.

The same rules as the file parsers (:mod:`..parsers.cdr`, :mod:`..parsers.queue_log`), so the
same call read from Master.csv and from the database is the same leg, with the same key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from ..i18n import N_
from ..parsers.cdr import BadRow, to_utc
from ..parsers.problems import ParseProblem
from ..parsers.queue_log import CALLER_EVENTS, MEMBER_EVENTS, NOT_A_CALLER
from ..records import Leg, QueueEvent
from .base import ConnectorError

# FreePBX's cdr has calldate (= start) only; Asterisk's own alembic table has start/answer/end.
TIME_COLUMNS = ("calldate", "start")
CDR_REQUIRED = ("src", "dst", "channel", "dstchannel", "duration", "billsec", "disposition",
                "uniqueid")
# Absent from old or hand-made tables; select only what exists, never SELECT *.
CDR_OPTIONAL = ("clid", "dcontext", "lastapp", "lastdata", "answer", "end", "linkedid",
                "sequence", "did")
QUEUE_REQUIRED = ("id", "time", "callid", "queuename", "event")
QUEUE_OPTIONAL = ("agent", "data", "data1", "data2", "data3", "data4", "data5")
_DATA = ("data1", "data2", "data3", "data4", "data5")


def pick_columns(table: str, available: Iterable[str], required: Iterable[str],
                 optional: Iterable[str]) -> dict[str, str]:
    """Our column name -> the table's spelling, for the columns that exist; raises
    ConnectorError naming what is missing."""
    by_lower = {name.lower(): name for name in available}
    missing = [name for name in required if name not in by_lower]
    if missing:
        raise ConnectorError(N_("Table '%(table)s' has no column %(columns)s: is it Asterisk's "
                                "CDR or queue_log table?", table=table,
                                columns=", ".join(missing)))
    return {name: by_lower[name] for name in (*required, *optional) if name in by_lower}


def cdr_time_column(table: str, available: Iterable[str]) -> str:
    names = {name.lower() for name in available}
    for name in TIME_COLUMNS:
        if name in names:
            return name
    raise ConnectorError(N_("Table '%(table)s' has no calldate (or start) column: is it "
                            "Asterisk's CDR table?", table=table))


def pbx_time(value: Any, tz: tzinfo, what: str) -> datetime | None:
    """A time column's value as aware UTC: naive values are the PBX's local time (DATETIME,
    timestamp without time zone, strings); timestamptz values come aware and stay as they are."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    return to_utc(str(value), tz, what)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def leg_key(row: Mapping[str, Any]) -> str | None:
    """The leg's key when the row has uniqueid and sequence (Asterisk 12+), without building it."""
    uniqueid, sequence = row.get("uniqueid"), row.get("sequence")
    return f"{uniqueid}/{int(sequence)}" if uniqueid and sequence is not None else None


def row_to_leg(row: Mapping[str, Any], tz: tzinfo) -> Leg:
    """One cdr row as a leg; ``row`` is keyed by our column names. Raises BadRow."""
    start = pbx_time(row.get("calldate", row.get("start")), tz, "calldate")
    if start is None:
        raise BadRow("calldate is empty")
    duration, billsec = int(row.get("duration") or 0), int(row.get("billsec") or 0)
    disposition = _text(row.get("disposition")).strip()
    end = pbx_time(row.get("end"), tz, "end") or start + timedelta(seconds=duration)
    if "answer" in row:
        answer = pbx_time(row["answer"], tz, "answer")
    else:
        # As parsers.cdr: billsec counts back from the end; ANSWERED with billsec 0 (a Hangup()
        # row) was still answered.
        answered = billsec > 0 or disposition == "ANSWERED"
        answer = end - timedelta(seconds=billsec) if answered else None
    uniqueid, linkedid = _text(row.get("uniqueid")), _text(row.get("linkedid"))
    channel, dstchannel = _text(row.get("channel")), _text(row.get("dstchannel"))
    sequence = None if row.get("sequence") is None else int(row["sequence"])
    if uniqueid and sequence is not None:
        key = f"{uniqueid}/{sequence}"  # the file parsers' key: one row, one leg, any source
    else:  # no sequence column (Asterisk 11 and older)
        key = f"{uniqueid}/{channel}/{dstchannel}/{start.isoformat()}"
    return Leg(
        call_key=linkedid or uniqueid or f"{channel}@{start.isoformat()}", key=key,
        start=start, end=end, answer=answer, src=_text(row.get("src")),
        clid=_text(row.get("clid")), dst=_text(row.get("dst")),
        dcontext=_text(row.get("dcontext")), channel=channel, dstchannel=dstchannel,
        lastapp=_text(row.get("lastapp")), lastdata=_text(row.get("lastdata")),
        duration=duration, billsec=billsec, disposition=disposition, uniqueid=uniqueid,
        linkedid=linkedid, sequence=sequence, did=_text(row.get("did")))


def row_to_queue_event(row: Mapping[str, Any], tz: tzinfo,
                       source: str) -> QueueEvent | ParseProblem | None:
    """One queue_log row as a caller's event; None for member and admin events (as the file
    parser skips them), a ParseProblem for an unknown event or time."""
    line_no = int(row["id"])
    event = _text(row.get("event")).strip().upper()
    callid = _text(row.get("callid"))
    if callid.strip().upper() in NOT_A_CALLER or event in MEMBER_EVENTS:
        return None
    if event not in CALLER_EVENTS:
        return ParseProblem(source, line_no, f"unknown queue_log event {event or '(empty)'}")
    try:
        at = pbx_time(row.get("time"), tz, "time")
    except BadRow as exc:
        return ParseProblem(source, line_no, str(exc))
    if at is None:
        return ParseProblem(source, line_no, "time is empty")
    # Adaptive tables fill data1..data5, legacy ones a |-joined data; FreePBX has both columns.
    data = [_text(row.get(name)) for name in _DATA]
    if not any(data) and row.get("data"):
        data = _text(row["data"]).split("|")
    while data and not data[-1]:
        data.pop()
    return QueueEvent(at=at, callid=callid, queue=_text(row.get("queuename")),
                      agent=_text(row.get("agent")), event=event, data=tuple(data))
