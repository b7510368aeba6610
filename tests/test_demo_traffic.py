"""Tests of the demo PBX's traffic generator (callback_module/connectors/demo_traffic.py)."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from callback_module.connectors.demo_traffic import (
    DEMO_GROUPS,
    DEMO_USERS,
    KINDS,
    DemoCall,
    DemoPbx,
)
from callback_module.numbers import to_e164
from callback_module.parsers.cdr import detect_cdr_layout, parse_cdr
from callback_module.parsers.follower import read_lines
from callback_module.parsers.problems import ParseProblem
from callback_module.parsers.queue_log import parse_queue_log
from callback_module.parsers.sniff import FileKind, sniff
from callback_module.records import Leg, QueueEvent, assemble
from callback_module.rules.classify import InboundCall, OutboundCall, classify
from callback_module.rules.entries import build_entries
from callback_module.rules.policy import GroupDef, Policy

T0 = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
GROUP_OF_DID = {"4930555100": "support", "4930555200": "sales", "4930555300": "hotline"}
MISSED = {"queue_abandon", "queue_timeout", "ringall_missed", "ringall_voicemail",
          "hunt_missed"}
INT_COLUMNS = {12, 13, 20}  # duration, billsec, sequence: written without quotes

# Recorded by the real Asterisk 20 of fixtures/asterisk, run A (unanswered=yes,
# congestion=yes): Master.csv rows and queue_log lines of S01, S02, S03, S04, S05, S06a, S06b,
# S06c, S07, S08, S09, S11, S12 and S14, one call after the other.
RECORDED = '''\
"","+49301110001","4930555100","from-pstn","""Mueller"" <+49301110001>","SIP/carrier-00000000","SIP/201-00000001","Queue","support,r,,,30","2026-11-22 06:11:06","2026-11-22 06:11:06","2026-11-22 06:11:14",8,8,"NO ANSWER","DOCUMENTATION","1795327866.0","","","1795327866.0",0
"","+49301110001","4930555100","from-pstn","""Mueller"" <+49301110001>","SIP/carrier-00000000","SIP/202-00000002","Queue","support,r,,,30","2026-11-22 06:11:06","2026-11-22 06:11:06","2026-11-22 06:11:14",7,7,"NO ANSWER","DOCUMENTATION","1795327866.0","","","1795327866.0",3
1795327866|1795327866.0|support|NONE|ENTERQUEUE||+49301110001|1
1795327874|1795327866.0|support|Anna Agent|RINGCANCELED|7503
1795327874|1795327866.0|support|Ben Agent|RINGCANCELED|7503
1795327874|1795327866.0|support|NONE|ABANDON|1|1|8
"","+49301110002","4930555100","from-pstn","""Schmidt"" <+49301110002>","SIP/carrier-00000003","SIP/201-00000004","Queue","support,r,,,30","2026-11-22 06:11:20","2026-11-22 06:11:20","2026-11-22 06:11:29",8,8,"ANSWERED","DOCUMENTATION","1795327880.3","","","1795327880.3",4
"","+49301110002","4930555100","from-pstn","""Schmidt"" <+49301110002>","SIP/carrier-00000003","SIP/202-00000005","Queue","support,r,,,30","2026-11-22 06:11:20","2026-11-22 06:11:20","2026-11-22 06:11:23",3,3,"NO ANSWER","DOCUMENTATION","1795327880.3","","","1795327880.3",7
1795327880|1795327880.3|support|NONE|ENTERQUEUE||+49301110002|1
1795327883|1795327880.3|support|Anna Agent|CONNECT|3|1795327880.4|3
1795327889|1795327880.3|support|Anna Agent|COMPLETECALLER|3|6|1
"","+49301110004","4930555200","from-pstn","""Weber"" <+49301110004>","SIP/carrier-00000006","SIP/203-00000007","Dial","SIP/203&SIP/204,20","2026-11-22 06:11:36",,"2026-11-22 06:11:56",20,0,"NO ANSWER","DOCUMENTATION","1795327896.6","","","1795327896.6",8
"","+49301110004","4930555200","from-pstn","""Weber"" <+49301110004>","SIP/carrier-00000006","SIP/204-00000008","Dial","SIP/203&SIP/204,20","2026-11-22 06:11:36",,"2026-11-22 06:11:36",0,0,"BUSY","DOCUMENTATION","1795327896.6","","","1795327896.6",11
"","+49301110004","4930555200","from-pstn","""Weber"" <+49301110004>","SIP/carrier-00000006","","VoiceMail","200@default,u","2026-11-22 06:11:56","2026-11-22 06:11:56","2026-11-22 06:12:05",9,9,"ANSWERED","DOCUMENTATION","1795327896.6","","","1795327896.6",12
"","+49301110001","4930555200","from-pstn","""Mueller"" <+49301110001>","SIP/carrier-00000009","SIP/203-0000000a","Dial","SIP/203&SIP/204,20","2026-11-22 06:12:11","2026-11-22 06:12:15","2026-11-22 06:12:21",10,6,"ANSWERED","DOCUMENTATION","1795327931.9","","","1795327931.9",13
"","+49301110001","4930555200","from-pstn","""Mueller"" <+49301110001>","SIP/carrier-00000009","SIP/204-0000000b","Dial","SIP/203&SIP/204,20","2026-11-22 06:12:11",,"2026-11-22 06:12:15",4,0,"NO ANSWER","DOCUMENTATION","1795327931.9","","","1795327931.9",16
"","+49301110005","4930555300","from-pstn","""Becker"" <+49301110005>","SIP/carrier-0000000c","SIP/203-0000000d","Dial","SIP/203,10","2026-11-22 06:12:28",,"2026-11-22 06:12:38",10,0,"NO ANSWER","DOCUMENTATION","1795327948.12","","","1795327948.12",17
"","+49301110005","4930555300","from-pstn","""Becker"" <+49301110005>","SIP/carrier-0000000c","SIP/204-0000000e","Dial","SIP/204,10","2026-11-22 06:12:38",,"2026-11-22 06:12:48",10,0,"NO ANSWER","DOCUMENTATION","1795327948.12","","","1795327948.12",19
"","+49301110005","4930555300","from-pstn","""Becker"" <+49301110005>","SIP/carrier-0000000c","","Hangup","","2026-11-22 06:12:48",,"2026-11-22 06:12:48",0,0,"NO ANSWER","DOCUMENTATION","1795327948.12","","","1795327948.12",21
"","202","+49301110001","outbound","""Ben Agent"" <202>","SIP/202-0000000f","SIP/carrier-00000010","Dial","SIP/carrier/+49301110001,25,b(outbound-cid^s^1)","2026-11-22 06:12:55",,"2026-11-22 06:12:55",0,0,"BUSY","DOCUMENTATION","1795327975.15","","","1795327975.15",22
"","202","+49301110001","outbound","""Ben Agent"" <202>","SIP/202-0000000f","","Hangup","","2026-11-22 06:12:55",,"2026-11-22 06:12:55",0,0,"BUSY","DOCUMENTATION","1795327975.15","","","1795327975.15",24
"","202","+49301110001","outbound","""Ben Agent"" <202>","SIP/202-00000011","SIP/carrier-00000012","Dial","SIP/carrier/+49301110001,25,b(outbound-cid^s^1)","2026-11-22 06:13:01",,"2026-11-22 06:13:26",25,0,"NO ANSWER","DOCUMENTATION","1795327981.17","","","1795327981.17",25
"","202","+49301110001","outbound","""Ben Agent"" <202>","SIP/202-00000011","","Hangup","","2026-11-22 06:13:26",,"2026-11-22 06:13:26",0,0,"NO ANSWER","DOCUMENTATION","1795327981.17","","","1795327981.17",27
"","202","+49301110001","outbound","""Ben Agent"" <202>","SIP/202-00000013","SIP/carrier-00000014","Dial","SIP/carrier/+49301110001,25,b(outbound-cid^s^1)","2026-11-22 06:13:33","2026-11-22 06:13:36","2026-11-22 06:13:39",6,3,"ANSWERED","DOCUMENTATION","1795328013.19","","","1795328013.19",28
"","+49301110007","4930555200","from-pstn","""Kurz"" <+49301110007>","SIP/carrier-00000015","SIP/203-00000016","Dial","SIP/203&SIP/204,20","2026-11-22 06:13:46",,"2026-11-22 06:13:47",1,0,"NO ANSWER","DOCUMENTATION","1795328026.21","","","1795328026.21",30
"","+49301110007","4930555200","from-pstn","""Kurz"" <+49301110007>","SIP/carrier-00000015","SIP/204-00000017","Dial","SIP/203&SIP/204,20","2026-11-22 06:13:46",,"2026-11-22 06:13:47",1,0,"NO ANSWER","DOCUMENTATION","1795328026.21","","","1795328026.21",33
"","201","202","from-internal","""Anna Agent"" <201>","SIP/201-0000001b","SIP/202-0000001c","Dial","SIP/202,15","2026-11-22 06:14:02",,"2026-11-22 06:14:17",15,0,"NO ANSWER","DOCUMENTATION","1795328042.27","","","1795328042.27",38
"","201","202","from-internal","""Anna Agent"" <201>","SIP/201-0000001b","","Hangup","","2026-11-22 06:14:17",,"2026-11-22 06:14:17",0,0,"NO ANSWER","DOCUMENTATION","1795328042.27","","","1795328042.27",40
"","anonymous","4930555100","from-pstn","""Anonymous"" <anonymous>","SIP/carrier-0000001d","SIP/201-0000001e","Queue","support,r,,,30","2026-11-22 06:14:23","2026-11-22 06:14:23","2026-11-22 06:14:39",15,15,"NO ANSWER","DOCUMENTATION","1795328063.29","","","1795328063.29",41
"","anonymous","4930555100","from-pstn","""Anonymous"" <anonymous>","SIP/carrier-0000001d","SIP/202-0000001f","Queue","support,r,,,30","2026-11-22 06:14:24","2026-11-22 06:14:24","2026-11-22 06:14:39",15,15,"NO ANSWER","DOCUMENTATION","1795328063.29","","","1795328063.29",44
"","anonymous","4930555100","from-pstn","""Anonymous"" <anonymous>","SIP/carrier-0000001d","SIP/201-00000020","Queue","support,r,,,30","2026-11-22 06:14:42","2026-11-22 06:14:42","2026-11-22 06:14:54",12,12,"NO ANSWER","DOCUMENTATION","1795328063.29","","","1795328063.29",46
"","anonymous","4930555100","from-pstn","""Anonymous"" <anonymous>","SIP/carrier-0000001d","SIP/202-00000021","Queue","support,r,,,30","2026-11-22 06:14:42","2026-11-22 06:14:42","2026-11-22 06:14:54",12,12,"NO ANSWER","DOCUMENTATION","1795328063.29","","","1795328063.29",48
"","anonymous","4930555100","from-pstn","""Anonymous"" <anonymous>","SIP/carrier-0000001d","","Hangup","","2026-11-22 06:14:54","2026-11-22 06:14:54","2026-11-22 06:14:54",0,0,"ANSWERED","DOCUMENTATION","1795328063.29","","","1795328063.29",49
1795328064|1795328063.29|support|NONE|ENTERQUEUE||anonymous|1
1795328079|1795328063.29|support|Anna Agent|RINGNOANSWER|15000
1795328079|1795328063.29|support|Ben Agent|RINGNOANSWER|15000
1795328094|1795328063.29|support|Anna Agent|RINGNOANSWER|12000
1795328094|1795328063.29|support|Ben Agent|RINGNOANSWER|12000
1795328094|1795328063.29|support|NONE|EXITWITHTIMEOUT|1|1|30
"","+49301110006","4930555300","from-pstn","""Hoffmann"" <+49301110006>","SIP/carrier-0000002a","SIP/203-0000002b","Dial","SIP/203,10","2026-11-22 06:15:42",,"2026-11-22 06:15:52",10,0,"NO ANSWER","DOCUMENTATION","1795328142.42","","","1795328142.42",60
"","+49301110006","4930555300","from-pstn","""Hoffmann"" <+49301110006>","SIP/carrier-0000002a","SIP/204-0000002c","Dial","SIP/204,10","2026-11-22 06:15:52","2026-11-22 06:15:54","2026-11-22 06:15:58",6,4,"ANSWERED","DOCUMENTATION","1795328142.42","","","1795328142.42",62
"","+49301110008","4930555100","from-pstn","""Wagner"" <+49301110008>","SIP/carrier-0000002d","SIP/201-0000002e","Queue","support,r,,,30","2026-11-22 06:16:04","2026-11-22 06:16:04","2026-11-22 06:16:04",0,0,"BUSY","DOCUMENTATION","1795328164.45","","","1795328164.45",64
"","+49301110008","4930555100","from-pstn","""Wagner"" <+49301110008>","SIP/carrier-0000002d","SIP/202-0000002f","Queue","support,r,,,30","2026-11-22 06:16:04","2026-11-22 06:16:04","2026-11-22 06:16:10",6,6,"ANSWERED","DOCUMENTATION","1795328164.45","","","1795328164.45",67
1795328164|1795328164.45|support|NONE|ENTERQUEUE||+49301110008|1
1795328164|1795328164.45|support|Anna Agent|RINGNOANSWER|0
1795328166|1795328164.45|support|Ben Agent|CONNECT|2|1795328164.47|2
1795328170|1795328164.45|support|Ben Agent|COMPLETECALLER|2|4|1
"","203","+49301110005","outbound","""Clara Agent"" <203>","SIP/203-00000032","SIP/carrier-00000033","Dial","SIP/carrier/+49301110005,25,b(outbound-cid^s^1)","2026-11-22 06:16:39",,"2026-11-22 06:16:39",0,0,"CONGESTION","DOCUMENTATION","1795328199.50","","","1795328199.50",71
"","203","+49301110005","outbound","""Clara Agent"" <203>","SIP/203-00000032","","Hangup","","2026-11-22 06:16:39",,"2026-11-22 06:16:39",0,0,"CONGESTION","DOCUMENTATION","1795328199.50","","","1795328199.50",73
'''  # noqa: E501


@pytest.fixture(scope="module")
def day() -> list[DemoCall]:
    return DemoPbx().calls_between(T0, T0 + timedelta(hours=24))


def fields(line: str) -> list[str]:
    return next(csv.reader([line]))


def rows(call: DemoCall) -> list[list[str]]:
    return [fields(line) for line in call.cdr_lines]


def events(call: DemoCall) -> list[list[str]]:
    return [line.rstrip("\n").split("|") for line in call.queue_log_lines]


def shape(line: str) -> str:
    """A line with its numbers, channel counters and caller names masked."""
    line = re.sub(r"-[0-9a-f]{8}\"", '-X"', line)
    line = re.sub(r'""[^"]+""', '""N""', line)
    return re.sub(r"\d+", "9", line)


def call_shape(cdr_lines, queue_log_lines) -> tuple[str, ...]:
    return tuple(map(shape, cdr_lines)) + tuple(map(shape, queue_log_lines))


def test_same_seed_same_calls_and_another_seed_other_calls():
    end = T0 + timedelta(hours=3)
    first = DemoPbx(seed=11).calls_between(T0, end)
    assert first == DemoPbx(seed=11).calls_between(T0, end)
    assert first != DemoPbx(seed=12).calls_between(T0, end)
    assert len(first) > 100


@pytest.mark.parametrize("cuts", [
    [timedelta(minutes=60)],
    [timedelta(seconds=7.5), timedelta(minutes=31, seconds=0.123), timedelta(minutes=89)],
    [timedelta(seconds=5 * i) for i in range(1, 360)],  # ticks of a live connector
], ids=["halves", "odd-cuts", "5s-ticks"])
def test_splitting_the_window_gives_the_same_calls(cuts):
    end = T0 + timedelta(hours=2)
    whole = DemoPbx().calls_between(T0, end)
    pbx = DemoPbx()  # one instance, read window by window like the connector does
    bounds = [T0, *(T0 + cut for cut in cuts), end]
    pieces = [call for a, b in pairwise(bounds)
              for call in pbx.calls_between(a, b)]
    assert pieces == whole


def test_calls_end_inside_the_window_in_order():
    start, end = T0 + timedelta(minutes=10), T0 + timedelta(minutes=70)
    calls = DemoPbx().calls_between(start, end)
    assert all(start <= call.ends_at < end for call in calls)
    assert [c.ends_at for c in calls] == sorted(c.ends_at for c in calls)
    assert all(c.ends_at.tzinfo is not None for c in calls)
    assert DemoPbx().calls_between(end, start) == []


def test_naive_times_and_bad_rates_are_refused():
    with pytest.raises(ValueError, match="aware"):
        DemoPbx().calls_between(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="rate_per_hour"):
        DemoPbx(rate_per_hour=0)


def test_default_rate_fills_a_list_at_one_call_every_20_to_40_seconds(day):
    per_call = timedelta(hours=24) / len(day)
    assert timedelta(seconds=15) <= per_call <= timedelta(seconds=40)
    first_hour = [c for c in day if c.ends_at < T0 + timedelta(hours=1)]
    assert sum(c.kind in MISSED for c in first_hour) >= 10


def test_rate_scales_the_traffic():
    end = T0 + timedelta(hours=1)
    slow = DemoPbx(rate_per_hour=30).calls_between(T0, end)
    busy = DemoPbx(rate_per_hour=3000).calls_between(T0, end)
    assert len(slow) < 90 < 3000 < len(busy)


def test_every_cdr_line_is_21_fields_quoted_like_cdr_csv(day):
    for call in day:
        for line in call.cdr_lines:
            assert line.endswith("\n") and line.count("\n") == 1
            row = fields(line)
            assert len(row) == 21, line
            # Rebuild the line with cdr_csv's rules: strings quoted with "" doubled, numbers
            # bare, an empty answer bare (",,").
            rebuilt = []
            for i, value in enumerate(row):
                if i in INT_COLUMNS:
                    assert value.isdigit(), line
                    rebuilt.append(value)
                elif i == 10 and value == "":
                    rebuilt.append("")
                else:
                    rebuilt.append('"' + value.replace('"', '""') + '"')
            assert ",".join(rebuilt) + "\n" == line


def test_every_row_is_consistent_in_itself(day):
    for call in day:
        for row in rows(call):
            start, answer, end = row[9], row[10], row[11]
            duration, billsec = int(row[12]), int(row[13])
            assert start <= end and billsec <= duration
            assert (answer == "") == (billsec == 0 and row[14] != "ANSWERED") or answer
            assert row[15] == "DOCUMENTATION" and row[0] == row[17] == row[18] == ""
            assert row[16] == row[19] == call.linkedid  # no transfers: linkedid = uniqueid
        sequences = [int(row[20]) for row in rows(call)]
        assert sequences == sorted(set(sequences))


def test_every_kind_appears_over_a_few_hours():
    calls = DemoPbx().calls_between(T0, T0 + timedelta(hours=4))
    assert {call.kind for call in calls} == set(KINDS)


def test_uniqueids_and_channels_are_unique(day):
    linkedids = [call.linkedid for call in day]
    assert len(set(linkedids)) == len(linkedids)
    owner: dict[str, str] = {}
    member_ids = set()
    for call in day:
        for row in rows(call):
            for channel in filter(None, (row[5], row[6])):
                assert owner.setdefault(channel, call.linkedid) == call.linkedid, channel
                assert re.fullmatch(r"SIP/(carrier|2\d\d)-[0-9a-f]{8}", channel)
        member_ids.update(e[6] for e in events(call) if e[4] == "CONNECT")
    assert member_ids and not member_ids & set(linkedids)


def test_sequence_numbers_grow_with_the_start_of_calls_until_the_weekly_restart(day):
    restart = "2026-11-23 00:00:00"  # Monday 00:00 UTC: Asterisk's counters start again
    for week in (lambda start: start < restart, lambda start: start >= restart):
        firsts = sorted((int(rows(c)[0][20]), rows(c)[0][9]) for c in day
                        if week(rows(c)[0][9]))
        assert len(firsts) > 100
        assert [start for _, start in firsts] == sorted(start for _, start in firsts)
    after = min(int(rows(c)[0][20]) for c in day if rows(c)[0][9] >= restart)
    assert after < 1000


def test_queue_log_lines_share_the_callid_with_the_cdr_linkedid(day):
    queue_calls = [c for c in day if c.kind.startswith("queue_")]
    assert queue_calls
    for call in day:
        if not call.kind.startswith("queue_"):
            assert call.queue_log_lines == ()
            continue
        assert all(line.endswith("\n") for line in call.queue_log_lines)
        lines = events(call)
        assert {e[1] for e in lines} == {call.linkedid}
        assert {e[2] for e in lines} == {"support"}
        assert {e[3] for e in lines} <= {"NONE", "Anna Agent", "Ben Agent"}
        assert lines[0][4] == "ENTERQUEUE" and lines[0][6] == rows(call)[0][1]
        assert [int(e[0]) for e in lines] == sorted(int(e[0]) for e in lines)
        last = lines[-1][4]
        assert last == {"queue_answered": last if last.startswith("COMPLETE") else "COMPLETE",
                        "queue_abandon": "ABANDON",
                        "queue_timeout": "EXITWITHTIMEOUT"}[call.kind]


def test_queue_rows_carry_the_pbx_answer(day):
    # Answer() before Queue(): every queue row has an answer time and billsec = duration.
    for call in (c for c in day if c.kind.startswith("queue_")):
        for row in rows(call):
            # Answer() runs a few ms after the channel starts: billsec is the duration, or one
            # second less when those ms straddle a second.
            assert row[10] and int(row[12]) - int(row[13]) in (0, 1)
        if call.kind == "queue_timeout":
            assert rows(call)[-1][5:9] + rows(call)[-1][14:15] == [
                rows(call)[-1][5], "", "Hangup", "", "ANSWERED"]


def test_every_recorded_shape_is_written_by_the_demo(day):
    recorded: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for line in RECORDED.splitlines(keepends=True):
        if line.startswith('"'):
            recorded[fields(line)[19]][0].append(line)
        else:
            recorded[line.split("|")[1]][1].append(line)
    demo = {call_shape(c.cdr_lines, c.queue_log_lines) for c in day}
    missing = [linkedid for linkedid, (cdr, qlog) in recorded.items()
               if call_shape(cdr, qlog) not in demo]
    assert len(recorded) == 14
    assert missing == []


def test_voicemail_rows_look_like_the_recorded_s03_row(day):
    s03 = next(fields(line) for line in RECORDED.splitlines() if "VoiceMail" in line)
    voicemails = [c for c in day if c.kind == "ringall_voicemail"]
    assert voicemails
    for call in voicemails:
        *dials, vm = rows(call)
        assert sorted(d[14] for d in dials) in (["BUSY", "NO ANSWER"], ["NO ANSWER"] * 2)
        assert all(d[7:9] == ["Dial", "SIP/203&SIP/204,20"] and d[10] == "" for d in dials)
        same = [1, 3, 4, 5, 6, 7, 8, 14, 15]  # what the row says, not when
        assert [vm[i] for i in same if i not in (1, 4, 5)] == [s03[i] for i in same
                                                              if i not in (1, 4, 5)]
        assert vm[2] == s03[2] and vm[9] == vm[10] and vm[12] == vm[13]
        assert 5 <= int(vm[13]) <= 50  # greeting and message


def test_anonymous_callers_are_written_as_asterisk_writes_them(day):
    anonymous = [row for c in day for row in rows(c) if row[1] == "anonymous"]
    assert anonymous
    assert {row[4] for row in anonymous} == {'"Anonymous" <anonymous>'}


def test_regular_callers_come_back_in_all_three_number_forms(day):
    forms = defaultdict(set)
    for call in day:
        src = rows(call)[0][1]
        if rows(call)[0][3] == "from-pstn" and src != "anonymous":
            e164 = to_e164(src, "DE")
            assert e164, src
            forms[e164].add("+" if src.startswith("+") else src[:2])
    assert any(f == {"+", "00", "03"} for f in forms.values())
    assert sum(len(f) > 1 for f in forms.values()) >= 20


def test_internal_calls_stay_inside(day):
    for call in (c for c in day if c.kind.startswith("internal_")):
        first = rows(call)[0]
        assert first[3] == "from-internal" and first[1] != first[2]
        assert first[4] == f'"{user_name(first[1])}" <{first[1]}>'


def user_name(extension: str) -> str:
    return next(u.name for u in DEMO_USERS if u.extension == extension)


def test_callbacks_dial_a_number_that_missed_before_by_a_member(day):
    missed = defaultdict(list)  # e164 -> (end, group) of missed calls
    for call in day:
        if call.kind in MISSED and rows(call)[0][1] != "anonymous":
            missed[to_e164(rows(call)[0][1], "DE")].append(
                (call.ends_at, GROUP_OF_DID[rows(call)[0][2]]))
    members = {g.name: g.members for g in DEMO_GROUPS}
    callbacks = [c for c in day if c.kind.startswith("callback_")
                 and c.ends_at > T0 + timedelta(hours=1, minutes=15)]  # origin in the window
    assert len(callbacks) > 100
    for call in callbacks:
        first = rows(call)[0]
        assert first[3] == "outbound" and first[7] == "Dial"
        assert first[8] == f"SIP/carrier/{first[2]},25,b(outbound-cid^s^1)"
        assert first[6].startswith("SIP/carrier-")
        started = datetime.strptime(first[9], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        before = [group for end, group in missed[to_e164(first[2], "DE")] if end < started]
        assert any(first[1] in members[group] for group in before), first


def test_callbacks_end_both_ways(day):
    # Some callers are reached, others get three failed attempts: Not reached at limit 3.
    results = defaultdict(list)
    for call in (c for c in day if c.kind.startswith("callback_")):
        results[to_e164(rows(call)[0][2], "DE")].append(call.kind)
    assert any("callback_reached" in kinds for kinds in results.values())
    assert any(
        all(k != "callback_reached" for k in kinds[i:i + 3])
        for kinds in results.values() for i in range(len(kinds) - 2))
    dispositions = Counter(rows(c)[0][14] for c in day if c.kind.startswith("callback_"))
    assert set(dispositions) == {"ANSWERED", "NO ANSWER", "BUSY", "CONGESTION"}


def test_master_csv_times_are_local_and_queue_log_epochs_utc():
    end = T0 + timedelta(hours=1)
    utc = DemoPbx().calls_between(T0, end)
    berlin = DemoPbx(tz=ZoneInfo("Europe/Berlin")).calls_between(T0, end)
    assert [c.queue_log_lines for c in utc] == [c.queue_log_lines for c in berlin]
    assert [c.ends_at for c in utc] == [c.ends_at for c in berlin]
    for a, b in zip(utc, berlin, strict=True):
        for row_utc, row_berlin in zip(rows(a), rows(b), strict=True):
            shifted = datetime.strptime(row_utc[9], "%Y-%m-%d %H:%M:%S") + timedelta(hours=1)
            assert row_berlin[9] == shifted.strftime("%Y-%m-%d %H:%M:%S")
            assert row_utc[:9] == row_berlin[:9] and row_utc[12:] == row_berlin[12:]


def test_demo_groups_and_users_match_the_dialplan():
    assert [(g.name, g.type, g.pbx_id, g.members) for g in DEMO_GROUPS] == [
        ("support", "queue", "support", ("201", "202")),
        ("sales", "ringall", "4930555200", ("203", "204")),
        ("hotline", "hunt", "4930555300", ("203", "204")),
    ]
    assert [(u.extension, u.name, u.groups) for u in DEMO_USERS] == [
        ("201", "Anna Agent", ("support",)), ("202", "Ben Agent", ("support",)),
        ("203", "Clara Agent", ("sales", "hotline")), ("204", "Dave Agent", ("sales", "hotline")),
        ("210", "Eva NoGroup", ()),
    ]
    assert len({u.username for u in DEMO_USERS}) == 5


def write_files(calls: list[DemoCall], directory) -> tuple[str, str]:
    """Append the calls to Master.csv and queue_log the way the demo connector does."""
    master, queue_log = directory / "Master.csv", directory / "queue_log"
    with open(master, "a", encoding="utf-8") as cdr, open(queue_log, "a", encoding="utf-8") as q:
        for call in calls:
            cdr.writelines(call.cdr_lines)
            q.writelines(call.queue_log_lines)
    return str(master), str(queue_log)


def read_back(master: str, queue_log: str, tz) -> tuple[list[Leg], list[QueueEvent]]:
    """The files through the real follower and parsers; no line may be a problem."""
    cdr_lines = read_lines(master)
    layout = detect_cdr_layout(t for _, t in cdr_lines[:5])
    assert layout is not None and len(layout.columns) == 21
    parsed = [*parse_cdr(cdr_lines, layout, tz, "Master.csv"),
              *parse_queue_log(read_lines(queue_log), "queue_log")]
    assert [p for p in parsed if isinstance(p, ParseProblem)] == []
    return ([x for x in parsed if isinstance(x, Leg)],
            [x for x in parsed if isinstance(x, QueueEvent)])


@pytest.mark.parametrize("tz", [UTC, ZoneInfo("Europe/Berlin")], ids=["utc", "berlin"])
def test_the_real_parsers_read_every_line_without_a_problem(tmp_path, tz):
    calls = DemoPbx(tz=tz).calls_between(T0, T0 + timedelta(hours=6))
    master, queue_log = write_files(calls, tmp_path)
    assert sniff(t for _, t in read_lines(master)[:5]) is FileKind.CDR_CSV
    assert sniff(t for _, t in read_lines(queue_log)[:5]) is FileKind.QUEUE_LOG
    legs, events = read_back(master, queue_log, tz)
    assert len(legs) == sum(len(c.cdr_lines) for c in calls)
    assert len(events) == sum(len(c.queue_log_lines) for c in calls)  # all about callers
    assert len({leg.key for leg in legs}) == len(legs)
    # Every call is one record keyed by its linkedid, its queue_log lines attached to it.
    records = {r.key: r for r in assemble(legs, events)}
    assert set(records) == {c.linkedid for c in calls}
    for call in calls:
        record = records[call.linkedid]
        assert (len(record.legs), len(record.queue_events)) == (
            len(call.cdr_lines), len(call.queue_log_lines))
        assert record.end == call.ends_at.replace(microsecond=0)


# What the rules must make of each kind: (inbound missed?, group, how it ended) or the
# result of an outbound call; internal calls are none of the lists' business.
JUDGED = {
    "queue_answered": (False, "support", "answered"),
    "queue_abandon": (True, "support", "abandoned"),
    "queue_timeout": (True, "support", "timeout"),
    "ringall_answered": (False, "sales", "answered"),
    "ringall_missed": (True, "sales", "no_answer"),
    "ringall_voicemail": (True, "sales", "voicemail"),
    "hunt_answered": (False, "hotline", "answered"),
    "hunt_missed": (True, "hotline", "no_answer"),
    "internal_answered": None,
    "internal_missed": None,
    "callback_reached": "answered",
    "callback_no_answer": "no_answer",
    "callback_busy": "busy",
    "callback_failed": "congestion",
}


def test_the_rules_judge_every_kind_as_its_name_says_and_fill_every_tab(tmp_path):
    calls = DemoPbx().calls_between(T0, T0 + timedelta(hours=6))
    legs, events = read_back(*write_files(calls, tmp_path), UTC)
    records = {r.key: r for r in assemble(legs, events)}
    policy = Policy.from_settings(
        {"group_types": ["queue", "ringall", "hunt"]},
        [GroupDef(g.name, g.type, g.pbx_id, frozenset(g.members)) for g in DEMO_GROUPS],
        {u.extension for u in DEMO_USERS}, {"Anna Agent": "201", "Ben Agent": "202"})
    judged = {}
    for call in calls:
        result = classify(records[call.linkedid], policy)
        if isinstance(result, InboundCall):
            judged[call.linkedid] = (result.missed, result.group, result.ended)
        elif isinstance(result, OutboundCall):
            judged[call.linkedid] = result.result
        else:
            judged[call.linkedid] = None
    assert {c.kind: judged[c.linkedid] for c in calls} == JUDGED
    assert all(judged[c.linkedid] == JUDGED[c.kind] for c in calls)
    entries = build_entries(filter(None, (classify(r, policy) for r in records.values())), [],
                            policy)
    assert {e.state for e in entries} == {"open", "attempts", "done", "not_reached"}
