"""build_entries(): the entries of SPEC §4 from classified calls and manual actions, one table row
per business rule; then the real Asterisk recordings end to end against EXPECTED.md."""

from __future__ import annotations

from datetime import UTC

import pytest
import yaml

from callback_module.parsers.cdr import CdrLayout, detect_cdr_layout, parse_cdr
from callback_module.parsers.follower import read_lines
from callback_module.parsers.problems import ParseProblem
from callback_module.parsers.queue_log import parse_queue_log
from callback_module.records import assemble
from callback_module.rules.classify import classify
from callback_module.rules.entries import build_entries
from callback_module.rules.policy import GroupDef, Policy
from callback_module.settings_schema import defaults

from conftest import FIXTURES
from factories import (
    action,
    at,
    inbound,
    internal_legs,
    outbound,
    outbound_legs,
    policy,
    queue_events,
    queue_legs,
    record,
    ringall_legs,
)

A = "+49301110001"
OTHER = "+49301110009"


def rows(entries) -> list[tuple]:
    return [(e.group, e.state, tuple(c.key for c in e.calls), tuple(a.key for a in e.attempts))
            for e in entries]


def missed_in(group: str, key: str = "c1", minute: float = 0, number: str = A):
    return inbound(key, minute, number, group)


def answered_call(key: str, minute: float, by: str, answered_in: str | None,
                  number: str = A):
    return inbound(key, minute, number, answered_in, answered=True, answered_by=by,
                   answered_in=answered_in)


def failed(key: str, minute: float, by: str = "201", result: str = "no_answer", **kw):
    return outbound(key, minute, by, A, result, **kw)


def reached(key: str, minute: float, by: str = "201", **kw):
    return outbound(key, minute, by, A, "answered", **kw)


C1 = missed_in("support")
TABLE = [
    # --- missed calls open and join entries
    pytest.param([C1], [], {}, [("support", "open", ("c1",), ())], id="missed-call-opens-entry"),
    pytest.param([inbound("c1", 0, A, None)], [], {}, [], id="no-group-call-no-entry"),
    pytest.param([C1, missed_in("support", "c2", 10)], [], {},
                 [("support", "open", ("c1", "c2"), ())], id="repeated-missed-joins-open"),
    pytest.param([C1, missed_in("support", "c2", 10, "0301110001")], [], {},
                 [("support", "open", ("c1", "c2"), ())],
                 id="repeated-missed-joins-however-number-written"),
    pytest.param([C1, failed("o1", 5), missed_in("support", "c2", 10)], [], {},
                 [("support", "attempts", ("c1", "c2"), ("o1",))],
                 id="repeated-missed-joins-entry-with-attempts"),
    pytest.param([C1, reached("o1", 5), missed_in("support", "c2", 10)], [], {},
                 [("support", "done", ("c1",), ("o1",)), ("support", "open", ("c2",), ())],
                 id="missed-after-done-starts-new-entry"),
    pytest.param([C1, failed("o1", 1), failed("o2", 2), failed("o3", 3),
                  missed_in("support", "c2", 10)], [], {},
                 [("support", "not_reached", ("c1",), ("o1", "o2", "o3")),
                  ("support", "open", ("c2",), ())], id="missed-after-not-reached-starts-new"),
    pytest.param([C1, missed_in("support", "c2", 10)], [action("done", 5, "c1")], {},
                 [("support", "done", ("c1",), ()), ("support", "open", ("c2",), ())],
                 id="missed-after-marked-done-starts-new"),
    pytest.param([C1, missed_in("sales", "c2", 10)], [], {},
                 [("support", "open", ("c1",), ()), ("sales", "open", ("c2",), ())],
                 id="one-caller-in-two-groups-two-entries"),
    pytest.param([C1, missed_in("support", "c2", 10, OTHER)], [], {},
                 [("support", "open", ("c1",), ()), ("support", "open", ("c2",), ())],
                 id="two-callers-two-entries"),
    pytest.param([answered_call("a1", 0, "201", "support")], [], {}, [],
                 id="answered-call-is-no-entry"),
    pytest.param([answered_call("a1", 0, "201", "support"), missed_in("support", "c1", 10)],
                 [], {}, [("support", "open", ("c1",), ())],
                 id="answer-before-the-missed-call-does-not-close"),
    # --- answered inbound calls after the missed one
    pytest.param([C1, answered_call("a1", 10, "202", "support")], [], {},
                 [("support", "done", ("c1",), ())], id="answered-in-same-group-closes"),
    pytest.param([C1, answered_call("a1", 10, "210", "support")], [], {},
                 [("support", "done", ("c1",), ())],
                 id="answered-in-same-group-by-anyone-closes"),
    pytest.param([C1, answered_call("a1", 10, "203", "sales")], [], {},
                 [("support", "open", ("c1",), ())], id="answered-in-other-group-off"),
    pytest.param([C1, answered_call("a1", 10, "203", "sales")], [],
                 {"resolve_other_groups": True}, [("support", "done", ("c1",), ())],
                 id="answered-in-other-group-on"),
    pytest.param([C1, answered_call("a1", 10, "203", "sales")], [], {"resolve_users": True},
                 [("support", "open", ("c1",), ())],
                 id="answered-in-other-group-not-resolved-by-users-option"),
    pytest.param([C1, answered_call("a1", 10, "210", None)], [], {},
                 [("support", "open", ("c1",), ())], id="answered-by-user-in-no-group-off"),
    pytest.param([C1, answered_call("a1", 10, "210", None)], [], {"resolve_users": True},
                 [("support", "done", ("c1",), ())], id="answered-by-user-in-no-group-on"),
    pytest.param([C1, answered_call("a1", 10, "210", None)], [],
                 {"resolve_other_groups": True}, [("support", "open", ("c1",), ())],
                 id="answered-by-user-in-no-group-not-resolved-by-other-groups-option"),
    pytest.param([C1, answered_call("a1", 10, "202", None)], [], {},
                 [("support", "done", ("c1",), ())],
                 id="answered-directly-by-member-of-the-group"),
    pytest.param([C1, answered_call("a1", 10, "203", None)], [], {"resolve_users": True},
                 [("support", "open", ("c1",), ())],
                 id="answered-directly-by-member-of-other-group-off"),
    pytest.param([C1, answered_call("a1", 10, "203", None)], [],
                 {"resolve_other_groups": True}, [("support", "done", ("c1",), ())],
                 id="answered-directly-by-member-of-other-group-on"),
    pytest.param([C1, answered_call("a1", 10, "202", "support", OTHER)], [], {},
                 [("support", "open", ("c1",), ())], id="answer-of-another-caller-no-effect"),
    # --- attempts
    pytest.param([C1, failed("o1", 5)], [], {}, [("support", "attempts", ("c1",), ("o1",))],
                 id="attempt-by-member"),
    pytest.param([C1, failed("o1", 5, "203")], [], {}, [("support", "open", ("c1",), ())],
                 id="attempt-by-non-member-off"),
    pytest.param([C1, failed("o1", 5, "203")], [], {"count_non_member_attempts": True},
                 [("support", "attempts", ("c1",), ("o1",))], id="attempt-by-non-member-on"),
    pytest.param([C1, failed("o1", 5, "210")], [], {"count_non_member_attempts": True},
                 [("support", "attempts", ("c1",), ("o1",))],
                 id="attempt-by-user-in-no-group-on"),
    pytest.param([C1, reached("o1", 5, "203")], [], {}, [("support", "open", ("c1",), ())],
                 id="reaching-call-by-non-member-off-is-nothing"),
    pytest.param([C1, reached("o1", 5, "203")], [], {"count_non_member_attempts": True},
                 [("support", "done", ("c1",), ("o1",))], id="reaching-call-by-non-member-on"),
    pytest.param([C1, reached("o1", 5)], [], {}, [("support", "done", ("c1",), ("o1",))],
                 id="reaching-attempt-closes"),
    *(pytest.param([C1, failed("o1", 5, result=result)], [], {},
                   [("support", "attempts", ("c1",), ("o1",))], id=f"attempt-result-{result}")
      for result in ("no_answer", "busy", "congestion", "failed")),
    pytest.param([C1, outbound("o1", 5, "201", OTHER, "answered")], [], {},
                 [("support", "open", ("c1",), ())], id="call-to-another-number-no-attempt"),
    pytest.param([C1, outbound("o1", 5, "201", "0301110001", "no_answer")], [], {},
                 [("support", "attempts", ("c1",), ("o1",))],
                 id="attempt-dialled-national"),
    pytest.param([failed("o1", -5), C1], [], {}, [("support", "open", ("c1",), ())],
                 id="outbound-before-first-missed-no-attempt"),
    pytest.param([C1, failed("o1", 10)], [action("done", 5, "c1")], {},
                 [("support", "done", ("c1",), ())], id="outbound-after-closing-no-attempt"),
    pytest.param([C1, reached("o1", 5), failed("o2", 10)], [], {},
                 [("support", "done", ("c1",), ("o1",))],
                 id="outbound-after-reached-no-attempt"),
    # --- the not-reached limit
    pytest.param([C1, failed("o1", 1), failed("o2", 2, result="busy")], [], {},
                 [("support", "attempts", ("c1",), ("o1", "o2"))], id="limit-3-two-failed"),
    pytest.param([C1, failed("o1", 1), failed("o2", 2, result="busy"),
                  failed("o3", 3, result="congestion")], [], {},
                 [("support", "not_reached", ("c1",), ("o1", "o2", "o3"))],
                 id="limit-3-three-failed-not-reached"),
    pytest.param([C1, failed("o1", 1), failed("o2", 2), reached("o3", 3)], [], {},
                 [("support", "done", ("c1",), ("o1", "o2", "o3"))],
                 id="limit-3-reaching-third-closes-done"),
    pytest.param([C1, *(failed(f"o{i}", i) for i in range(1, 5))], [], {},
                 [("support", "not_reached", ("c1",), ("o1", "o2", "o3"))],
                 id="limit-3-fourth-call-after-not-reached-no-attempt"),
    pytest.param([C1, *(failed(f"o{i}", i) for i in range(1, 7))], [],
                 {"not_reached_limit": 0},
                 [("support", "attempts", ("c1",), tuple(f"o{i}" for i in range(1, 7)))],
                 id="limit-0-never"),
    pytest.param([C1, failed("o1", 1)], [], {"not_reached_limit": 1},
                 [("support", "not_reached", ("c1",), ("o1",))], id="limit-1"),
    # --- min outbound duration (ringing included) and the talk needed to reach
    pytest.param([C1, failed("o1", 5, ring_s=9)], [], {"min_outbound_duration": 10},
                 [("support", "open", ("c1",), ())], id="min-outbound-too-short-no-attempt"),
    pytest.param([C1, failed("o1", 5, ring_s=10)], [], {"min_outbound_duration": 10},
                 [("support", "attempts", ("c1",), ("o1",))],
                 id="min-outbound-exactly-is-attempt"),
    pytest.param([C1, reached("o1", 5, ring_s=8, talk_s=5)], [], {"min_outbound_duration": 10},
                 [("support", "attempts", ("c1",), ("o1",))],
                 id="min-outbound-answered-too-short-to-reach"),
    pytest.param([C1, reached("o1", 5, ring_s=2, talk_s=10)], [],
                 {"min_outbound_duration": 10}, [("support", "done", ("c1",), ("o1",))],
                 id="min-outbound-answered-long-enough-reaches"),
    pytest.param([C1, reached("o1", 5, ring_s=2, talk_s=5)], [],
                 {"min_outbound_duration": 10}, [("support", "open", ("c1",), ())],
                 id="min-outbound-answered-shorter-than-min-no-attempt"),
    pytest.param([C1, reached("o1", 5, ring_s=2, talk_s=1)], [], {},
                 [("support", "done", ("c1",), ("o1",))], id="min-outbound-0-any-answer-reaches"),
    pytest.param([C1, failed("o1", 1, ring_s=20), failed("o2", 2, ring_s=5),
                  failed("o3", 3, ring_s=20), failed("o4", 4, ring_s=3)], [],
                 {"min_outbound_duration": 10},
                 [("support", "attempts", ("c1",), ("o1", "o3"))],
                 id="too-short-calls-do-not-count-toward-the-limit"),
    # --- manual actions
    pytest.param([C1], [action("done", 5, "c1")], {}, [("support", "done", ("c1",), ())],
                 id="marked-done"),
    pytest.param([C1], [action("not_reached", 5, "c1")], {},
                 [("support", "not_reached", ("c1",), ())], id="marked-not-reached"),
    pytest.param([C1], [action("done", 5, "c1"), action("reopen", 6, "c1")], {},
                 [("support", "open", ("c1",), ())], id="reopen-done"),
    pytest.param([C1, failed("o1", 2)], [action("not_reached", 5, "c1"),
                                         action("reopen", 6, "c1")], {},
                 [("support", "attempts", ("c1",), ("o1",))],
                 id="reopen-not-reached-with-attempts"),
    pytest.param([C1], [action("reopen", 5, "c1")], {}, [("support", "open", ("c1",), ())],
                 id="reopen-open-entry-no-op"),
    pytest.param([C1, failed("o1", 1), failed("o2", 2), failed("o3", 3)],
                 [action("done", 5, "c1")], {},
                 [("support", "not_reached", ("c1",), ("o1", "o2", "o3"))],
                 id="done-on-closed-entry-no-op"),
    pytest.param([C1], [action("done", 5, "nope")], {}, [("support", "open", ("c1",), ())],
                 id="action-on-unknown-entry-ignored"),
    pytest.param([C1], [action("done", 5, "c1", group="sales")], {},
                 [("support", "open", ("c1",), ())], id="action-names-group-and-anchor"),
    pytest.param([C1, missed_in("support", "c2", 10)],
                 [action("done", 5, "c1"), action("reopen", 15, "c1")], {},
                 [("support", "done", ("c1",), ()), ("support", "open", ("c2",), ())],
                 id="reopen-refused-when-newer-entry-open"),
    pytest.param([C1, missed_in("support", "c2", 10)],
                 [action("done", 5, "c1"), action("done", 12, "c2"), action("reopen", 15, "c1")],
                 {}, [("support", "open", ("c1",), ()), ("support", "done", ("c2",), ())],
                 id="reopen-allowed-when-newer-entry-closed"),
    pytest.param([C1, missed_in("sales", "c2", 10)],
                 [action("done", 5, "c1"), action("reopen", 15, "c1")], {},
                 [("support", "open", ("c1",), ()), ("sales", "open", ("c2",), ())],
                 id="reopen-not-refused-by-entry-in-other-group"),
    pytest.param([C1, failed("o1", 1), failed("o2", 2), failed("o3", 3), failed("o4", 6),
                  failed("o5", 7)], [action("reopen", 5, "c1")], {},
                 [("support", "attempts", ("c1",), ("o1", "o2", "o3", "o4", "o5"))],
                 id="reopen-then-attempts-count-from-the-reopen"),
    pytest.param([C1, failed("o1", 1), failed("o2", 2), failed("o3", 3), failed("o4", 6),
                  failed("o5", 7), failed("o6", 8)], [action("reopen", 5, "c1")], {},
                 [("support", "not_reached", ("c1",),
                   ("o1", "o2", "o3", "o4", "o5", "o6"))],
                 id="reopen-then-limit-reached-again"),
    pytest.param([C1, failed("o1", 6)], [action("done", 5, "c1"), action("reopen", 7, "c1")],
                 {}, [("support", "open", ("c1",), ())],
                 id="outbound-while-closed-stays-no-attempt-after-reopen"),
    # --- outcomes set by agents override the PBX result, whenever they are set
    pytest.param([C1, reached("o1", 5)],
                 [action("outcome", 20, "c1", call_key="o1", outcome="voicemail")], {},
                 [("support", "attempts", ("c1",), ("o1",))],
                 id="outcome-voicemail-answer-does-not-close"),
    pytest.param([C1, failed("o1", 5)],
                 [action("outcome", 20, "c1", call_key="o1", outcome="reached")], {},
                 [("support", "done", ("c1",), ("o1",))], id="outcome-reached-closes"),
    pytest.param([C1, reached("o1", 5)],
                 [action("outcome", 20, "c1", call_key="o1", outcome="no_answer")], {},
                 [("support", "attempts", ("c1",), ("o1",))],
                 id="outcome-no-answer-on-answered-attempt-does-not-close"),
    pytest.param([C1, reached("o1", 5)],
                 [action("outcome", 20, "c1", call_key="o1", outcome="wrong_number")], {},
                 [("support", "not_reached", ("c1",), ("o1",))],
                 id="outcome-wrong-number-not-reached"),
    pytest.param([C1, reached("o1", 5)],
                 [action("outcome", 20, "c1", call_key="o1", outcome="voicemail"),
                  action("outcome", 30, "c1", call_key="o1", outcome="reached")], {},
                 [("support", "done", ("c1",), ("o1",))], id="outcome-latest-wins"),
    pytest.param([C1, failed("o1", 1), failed("o2", 2), reached("o3", 3)],
                 [action("outcome", 20, "c1", call_key="o3", outcome="voicemail")], {},
                 [("support", "not_reached", ("c1",), ("o1", "o2", "o3"))],
                 id="outcome-voicemail-on-third-attempt-hits-limit"),
    pytest.param([C1, reached("o1", 5)],
                 [action("outcome", 20, "c1", call_key="o1", outcome="bogus")], {},
                 [("support", "done", ("c1",), ("o1",))], id="outcome-unknown-value-ignored"),
    pytest.param([C1, reached("o1", 5), missed_in("support", "c2", 10)],
                 [action("outcome", 20, "c1", call_key="o1", outcome="voicemail")], {},
                 [("support", "attempts", ("c1", "c2"), ("o1",))],
                 id="outcome-voicemail-later-missed-call-joins"),
    pytest.param([C1, failed("o1", 5)],
                 [action("outcome", 20, "c1", call_key="o9", outcome="reached")], {},
                 [("support", "attempts", ("c1",), ("o1",))],
                 id="outcome-for-another-call-no-effect"),
]


@pytest.mark.parametrize(("calls", "actions", "settings", "expected"), TABLE)
def test_build_entries(calls, actions, settings, expected):
    assert rows(build_entries(calls, actions, policy(**settings))) == expected


def test_joined_call_raises_count_and_last_call_time():
    entries = build_entries([missed_in("support", "c1", 0), missed_in("support", "c2", 10),
                             missed_in("support", "c3", 25)], [], policy())
    [entry] = entries
    assert entry.count == 3
    assert (entry.first_call_at, entry.last_call_at) == (at(0), at(25 * 60))
    assert entry.anchor_key == "c1"


def test_entry_keeps_what_the_lists_show():
    call = inbound("c1", 0, "0301110003", "support", ended="abandoned", ring_s=8,
                   name="Fischer")
    attempt = outbound("o1", 5, "201", "+49301110003", ring_s=4)
    [entry] = build_entries([call, attempt], [], policy())
    assert (entry.number, entry.e164, entry.name, entry.anonymous) == (
        "0301110003", "+49301110003", "Fischer", False)
    assert [(c.ended, c.ring_s) for c in entry.calls] == [("abandoned", 8)]
    assert [(a.by, a.result, a.outcome, a.ring_s, a.at) for a in entry.attempts] == [
        ("201", "no_answer", None, 4, at(300))]


def test_a_name_learnt_from_a_later_call_fills_the_entry():
    calls = [inbound("c1", 0), inbound("c2", 5, name="Mueller")]
    assert build_entries(calls, [], policy())[0].name == "Mueller"


@pytest.mark.parametrize(("calls", "actions", "reason", "closed_by"), [
    pytest.param([C1, reached("o1", 5, "202")], [], "reached by 202", "o1", id="reached"),
    pytest.param([C1, answered_call("a1", 5, "202", "support")], [],
                 "answered by 202 in support", "a1", id="answered-in-group"),
    pytest.param([C1], [action("done", 5, "c1", by="ben")], "marked done by ben", None,
                 id="marked-done"),
    pytest.param([C1], [action("not_reached", 5, "c1", by="ben")],
                 "marked not reached by ben", None, id="marked-not-reached"),
    pytest.param([C1, *(failed(f"o{i}", i) for i in (3, 4, 5))], [],
                 "not reached after 3 attempts", "o5", id="limit"),
    pytest.param([C1, reached("o1", 5)], [action("outcome", 9, "c1", call_key="o1",
                                                  outcome="wrong_number")],
                 "wrong number (said 201)", "o1", id="wrong-number"),
    pytest.param([C1], [action("expire", 5, "c1", by="system")], "expired", None,
                 id="expired"),
])
def test_closed_reason(calls, actions, reason, closed_by):
    [entry] = build_entries(calls, actions, policy())
    assert (entry.closed_reason, entry.closed_by_call, entry.closed_at) == (
        reason, closed_by, at(300))


def test_outcome_is_kept_on_the_attempt():
    [entry] = build_entries([C1, reached("o1", 5)],
                            [action("outcome", 20, "c1", call_key="o1", outcome="voicemail")],
                            policy())
    assert [(a.result, a.outcome) for a in entry.attempts] == [("answered", "voicemail")]


def test_one_attempt_counts_in_every_group_where_the_caller_dialled_is_member():
    # 203 is a member of sales and of hotline: one callback reaches the caller for both.
    calls = [missed_in("sales", "c1", 0), missed_in("hotline", "c2", 1), reached("o1", 5, "203")]
    assert rows(build_entries(calls, [], policy())) == [
        ("sales", "done", ("c1",), ("o1",)), ("hotline", "done", ("c2",), ("o1",))]


# --- options that classify() decides, through to the entries


S01 = "+49301110001"


def judged(*records, **settings):
    rules = policy(**settings)
    return [c for r in records if (c := classify(r, rules)) is not None], rules


@pytest.mark.parametrize(("min_talk", "expected"), [
    pytest.param(0, [("support", "done", ("1.0",), ())], id="talk-long-enough-closes"),
    pytest.param(8, [("support", "done", ("1.0",), ())], id="talk-exactly-min-closes"),
    pytest.param(9, [("support", "open", ("1.0", "2.0"), ())], id="too-short-is-missed-again"),
])
def test_min_inbound_talk(min_talk, expected):
    calls, rules = judged(record(queue_legs("1.0", S01)),
                          record(queue_legs("2.0", S01, 600, answered_by="201", ring=3, talk=5)),
                          min_inbound_talk=min_talk)
    assert rows(build_entries(calls, [], rules)) == expected


@pytest.mark.parametrize(("show_internal", "expected"), [
    pytest.param(False, [], id="off"),
    pytest.param(True, [("sales", "open", ("12.0",), ())], id="on"),
])
def test_show_internal(show_internal, expected):
    calls, rules = judged(record(ringall_legs("12.0", "210", context="from-internal")),
                          record(internal_legs("13.0", "201", "202")),
                          show_internal=show_internal)
    entries = build_entries(calls, [], rules)
    assert rows(entries) == expected
    assert all(e.party_key == "ext:210" for e in entries)


@pytest.mark.parametrize(("mailbox_unanswered", "expected"), [
    pytest.param(True, [("sales", "open", ("4.0",), ())], id="on-voicemail-is-missed"),
    pytest.param(False, [], id="off-voicemail-answered"),
])
def test_mailbox_unanswered(mailbox_unanswered, expected):
    calls, rules = judged(record(ringall_legs("4.0", "+49301110004", ring=20, busy=("204",),
                                              voicemail=9)),
                          mailbox_unanswered=mailbox_unanswered)
    entries = build_entries(calls, [], rules)
    assert rows(entries) == expected
    assert [c.ended for e in entries for c in e.calls] == ["voicemail"] * len(expected)


def test_voicemail_answer_closes_an_open_entry_in_the_same_group_when_it_counts():
    calls, rules = judged(record(ringall_legs("5.0", "+49301110004")),
                          record(ringall_legs("6.0", "+49301110004", 600, ring=20, voicemail=9)),
                          mailbox_unanswered=False)
    [entry] = build_entries(calls, [], rules)
    assert (entry.state, entry.closed_reason) == ("done", "answered by voicemail in sales")


def test_anonymous_callers_never_merge():
    calls, rules = judged(record(queue_legs("9.0", "anonymous", wait=30, timeout=True)),
                          record(queue_legs("9.1", "anonymous", 600, wait=5)),
                          record(queue_legs("9.2", "restricted", 900, wait=5)))
    entries = build_entries(calls, [], rules)
    assert rows(entries) == [("support", "open", (key,), ()) for key in ("9.0", "9.1", "9.2")]
    assert all(e.anonymous and e.e164 is None and e.number == "anonymous" for e in entries)


@pytest.mark.parametrize(("settings", "expected"), [
    pytest.param({}, [("support", "done", ("10a",), ("10c",)), ("sales", "open", ("10b",), ())],
                 id="callback-by-member-of-one-group-only"),
    pytest.param({"count_non_member_attempts": True},
                 [("support", "done", ("10a",), ("10c",)),
                  ("sales", "done", ("10b",), ("10c",))], id="non-member-attempts-count"),
])
def test_one_caller_in_two_groups_s10(settings, expected):
    # S10: 0301110003 misses support, +49301110003 misses sales, 201 (support) calls back
    # 0301110003 and reaches the caller.
    calls, rules = judged(
        record(queue_legs("10a", "0301110003", wait=6), queue_events("10a", "0301110003",
                                                                     wait=6)),
        record(ringall_legs("10b", "+49301110003", 12)),
        record(outbound_legs("10c", "201", "0301110003", 29, result="answered", ring=2,
                             talk=3)), **settings)
    assert rows(build_entries(calls, [], rules)) == expected


# --- the real recordings of fixtures/asterisk against EXPECTED.md


RUNS = ("runA_unanswered_yes", "runB_default_cdr")
CUSTOM_FIELDS = ("start,answer,end,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,"
                 "duration,billsec,disposition,amaflags,accountcode,uniqueid,linkedid,"
                 "peeraccount,sequence,userfield")
EXPECTED_1 = [
    ("support", "+49301110001", "done", 1, 3),
    ("support", "+49301110017", "open", 1, 0),
    ("support", "anonymous", "open", 1, 0),
    ("support", "+49301110003", "done", 1, 1),
    ("sales", "+49301110004", "open", 1, 0),
    ("sales", "+49301110007", "open", 1, 0),
    ("sales", "+49301110003", "open", 1, 0),
    ("hotline", "+49301110005", "done", 1, 2),
]
EXPECTED_2 = [
    ("support", "+49301110001", "done", 1, 0),
    ("support", "+49301110017", "open", 1, 0),
    ("support", "anonymous", "open", 1, 0),
    ("support", "+49301110003", "done", 1, 1),
    ("sales", "+49301110007", "open", 1, 0),
    ("sales", "+49301110003", "done", 1, 1),
    ("hotline", "+49301110005", "done", 1, 2),
]


def profile_policy(profile: int) -> Policy:
    """The policy the app builds from fixtures/asterisk/profile{1,2}.yaml (see policy_loader)."""
    data = yaml.safe_load((FIXTURES / f"profile{profile}.yaml").read_text())
    settings = defaults() | data["settings"]
    groups = [GroupDef(g["name"], g["type"], str(g["pbx_id"]), frozenset(g["members"]))
              for g in data["groups"]]
    users = data["users"]
    return Policy.from_settings(settings, groups, {u["extension"] for u in users},
                                {u["name"]: u["extension"] for u in users})


def fixture_legs(run: str, source: str):
    if source == "cdr_custom":
        path, layout = FIXTURES / run / "cdr-custom" / "cdr_custom.csv", \
            CdrLayout.from_fields(CUSTOM_FIELDS)
    else:
        path = FIXTURES / run / ("cdr-csv/Master.csv" if source == "master"
                                 else "cdr_sqlite3_master_db.csv")
        layout = detect_cdr_layout([text for _, text in read_lines(path)[:3]])
    parsed = list(parse_cdr(read_lines(path), layout, UTC, path.name))
    assert not [p for p in parsed if isinstance(p, ParseProblem)]
    return parsed


def fixture_queue_events(run: str):
    parsed = list(parse_queue_log(read_lines(FIXTURES / run / "queue_log"), "queue_log"))
    assert not [p for p in parsed if isinstance(p, ParseProblem)]
    return parsed


@pytest.mark.parametrize("profile", [1, 2])
@pytest.mark.parametrize("source", ["master", "master+queue_log", "cdr_custom", "sqlite3"])
@pytest.mark.parametrize("run", RUNS)
def test_fixture_recordings_give_the_expected_entries(run, source, profile):
    legs = fixture_legs(run, source.split("+")[0])
    events = fixture_queue_events(run) if "queue_log" in source else []
    rules = profile_policy(profile)
    calls = [c for r in assemble(legs, events) if (c := classify(r, rules)) is not None]
    entries = build_entries(calls, [], rules)
    got = [(e.group, e.e164 or e.number, e.state, e.count, len(e.attempts)) for e in entries]
    assert sorted(got) == sorted(EXPECTED_1 if profile == 1 else EXPECTED_2)


def test_fixture_queue_log_adds_exact_times_and_nothing_else():
    rules = profile_policy(1)
    legs, events = fixture_legs(RUNS[0], "master"), fixture_queue_events(RUNS[0])
    cdr_only = {c.key: c for r in assemble(legs) if (c := classify(r, rules))}
    with_log = {c.key: c for r in assemble(legs, events) if (c := classify(r, rules))}
    assert cdr_only.keys() == with_log.keys()
    # S02: billsec 8 counts from the PBX's answer, queue_log's talk time is 6.
    assert (cdr_only["1795327880.3"].talk_s, with_log["1795327880.3"].talk_s) == (8, 6)
    assert with_log["1795327880.3"].answered_by == "201"
    # S09 ended by the queue's timeout, whichever source says so.
    assert cdr_only["1795328063.29"].ended == with_log["1795328063.29"].ended == "timeout"
    assert cdr_only["1795327866.0"].ended == with_log["1795327866.0"].ended == "abandoned"
