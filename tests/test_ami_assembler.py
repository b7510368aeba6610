"""AMI events → legs and queue events: the same records the CDR file and queue_log give.

Fed straight from the recorded streams (no socket), in event time: every grace period is then
decided by the events' own Timestamps, as in a replay at full speed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from test_fixtures_expected import RUNS, expected, got

from callback_module.connectors.ami.assembler import Assembler
from callback_module.connectors.ami.protocol import (
    BlockReader,
    MalformedMessage,
    format_action,
    parse_block,
)
from callback_module.extensions import db
from callback_module.parsers.cdr import detect_cdr_layout, parse_cdr
from callback_module.parsers.queue_log import parse_queue_log
from callback_module.policy_loader import load_policy
from callback_module.store import ingest

from conftest import FIXTURES, add_fixture_profile


def messages(run: str, skip: tuple[str, ...] = ()) -> list[dict[str, str]]:
    reader = BlockReader()
    reader.feed((FIXTURES / run / "ami_events.raw").read_bytes())
    assert reader.take_banner() == "Asterisk Call Manager/9.0.0"
    return [m for m in map(parse_block, reader.blocks()) if m.get("Event") not in skip]


def assemble(run: str, skip: tuple[str, ...] = (), **kwargs):
    assembler = Assembler(UTC, **kwargs)
    calls = []
    for message in messages(run, skip):
        calls += assembler.feed(message, now=0.0)  # wall clock frozen: event time only
    return calls + assembler.flush(), assembler


def file_legs(run: str):
    lines = list(enumerate((FIXTURES / run / "cdr-csv" / "Master.csv").read_text().splitlines(),
                           1))
    return list(parse_cdr(lines, detect_cdr_layout([t for _, t in lines[:5]]), UTC, "Master"))


def row(leg) -> tuple:
    return (leg.call_key, leg.uniqueid, leg.channel, leg.dstchannel, leg.src, leg.clid, leg.dst,
            leg.dcontext, leg.lastapp, leg.lastdata, leg.start, leg.answer, leg.end,
            leg.duration, leg.billsec, leg.disposition)


@pytest.mark.parametrize("run", RUNS)
def test_cdr_events_give_the_cdr_files_rows(run):
    calls, assembler = assemble(run)
    assert len(calls) == 20 and not any(c.synthesized for c in calls)
    legs = [leg for call in calls for leg in call.legs]
    assert sorted(map(row, legs)) == sorted(map(row, file_legs(run)))
    # no Sequence in AMI Cdr events: the file parsers' key for sequence-less rows
    assert all(leg.key == f"{leg.uniqueid}/{leg.channel}/{leg.dstchannel}/"
                          f"{leg.start.isoformat()}" for leg in legs)
    assert not assembler._calls and assembler.ringing_numbers() == []


@pytest.mark.parametrize("run", RUNS)
def test_queue_events_are_queue_logs_lines(run):
    calls, _ = assemble(run)
    lines = list(enumerate((FIXTURES / run / "queue_log").read_text().splitlines(), 1))
    # RINGCANCELED has no AMI event (a DialEnd CANCEL says it); every other line is there.
    logged = {(e.callid, e.queue, e.agent, e.event, e.data, int(e.at.timestamp()))
              for e in parse_queue_log(lines, "queue_log") if e.event != "RINGCANCELED"}
    ami = [(e.callid, e.queue, e.agent, e.event, e.data, int(e.at.timestamp()))
           for call in calls for e in call.queue_events]
    assert sorted(ami) == sorted(logged)
    kinds = {e[3] for e in ami}
    assert {"ENTERQUEUE", "CONNECT", "COMPLETECALLER", "ABANDON", "EXITWITHTIMEOUT",
            "RINGNOANSWER"} <= kinds


def test_times_come_from_the_events_timestamps():
    calls, _ = assemble(RUNS[0])
    s01 = next(c for c in calls if c.call_key == "1795327866.0")
    # Cdr StartTime "2026-11-22 06:11:06" (PBX clock, whole seconds), sent at Timestamp
    # 1795327874.169223 = 06:11:14.169 UTC next to EndTime 06:11:14: the PBX runs on UTC.
    assert {leg.start for leg in s01.legs} == {datetime(2026, 11, 22, 6, 11, 6, tzinfo=UTC)}
    assert {leg.end for leg in s01.legs} == {datetime(2026, 11, 22, 6, 11, 14, tzinfo=UTC)}
    enter = next(e for e in s01.queue_events if e.event == "ENTERQUEUE")
    assert enter.at == datetime.fromtimestamp(1795327866.659046, UTC)
    assert s01.ended_at == datetime.fromtimestamp(1795327874.167227, UTC)  # caller's Hangup
    abandon = next(e for e in s01.queue_events if e.event == "ABANDON")
    assert abandon.data == ("1", "1", "8")


def test_cdr_times_follow_the_pbx_clock_not_the_configured_zone(caplog, monkeypatch):
    from zoneinfo import ZoneInfo

    from callback_module.connectors.ami import calls as ami_calls

    monkeypatch.setattr(ami_calls, "_warned_offsets", set())
    assembler = Assembler(ZoneInfo("Europe/Berlin"))  # wrong: the lab PBX ran on UTC
    legs = []
    for message in messages(RUNS[0]):
        legs += [leg for call in assembler.feed(message, 0.0) for leg in call.legs]
    legs += [leg for call in assembler.flush() for leg in call.legs]
    assert sorted(map(row, legs)) == sorted(map(row, file_legs(RUNS[0])))
    assert "the PBX writes CDR times at UTC+0 h, the configured time zone is UTC+1 h" \
        in caplog.text


def test_without_cdr_events_legs_are_made_from_the_dial_events():
    calls, _ = assemble(RUNS[0], skip=("Cdr",))
    assert len(calls) == 20 and all(c.synthesized for c in calls)
    s01 = next(c for c in calls if c.call_key == "1795327866.0")
    assert [(leg.dstchannel, leg.disposition, leg.lastapp, leg.lastdata) for leg in s01.legs] \
        == [("SIP/201-00000001", "NO ANSWER", "Queue", "support,r,,,30"),
            ("SIP/202-00000002", "NO ANSWER", "Queue", "support,r,,,30")]
    # precise: the caller channel's Newchannel and the DialEnd CANCEL, by their Timestamps
    assert s01.legs[0].start == datetime.fromtimestamp(1795327866.156428, UTC)
    assert s01.legs[0].end == datetime.fromtimestamp(1795327874.165025, UTC)
    s03 = next(c for c in calls if c.call_key == "1795327896.6")
    assert sorted((leg.dstchannel, leg.disposition) for leg in s03.legs) == [
        ("", "ANSWERED"), ("SIP/203-00000007", "NO ANSWER"), ("SIP/204-00000008", "BUSY")]
    assert next(leg for leg in s03.legs if not leg.dstchannel).lastapp == "VoiceMail"
    s05 = next(c for c in calls if c.call_key == "1795327948.12")  # hunt: step 2 starts late
    assert s05.legs[1].start == datetime.fromtimestamp(1795327958.499097, UTC)


@pytest.mark.parametrize("profile", [1, 2])
@pytest.mark.parametrize("run", RUNS)
def test_synthesized_legs_give_the_expected_entries(app, run, profile):
    """A PBX without cdr_manager still gives EXPECTED.md's lists."""
    add_fixture_profile(profile)
    calls, _ = assemble(run, skip=("Cdr",))
    ingest([leg for c in calls for leg in c.legs], [e for c in calls for e in c.queue_events],
           load_policy())
    db.session.commit()
    assert got() == expected(profile)


def test_calling_in_now_starts_with_the_call_and_ends_with_the_callers_hangup():
    seen = []
    assembler = Assembler(UTC, on_ringing=lambda number, on: seen.append((number, on)))
    during = None
    for message in messages(RUNS[0]):
        assembler.feed(message, 0.0)
        if message.get("Event") == "QueueCallerJoin" and during is None:
            during = assembler.ringing_numbers()
    assert during == ["+49301110001"]
    assert seen[:2] == [("+49301110001", True), ("+49301110001", False)]
    assert ("anonymous", True) not in seen  # withheld: nothing to match
    assert ("202", True) in seen  # an agent calling out is a caller too; the lead filters
    assert assembler.ringing_numbers() == []


def originated_callback(attempt_id: str, number: str) -> list[dict[str, str]]:
    """A callback placed from the lists, as Asterisk reports it: Originate's ChannelId is the
    Local ;1 half's uniqueid and the call's linkedid, its CallerID the customer's number."""
    common = {"Privilege": "call,all", "ChannelStateDesc": "Down", "ConnectedLineNum": "<unknown>",
              "ConnectedLineName": "<unknown>", "Language": "en", "AccountCode": "",
              "Priority": "1", "Linkedid": attempt_id}
    first = {**common, "Channel": "Local/201@originate-skipvm-00000003;1", "CallerIDNum": number,
             "CallerIDName": f"Callback {number}", "Context": "originate-skipvm", "Exten": "201",
             "Uniqueid": attempt_id}
    second = {**first, "Channel": "Local/201@originate-skipvm-00000003;2",
              "Uniqueid": "1795328130.43"}
    trunk = {**common, "Channel": "SIP/carrier-00000004", "CallerIDNum": "4930555100",
             "CallerIDName": "<unknown>", "Context": "from-internal", "Exten": number,
             "Uniqueid": "1795328130.44"}
    dest = {f"Dest{k}": v for k, v in trunk.items() if k != "Privilege"}
    hangup = {"Cause": "16", "Cause-txt": "Normal Clearing"}
    events = [("Newchannel", first), ("Newchannel", second), ("DialBegin", {**first, **dest}),
              ("Newchannel", trunk), ("DialEnd", {**first, **dest, "DialStatus": "ANSWER"}),
              ("Hangup", {**trunk, **hangup}), ("Hangup", {**second, **hangup}),
              ("Hangup", {**first, **hangup})]
    return [{"Event": name, "Timestamp": f"{1795328130.1 + i:.6f}", **fields}
            for i, (name, fields) in enumerate(events)]


def test_a_callback_placed_from_the_lists_is_not_the_customer_calling_in():
    seen = []
    assembler = Assembler(UTC, grace=0.0, on_ringing=lambda number, on: seen.append((number, on)))
    finished = []
    for message in originated_callback("cb-1795328130.00000042", "0301110008"):
        finished += assembler.feed(message, 0.0)
        assert assembler.ringing_numbers() == []
    finished += assembler.flush()
    assert seen == []
    assert [call.call_key for call in finished] == ["cb-1795328130.00000042"]  # still synced


def test_a_caller_moved_to_another_call_stops_ringing_when_it_hangs_up():
    """A transfer re-links the caller's channel to another linkedid: its hang-up must still
    end "calling in now" (it is no longer the first channel of the call it is in)."""
    caller = {"Channel": "SIP/carrier-00000010", "CallerIDNum": "+49301110001",
              "Uniqueid": "1795328200.60", "Linkedid": "1795328200.60"}
    agent = {"Channel": "SIP/202-00000011", "CallerIDNum": "202", "Uniqueid": "1795328201.61",
             "Linkedid": "1795328201.61"}
    moved = {**caller, "Linkedid": agent["Linkedid"]}
    assembler = Assembler(UTC)
    for i, (event, fields) in enumerate([("Newchannel", caller), ("Newchannel", agent),
                                         ("Newstate", moved), ("Hangup", moved)]):
        assembler.feed({"Event": event, "Timestamp": f"{1795328200.0 + i}", **fields}, 0.0)
    assert assembler.ringing_numbers() == ["202"]  # the agent's own channel is still up
    assembler.feed({"Event": "Hangup", "Timestamp": "1795328205.0", **agent}, 0.0)
    assembler.flush()
    assert assembler.ringing_numbers() == []


def test_unknown_events_are_ignored_and_malformed_blocks_refused():
    assembler = Assembler(UTC)
    assert assembler.feed({"Event": "SomethingNew", "Timestamp": "1.0"}, 0.0) == []
    with pytest.raises(MalformedMessage):
        parse_block("Event: Hangup\r\nthis line has no colon")
    reader = BlockReader()
    reader.feed(b"Asterisk Call Manager/9.0.0\r\nEvent: A\r\nX: 1")
    assert reader.take_banner() == "Asterisk Call Manager/9.0.0"
    assert list(reader.blocks()) == []  # incomplete until the blank line
    reader.feed(b"\r\n\r\nEvent: B\r\n\r\n")
    assert [parse_block(b)["Event"] for b in reader.blocks()] == ["A", "B"]


def test_an_action_cannot_smuggle_in_another_header():
    assert format_action("Ping", {"ActionID": "1"}) == b"Action: Ping\r\nActionID: 1\r\n\r\n"
    with pytest.raises(ValueError):
        format_action("Originate", {"Exten": "0301\r\nAction: Command"})


def test_without_timestampevents_calls_are_timed_on_arrival(caplog):
    """A manager.conf without ``timestampevents = yes``: the same calls, dated as they come."""
    assembler = Assembler(UTC, grace=0.0)
    before = time.time()
    finished = []
    for message in messages(RUNS[0], skip=("Cdr",))[:400]:
        message = {k: v for k, v in message.items() if k != "Timestamp"}
        finished += assembler.feed(message, time.monotonic())
    finished += assembler.flush()
    assert finished and "set timestampevents = yes" in caplog.text
    starts = [leg.start for call in finished for leg in call.legs]
    assert starts and all(start.timestamp() >= before - 1 for start in starts)
