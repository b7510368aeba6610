"""queue_log lines as :class:`QueueEvent` objects: the file (``epoch|callid|queue|agent|event|…``)
and CSV exports of the realtime ``queue_log`` table. Only events about a caller are kept.

Lines come in as ``(line_no, text)`` pairs, already decoded (see :mod:`.follower`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, tzinfo

from ..records import QueueEvent
from .cdr import BadRow, split_line, to_utc
from .problems import ParseProblem

CALLER_EVENTS = frozenset((
    "ENTERQUEUE", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON", "EXITWITHTIMEOUT",
    "EXITEMPTY", "EXITWITHKEY", "WITHDRAW", "RINGNOANSWER", "RINGCANCELED", "BLINDTRANSFER",
    "ATTENDEDTRANSFER", "TRANSFER", "AGENTDUMP", "SYSCOMPAT", "DID"))
# Asterisk's own events about queues and members: never about a caller, so skipped quietly.
# ADDMEMBER may carry a caller's uniqueid when a dialplan adds the member.
MEMBER_EVENTS = frozenset((
    "QUEUESTART", "CONFIGRELOAD", "ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE", "PAUSEALL",
    "UNPAUSEALL", "PENALTY", "RINGINUSE", "AGENTLOGIN", "AGENTLOGOFF", "AGENTCALLBACKLOGIN",
    "AGENTCALLBACKLOGOFF", "OUTCALL"))
NOT_A_CALLER = frozenset(("", "NONE", "REALTIME", "MANAGER", "CLI"))

# Header names of realtime table exports; QueueMetrics' own table names are aliases.
_ALIASES = {"queue": "queuename", "call_id": "callid", "verb": "event", "time_id": "time"}
_DATA = ("data1", "data2", "data3", "data4", "data5")


def parse_queue_log(lines: Iterable[tuple[int, str]],
                    source: str) -> Iterator[QueueEvent | ParseProblem]:
    """Caller events of queue_log file lines; a ParseProblem for each line that is not one."""
    for line_no, text in lines:
        if not text.strip():
            continue
        fields = text.split("|")
        if len(fields) < 5:
            yield ParseProblem(source, line_no, f"{len(fields)} fields, a queue_log line has 5 "
                                                "or more (epoch|callid|queue|agent|event)")
            continue
        epoch, callid, queue, agent, event, *data = fields
        try:
            at = datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError):
            yield ParseProblem(source, line_no, f"time {epoch!r} is not epoch seconds")
            continue
        yield from _event(at, callid, queue, agent, event, data, source, line_no)


def _event(at: datetime, callid: str, queue: str, agent: str, event: str, data: list[str],
           source: str, line_no: int) -> Iterator[QueueEvent | ParseProblem]:
    event = event.strip().upper()
    if callid.strip().upper() in NOT_A_CALLER or event in MEMBER_EVENTS:
        return
    if event not in CALLER_EVENTS:
        yield ParseProblem(source, line_no, f"unknown queue_log event {event or '(empty)'}")
        return
    while data and not data[-1]:
        data.pop()
    yield QueueEvent(at=at, callid=callid, queue=queue, agent=agent, event=event,
                     data=tuple(data))


def queue_log_header(text: str) -> tuple[str, ...] | None:
    """The column names if ``text`` is the header row of a queue_log table export, else None."""
    try:
        names = tuple(_ALIASES.get(n, n) for n in (c.strip().lower() for c in split_line(text)))
    except BadRow:
        return None
    if {"time", "callid", "queuename", "event"} <= set(names):
        return names
    return None


def parse_queue_log_csv(lines: Iterable[tuple[int, str]], tz: tzinfo, source: str,
                        columns: Sequence[str] | None = None,
                        ) -> Iterator[QueueEvent | ParseProblem]:
    """Caller events of a realtime queue_log table export (CSV with a header row).

    ``columns`` is the header when reading on from the middle of the file; otherwise the first
    line must be the header. ``time`` is the PBX's local time unless it is epoch seconds
    (QueueMetrics' ``time_id``).
    """
    names = tuple(columns) if columns is not None else None
    for line_no, text in lines:
        if not text.strip():
            continue
        header = queue_log_header(text)
        if header is not None:
            names = header
            continue
        if names is None:
            yield ParseProblem(source, line_no, "queue_log CSV row before its header row")
            continue
        try:
            row = split_line(text)
            if len(row) != len(names):
                raise BadRow(f"{len(row)} columns, the header names {len(names)}")
            value = dict(zip(names, row, strict=True))
            at = to_utc(value["time"], tz, "time")
            if at is None:
                raise BadRow("time is empty")
        except BadRow as exc:
            yield ParseProblem(source, line_no, str(exc))
            continue
        yield from _event(at, value["callid"], value["queuename"], value.get("agent", ""),
                          value["event"], _data(value), source, line_no)


def _data(value: dict[str, str]) -> list[str]:
    # Adaptive tables fill data1..data5 (only 5 fields kept); legacy ones one |-joined "data".
    # FreePBX dumps have both columns, with only one of them filled.
    split = [value.get(name, "") for name in _DATA]
    if any(split) or not value.get("data"):
        return split
    return value["data"].split("|")
