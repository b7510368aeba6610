"""queue_log parsing against run A's queue_log (tests/data/asterisk_queue_log, unchanged) and
asterisk_queue_log_realtime.csv: the same lines as an export of the realtime table with
data1..data5, times written in Europe/Berlin local time as a PBX in Germany would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callback_module.parsers.follower import read_lines
from callback_module.parsers.problems import ParseProblem
from callback_module.parsers.queue_log import parse_queue_log, parse_queue_log_csv
from callback_module.records import QueueEvent

DATA = Path(__file__).parent / "data"
BERLIN = ZoneInfo("Europe/Berlin")


def split(out):
    out = list(out)
    return ([x for x in out if isinstance(x, QueueEvent)],
            [x for x in out if isinstance(x, ParseProblem)])


@pytest.fixture(scope="module")
def events():
    events, problems = split(parse_queue_log(read_lines(DATA / "asterisk_queue_log"),
                                             "queue_log"))
    assert problems == []
    return events


def test_file_lines_become_caller_events(events):
    assert len(events) == 25  # all but QUEUESTART
    enter = events[0]
    assert enter == QueueEvent(at=datetime(2026, 11, 22, 6, 11, 6, tzinfo=UTC),
                               callid="1795327866.0", queue="support", agent="NONE",
                               event="ENTERQUEUE", data=("", "+49301110001", "1"))
    assert (events[1].agent, events[1].event, events[1].data) == (
        "Anna Agent", "RINGCANCELED", ("7503",))


def test_abandon_and_timeout_are_told_apart(events):
    last = {e.callid: e for e in events}
    assert (last["1795327866.0"].event, last["1795327866.0"].data) == ("ABANDON", ("1", "1", "8"))
    s09 = last["1795328063.29"]
    assert (s09.event, s09.data) == ("EXITWITHTIMEOUT", ("1", "1", "30"))
    assert last["1795328164.45"].event == "COMPLETECALLER"


def test_member_and_admin_lines_are_skipped_quietly():
    lines = list(enumerate([
        "1795327857|NONE|NONE|NONE|QUEUESTART|",
        "1795327858|NONE|NONE|NONE|CONFIGRELOAD|",
        "1795327859|MANAGER|support|SIP/201|ADDMEMBER|",
        "1795327860|1795327866.0|support|SIP/203|ADDMEMBER|",
        "1795327861|NONE|support|Anna Agent|PAUSE|lunch",
        "1795327862|REALTIME|support|Anna Agent|REMOVEMEMBER|",
        "1795327863|CLI|NONE|Anna Agent|PAUSEALL|",
        "",
        "1795327889|1795327880.3|support|Anna Agent|COMPLETECALLER|3|6|1||",
    ], 1))
    events, problems = split(parse_queue_log(lines, "queue_log"))
    assert problems == []
    assert [(e.event, e.data) for e in events] == [("COMPLETECALLER", ("3", "6", "1"))]


def test_broken_lines_and_unknown_events_are_reported():
    lines = read_lines(DATA / "asterisk_queue_log")
    lines[2] = (3, "1795327874|1795327866.0|support|Anna Agent|FOOBAR|7503")
    lines[4] = (5, "17953278x4|1795327866.0|support|NONE|ABANDON|1|1|8")
    lines[6] = (7, "1795327883|1795327880.3|support")
    events, problems = split(parse_queue_log(lines, "queue_log"))
    assert problems == [
        ParseProblem("queue_log", 3, "unknown queue_log event FOOBAR"),
        ParseProblem("queue_log", 5, "time '17953278x4' is not epoch seconds"),
        ParseProblem("queue_log", 7, "3 fields, a queue_log line has 5 or more "
                                     "(epoch|callid|queue|agent|event)")]
    assert len(events) == 25 - 3


def test_realtime_export_gives_the_same_events_as_the_file(events):
    csv_events, problems = split(parse_queue_log_csv(
        read_lines(DATA / "asterisk_queue_log_realtime.csv"), BERLIN, "queue_log.csv"))
    assert problems == []
    assert csv_events == events
    assert [e.key for e in csv_events] == [e.key for e in events]


def legacy_export():
    """The realtime export as a legacy table with one |-joined ``data`` column and no id."""
    lines = []
    for line_no, text in read_lines(DATA / "asterisk_queue_log_realtime.csv"):
        cells = text.split(",")
        data = "data" if line_no == 1 else "|".join(cells[6:])
        lines.append((line_no, ",".join([*cells[1:6], data])))
    return lines


def test_legacy_single_data_column(events):
    csv_events, problems = split(parse_queue_log_csv(legacy_export(), BERLIN, "ql.csv"))
    assert problems == [] and csv_events == events


def test_reading_on_from_the_middle_needs_the_header_columns(events):
    lines = read_lines(DATA / "asterisk_queue_log_realtime.csv")
    header = tuple(lines[0][1].split(","))
    csv_events, problems = split(parse_queue_log_csv(lines[10:], BERLIN, "ql.csv", header))
    assert problems == [] and csv_events == events[8:]
    _, problems = split(parse_queue_log_csv(lines[10:11], BERLIN, "ql.csv"))
    assert problems == [ParseProblem("ql.csv", 11, "queue_log CSV row before its header row")]


def test_realtime_export_broken_rows():
    lines = read_lines(DATA / "asterisk_queue_log_realtime.csv")[:4]
    lines[2] = (3, lines[2][1].replace("2026-11-22 07:11:06", "yesterday"))
    lines[3] = (4, lines[3][1] + ",extra")
    events, problems = split(parse_queue_log_csv(lines, BERLIN, "ql.csv"))
    assert events == []
    assert [(p.line_no, p.reason) for p in problems] == [
        (3, "time 'yesterday.000000' is not a date and time"),
        (4, "12 columns, the header names 11")]
