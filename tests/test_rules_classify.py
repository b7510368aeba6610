"""classify(): one call record judged over all its legs (SPEC §4), on rows shaped like the real
Asterisk 20 CDR and queue_log lines of fixtures/asterisk/OBSERVATIONS.md."""

from __future__ import annotations

import pytest

from callback_module.records import CallRecord, QueueEvent
from callback_module.rules.classify import InboundCall, OutboundCall, classify

from factories import (
    HOTLINE_DID,
    SALES_DID,
    SUPPORT_DID,
    at,
    chain,
    hunt_legs,
    internal_legs,
    outbound_legs,
    policy,
    queue_events,
    queue_legs,
    record,
    ringall_legs,
)

S01 = "+49301110001"


def missed(group: str, ended: str, **fields) -> dict:
    return {"group": group, "missed": True, "answered": False, "ended": ended, **fields}


def answered(group: str | None, by: str, answered_in: str | None, **fields) -> dict:
    return {"group": group, "missed": False, "answered": True, "answered_by": by,
            "answered_in": answered_in, **fields}


def overflow_to(dst: str, answered_by: str | None = None) -> CallRecord:
    """Queue support gives up after 30 s and the dialplan goes on to Dial(SIP/203&SIP/204)."""
    queue = queue_legs("9.1", S01, wait=30)
    stage = ringall_legs("9.1", S01, 30, did=dst, answered_by=answered_by)
    return record(chain(queue, stage))


INBOUND = [
    # Queue behind Answer(): NO ANSWER rows with billsec > 0 and no abandon marker (S01).
    pytest.param(record(queue_legs("1.0", S01, wait=8, name="Mueller")), {},
                 missed("support", "abandoned", ring_s=8, party_key=S01, e164=S01,
                        name="Mueller", rang=("201", "202")),
                 id="queue-abandon-cdr-only"),
    pytest.param(record(queue_legs("1.0", S01, wait=8),
                        queue_events("1.0", S01, wait=8)), {},
                 missed("support", "abandoned", ring_s=8), id="queue-abandon-with-queue-log"),
    pytest.param(record(queue_legs("2.0", S01, wait=30, timeout=True)), {},
                 missed("support", "timeout", ring_s=30),
                 id="queue-timeout-cdr-only-hangup-row-answered"),
    pytest.param(record(queue_legs("2.0", S01, wait=30, timeout=True),
                        queue_events("2.0", S01, wait=30, timeout=True)), {},
                 missed("support", "timeout", ring_s=30), id="queue-timeout-exitwithtimeout"),
    pytest.param(record(queue_legs("3.0", S01, answered_by="201", ring=3, talk=5)), {},
                 answered("support", "201", "support", talk_s=8, ended="answered"),
                 id="queue-answered-cdr-billsec-from-pbx-answer"),
    pytest.param(record(queue_legs("3.0", S01, answered_by="201", ring=3, talk=5),
                        queue_events("3.0", S01, answered_by="201", ring=3, talk=5)), {},
                 answered("support", "201", "support", talk_s=5),
                 id="queue-answered-queue-log-talk-preferred"),
    pytest.param(record(queue_legs("3.1", S01, answered_by="202", busy=("201",), ring=2,
                                   talk=4)), {},
                 answered("support", "202", "support"), id="queue-first-busy-second-answers"),
    pytest.param(record(queue_legs("3.0", S01, answered_by="201", ring=3, talk=5)),
                 {"min_inbound_talk": 8}, answered("support", "201", "support", talk_s=8),
                 id="min-inbound-talk-reached-exactly"),
    pytest.param(record(queue_legs("3.0", S01, answered_by="201", ring=3, talk=5)),
                 {"min_inbound_talk": 9}, missed("support", "abandoned"),
                 id="min-inbound-talk-too-short-cdr"),
    pytest.param(record(queue_legs("3.0", S01, answered_by="201", ring=3, talk=5),
                        queue_events("3.0", S01, answered_by="201", ring=3, talk=5)),
                 {"min_inbound_talk": 6}, {"group": "support", "missed": True},
                 id="min-inbound-talk-judged-on-queue-log-talk-not-billsec"),
    # Ring-all with voicemail after 20 s: an ANSWERED row with an empty dstchannel (S03).
    pytest.param(record(ringall_legs("4.0", "+49301110004", ring=20, busy=("204",),
                                     voicemail=9)), {},
                 missed("sales", "voicemail", ring_s=20), id="voicemail-counts-as-missed"),
    pytest.param(record(ringall_legs("4.0", "+49301110004", ring=20, busy=("204",),
                                     voicemail=9)), {"mailbox_unanswered": False},
                 answered("sales", "voicemail", "sales", ended="voicemail"),
                 id="voicemail-counts-as-answered"),
    pytest.param(record(ringall_legs("5.0", "+49301110007", ring=1)), {},
                 missed("sales", "no_answer", ring_s=1), id="ringall-missed"),
    pytest.param(record(ringall_legs("5.1", "+49301110007", busy=("203", "204"))), {},
                 missed("sales", "busy"), id="ringall-everybody-busy"),
    pytest.param(record(ringall_legs("6.0", S01, ring=4, answered_by="203", talk=6)), {},
                 answered("sales", "203", "sales", talk_s=6), id="ringall-answered"),
    # Hunt group: one row per step; run A adds a Hangup() row with unanswered=yes (S05, S11).
    pytest.param(record(hunt_legs("7.0", "+49301110005", hangup_row=True)), {},
                 missed("hotline", "no_answer", ring_s=20, rang=("203", "204")),
                 id="hunt-missed-run-a"),
    pytest.param(record(hunt_legs("7.0", "+49301110005")), {},
                 missed("hotline", "no_answer", ring_s=20), id="hunt-missed-run-b"),
    pytest.param(record(hunt_legs("8.0", "+49301110006", answered_by="204", talk=4)), {},
                 answered("hotline", "204", "hotline", talk_s=4),
                 id="hunt-answered-on-step-2"),
    pytest.param(record(hunt_legs("8.0", "+49301110006", answered_by="204", talk=4)),
                 {"min_inbound_talk": 5}, missed("hotline", "no_answer"),
                 id="hunt-answer-too-short"),
    # Group types: only the selected kinds of groups get entries.
    pytest.param(record(queue_legs("1.0", S01)), {"group_types": {"ringall"}},
                 {"group": None, "missed": False, "answered": False},
                 id="queue-call-while-only-ringall-watched"),
    pytest.param(record(ringall_legs("5.0", S01)), {"group_types": {"ringall"}},
                 missed("sales", "no_answer"), id="ringall-call-while-only-ringall-watched"),
    # Overflow: a missed call belongs to the last configured group it reached.
    pytest.param(overflow_to(SUPPORT_DID), {}, {"group": "support", "missed": True},
                 id="overflow-to-unconfigured-stage-same-did-stays-with-queue"),
    pytest.param(overflow_to("4930555900"), {}, {"group": "support", "missed": True},
                 id="overflow-to-unconfigured-did-stays-with-queue"),
    pytest.param(overflow_to(SUPPORT_DID, answered_by="204"), {},
                 answered("support", "204", "support"),
                 id="overflow-answered-at-unconfigured-stage-is-answered"),
    pytest.param(overflow_to(SALES_DID), {}, missed("sales", "no_answer"),
                 id="overflow-to-configured-ringall-belongs-to-ringall"),
    pytest.param(overflow_to(SALES_DID, answered_by="203"), {},
                 answered("sales", "203", "sales"), id="overflow-answered-in-ringall"),
    pytest.param(overflow_to(HOTLINE_DID), {"group_types": {"queue", "ringall"}},
                 {"group": "support", "missed": True},
                 id="overflow-to-unwatched-hunt-stays-with-queue"),
]


@pytest.mark.parametrize(("call", "settings", "expected"), INBOUND)
def test_inbound(call, settings, expected):
    judged = classify(call, policy(**settings))
    assert isinstance(judged, InboundCall)
    assert judged.key == call.key
    assert judged.at == call.start
    assert {name: getattr(judged, name) for name in expected} == expected


def test_overflow_after_queue_timeout_is_not_labelled_abandoned():
    judged = classify(overflow_to(SUPPORT_DID), policy())
    assert judged.missed
    assert judged.ended in ("timeout", "no_answer")


def test_overflow_to_configured_ringall_with_queue_log_belongs_to_the_ringall():
    legs = chain(queue_legs("9.1", S01, wait=30), ringall_legs("9.1", S01, 30, did=SALES_DID))
    events = queue_events("9.1", S01, wait=30, timeout=True)
    judged = classify(record(legs, events), policy())
    assert (judged.group, judged.missed) == ("sales", True)


def test_overflow_to_configured_ringall_with_queue_log_a_second_later_belongs_to_the_ringall():
    legs = chain(queue_legs("9.1", S01, wait=30), ringall_legs("9.1", S01, 31, did=SALES_DID))
    events = queue_events("9.1", S01, wait=30, timeout=True)
    judged = classify(record(legs, events), policy())
    assert (judged.group, judged.missed) == ("sales", True)


@pytest.mark.parametrize(("lines", "settings"), [
    pytest.param(1, {}, id="caller-waiting-in-queue"),
    pytest.param(2, {"min_inbound_talk": 5}, id="caller-talking-to-agent-min-talk-5"),
])
def test_call_in_progress_in_the_queue_is_not_missed(lines, settings):
    events = queue_events("9.2", S01, answered_by="201", ring=3, talk=20)[:lines]
    judged = classify(record(events=events), policy(**settings))
    assert judged is None or not judged.missed


def test_one_answered_row_of_a_person_makes_the_call_answered_whatever_the_other_rows_say():
    # S02: 202's row is NO ANSWER, 201's ANSWERED: not missed.
    call = record(queue_legs("3.0", S01, answered_by="201"))
    assert [leg.disposition for leg in call.legs] == ["ANSWERED", "NO ANSWER"]
    assert not classify(call, policy()).missed


@pytest.mark.parametrize("src", ["anonymous", "restricted", "", "Unknown"])
def test_withheld_caller_is_anonymous_with_a_party_key_of_its_own(src):
    call = record(queue_legs("10.0", src, wait=30, timeout=True))
    judged = classify(call, policy())
    assert judged.missed and judged.group == "support"
    assert judged.anonymous
    assert (judged.number, judged.e164, judged.name) == ("anonymous", None, "")
    assert judged.party_key == "anonymous:10.0"


def test_two_anonymous_calls_never_share_a_party_key():
    first = classify(record(queue_legs("10.0", "anonymous")), policy())
    second = classify(record(queue_legs("10.1", "anonymous")), policy())
    assert first.party_key != second.party_key


@pytest.mark.parametrize(("number", "expected"), [
    pytest.param("0301110003", "+49301110003", id="national-S10a"),
    pytest.param("+49301110003", "+49301110003", id="e164-S10b"),
    pytest.param("0049301110003", "+49301110003", id="00-international"),
])
def test_inbound_party_key_is_e164(number, expected):
    judged = classify(record(queue_legs("11.0", number)), policy())
    assert (judged.number, judged.party_key, judged.e164) == (number, expected, expected)


def test_inbound_caller_is_never_stripped_of_the_outside_line_prefix():
    judged = classify(record(queue_legs("11.1", "004312345678")),
                      policy(outside_line_prefix="0"))
    assert judged.party_key == "+4312345678"


@pytest.mark.parametrize(("show_internal", "group", "is_missed"), [
    pytest.param(False, None, False, id="show-internal-off"),
    pytest.param(True, "sales", True, id="show-internal-on"),
])
def test_internal_caller_of_a_group(show_internal, group, is_missed):
    call = record(ringall_legs("12.0", "201", context="from-internal"))
    judged = classify(call, policy(show_internal=show_internal))
    assert isinstance(judged, InboundCall)
    assert judged.internal and not judged.anonymous
    assert (judged.group, judged.missed) == (group, is_missed)
    assert judged.party_key == "ext:201"


@pytest.mark.parametrize("show_internal", [False, True])
@pytest.mark.parametrize(("src", "dst", "hangup_row"), [
    pytest.param("201", "202", True, id="S08-run-a"),
    pytest.param("201", "202", False, id="S08-run-b"),
    pytest.param("204", "210", True, id="S13-to-extension-in-no-group"),
])
def test_internal_call_to_an_extension_is_no_group_call(src, dst, hangup_row, show_internal):
    call = record(internal_legs("13.0", src, dst, hangup_row=hangup_row))
    assert classify(call, policy(show_internal=show_internal)) is None


def test_no_data_is_no_call():
    assert classify(CallRecord("empty"), policy()) is None


OUTBOUND = [
    pytest.param(outbound_legs("20.0", "202", S01, result="busy", hangup_row=True),
                 {"result": "busy", "answered": False, "ring_s": 0, "duration_s": 0},
                 id="busy-S06a-run-a"),
    pytest.param(outbound_legs("20.1", "202", S01, result="no_answer", ring=25,
                               hangup_row=True),
                 {"result": "no_answer", "answered": False, "ring_s": 25, "duration_s": 25},
                 id="no-answer-S06b-run-a"),
    pytest.param(outbound_legs("20.1", "202", S01, result="no_answer", ring=25),
                 {"result": "no_answer", "ring_s": 25}, id="no-answer-run-b"),
    pytest.param(outbound_legs("20.2", "202", S01, result="answered", ring=3, talk=3),
                 {"result": "answered", "answered": True, "ring_s": 3, "talk_s": 3,
                  "duration_s": 6}, id="answered-S06c"),
    pytest.param(outbound_legs("20.3", "203", "+49301110005", result="congestion",
                               hangup_row=True),
                 {"result": "congestion", "answered": False, "party_key": "+49301110005"},
                 id="congestion-S14-run-a"),
    pytest.param(outbound_legs("20.3", "203", "+49301110005", result="failed"),
                 {"result": "failed", "answered": False}, id="failed-S14-run-b"),
    pytest.param(outbound_legs("20.4", "201", "0301110003", result="answered", talk=3),
                 {"number": "0301110003", "party_key": "+49301110003",
                  "e164": "+49301110003"}, id="dialled-national-S10c"),
    pytest.param(outbound_legs("20.5", "203", "0049301110005", result="answered", talk=4),
                 {"party_key": "+49301110005", "talk_s": 4}, id="dialled-00-S15"),
]


@pytest.mark.parametrize(("legs", "expected"), OUTBOUND)
def test_outbound(legs, expected):
    judged = classify(record(legs), policy())
    assert isinstance(judged, OutboundCall)
    assert judged.by == legs[0].src
    assert judged.at == legs[0].start
    assert {name: getattr(judged, name) for name in expected} == expected


def test_outbound_unanswered_has_no_talk_even_with_billsec():
    judged = classify(record(outbound_legs("20.1", "202", S01, result="no_answer")), policy())
    assert judged.talk_s == 0


@pytest.mark.parametrize(("prefix", "dialled", "party"), [
    pytest.param("0", "00301110003", "+49301110003", id="prefix-0-national"),
    pytest.param("0", "0+49301110003", "+49301110003", id="prefix-0-e164"),
    # The PBX strips the 0 and dials 049301110003: a national number in area 0493.
    pytest.param("0", "0049301110003", "+4949301110003", id="prefix-removed-once-only"),
    pytest.param("", "0049301110003", "+49301110003", id="no-prefix"),
])
def test_outbound_dialled_with_the_outside_line_prefix(prefix, dialled, party):
    judged = classify(record(outbound_legs("21.0", "201", dialled)),
                      policy(outside_line_prefix=prefix))
    assert isinstance(judged, OutboundCall)
    assert (judged.number, judged.party_key) == (dialled, party)


def test_queue_log_only_answered_call_maps_the_member_name_to_an_extension():
    events = queue_events("30.0", "+49301110008", answered_by="202", ring=2, talk=4)
    assert events[1].agent == "Ben Agent"
    judged = classify(record(events=events), policy())
    assert isinstance(judged, InboundCall)
    assert (judged.number, judged.party_key, judged.group) == (
        "+49301110008", "+49301110008", "support")
    assert judged.answered and not judged.missed
    assert (judged.answered_by, judged.answered_in, judged.talk_s) == ("202", "support", 4)


def test_queue_log_only_member_unknown_by_name_keeps_the_name():
    events = queue_events("30.1", "+49301110008", answered_by="202")
    judged = classify(record(events=events), policy(member_names=()))
    assert judged.answered_by == "Ben Agent"


@pytest.mark.parametrize(("timeout", "ended"), [(False, "abandoned"), (True, "timeout")])
def test_queue_log_only_missed_call(timeout, ended):
    events = queue_events("30.2", S01, wait=12, timeout=timeout)
    judged = classify(record(events=events), policy())
    assert judged.missed and (judged.group, judged.ended, judged.ring_s) == (
        "support", ended, 12)
    assert judged.rang == ("201", "202")


def test_queue_log_of_an_unconfigured_queue_is_no_group_call():
    events = [QueueEvent(at(0), "31.0", "billing", "NONE", "ENTERQUEUE", ("", S01, "1")),
              QueueEvent(at(5), "31.0", "billing", "NONE", "ABANDON", ("1", "1", "5"))]
    judged = classify(record(events=events), policy())
    assert judged.group is None and not judged.missed
