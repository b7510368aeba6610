"""Who is told about a missed call (notify.rules): every mode, every exception, one per person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callback_module.notify.rules import (
    CallFacts,
    Decision,
    Earlier,
    NotifyPolicy,
    Person,
    Ring,
    decide,
    is_late,
    rings_of,
)
from callback_module.parsers.cdr import detect_cdr_layout, parse_cdr
from callback_module.records import assemble

from conftest import FIXTURES

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Berlin
ANNA, BEN, CLARA = (Person(1, "201", True, "anna@example.org", T0 - timedelta(days=1)),
                    Person(2, "202", True, "ben@example.org", T0 - timedelta(days=1)),
                    Person(3, "203", True, "clara@example.org", T0 - timedelta(days=1)))
PEOPLE = {p.extension: p for p in (ANNA, BEN, CLARA)}


def rings(*extensions: str) -> tuple[Ring, ...]:
    return tuple(Ring(ext, T0 + timedelta(seconds=5 * i)) for i, ext in enumerate(extensions))


def call(**overrides) -> CallFacts:
    values = dict(key="c1", party_key="+49301110001", at=T0, anonymous=False, internal=False,
                  answered=False, answered_by="", rings=rings("201", "202", "201", "202"),
                  ring_s=20, has_contact=True)
    values.update(overrides)
    return CallFacts(**values)


def sent_to(decisions: list[Decision]) -> list[int]:
    return [d.user_id for d in decisions if d.send]


@pytest.mark.parametrize(("mode", "told"), [
    pytest.param("none", [], id="none: nobody"),
    pytest.param("first", [1], id="first member that rang"),
    pytest.param("last", [2], id="last member that rang"),
    pytest.param("all", [1, 2], id="all that rang, each once though each rang twice"),
    pytest.param("bogus", [], id="unknown mode: nobody"),
])
def test_recipients(mode, told):
    assert sent_to(decide(call(), NotifyPolicy(recipients=mode), PEOPLE, [], BERLIN)) == told


def test_last_is_by_time_not_by_order_of_first_ring():
    order = (Ring("202", T0), Ring("201", T0 + timedelta(seconds=5)),
             Ring("202", T0 + timedelta(seconds=30)))
    assert sent_to(decide(call(rings=order), NotifyPolicy(recipients="last"), PEOPLE, [],
                          BERLIN)) == [2]


def test_extensions_of_nobody_are_passed_over():
    facts = call(rings=rings("299", "201"))
    assert sent_to(decide(facts, NotifyPolicy(recipients="first"), PEOPLE, [], BERLIN)) == [1]
    assert decide(call(rings=rings("299")), NotifyPolicy(recipients="all"), PEOPLE, [],
                  BERLIN) == []


@pytest.mark.parametrize(("third_party", "answered_by", "told"), [
    pytest.param(False, "202", [], id="answered by a member that rang: nobody"),
    pytest.param(True, "202", [], id="answered by one that rang is no third party"),
    pytest.param(False, "205", [], id="picked up by a third party, option off"),
    pytest.param(True, "205", [1, 2], id="picked up by a third party, option on"),
    pytest.param(True, "", [], id="answered by the PBX (voicemail counted answered)"),
])
def test_answered_calls(third_party, answered_by, told):
    facts = call(answered=True, answered_by=answered_by)
    policy = NotifyPolicy(recipients="all", third_party_answered=third_party)
    assert sent_to(decide(facts, policy, PEOPLE, [], BERLIN)) == told


def test_third_party_who_also_rang_is_not_told_of_the_call_they_took():
    facts = call(answered=True, answered_by="203", rings=rings("201", "203"))
    # 203 rang and answered: not a third party, nobody is told
    assert decide(facts, NotifyPolicy(recipients="all", third_party_answered=True), PEOPLE,
                  [], BERLIN) == []


YESTERDAY = Earlier(1, T0 - timedelta(days=1))
THIS_MORNING = Earlier(1, T0 - timedelta(hours=2))  # 08:00 Berlin, same day


@pytest.mark.parametrize(("policy", "facts", "person", "earlier", "rule"), [
    pytest.param({}, {}, ANNA, [], "", id="told"),
    pytest.param({}, {}, Person(1, "201", False, "a@x"), [], "not_opted_in", id="opted out"),
    pytest.param({}, {}, Person(1, "201", True, ""), [], "no_email", id="no e-mail address"),
    pytest.param({}, {"internal": True}, ANNA, [], "internal", id="internal caller"),
    pytest.param({"skip_internal": False}, {"internal": True}, ANNA, [], "",
                 id="internal caller, exception off"),
    pytest.param({}, {"anonymous": True, "party_key": "anonymous:c1"}, ANNA, [], "withheld",
                 id="withheld number"),
    pytest.param({"skip_withheld": False}, {"anonymous": True}, ANNA, [], "",
                 id="withheld number, exception off"),
    pytest.param({"excluded": frozenset({"+49301110001"})}, {}, ANNA, [], "excluded",
                 id="number on the exclusion list (door phone)"),
    pytest.param({}, {"ring_s": 1.5}, ANNA, [], "short_ring", id="rang less than 2 s"),
    pytest.param({}, {"ring_s": 2}, ANNA, [], "", id="rang 2 s"),
    pytest.param({"skip_short_ring": False}, {"ring_s": 1}, ANNA, [], "",
                 id="rang 1 s, exception off"),
    pytest.param({"skip_no_contact": True}, {"has_contact": False}, ANNA, [], "no_contact",
                 id="caller not in the address book"),
    pytest.param({}, {"has_contact": False}, ANNA, [], "", id="unknown caller, exception off"),
    pytest.param({"skip_repeat_same_day": True}, {}, ANNA, [THIS_MORNING], "repeat_same_day",
                 id="repeated call the same day"),
    pytest.param({"skip_repeat_same_day": True}, {}, ANNA, [YESTERDAY], "",
                 id="repeated call, but yesterday"),
    pytest.param({"skip_repeat_same_day": True}, {}, ANNA, [Earlier(2, T0)], "",
                 id="the same day, but told to someone else"),
    pytest.param({"skip_repeat_not_logged_in": True}, {}, ANNA, [THIS_MORNING],
                 "repeat_not_logged_in", id="repeated call, not logged in since"),
    pytest.param({"skip_repeat_not_logged_in": True}, {},
                 Person(1, "201", True, "a@x", T0 - timedelta(hours=1)), [THIS_MORNING], "",
                 id="repeated call, logged in since"),
    pytest.param({"skip_repeat_not_logged_in": True}, {},
                 Person(1, "201", True, "a@x", None), [YESTERDAY], "repeat_not_logged_in",
                 id="repeated call, never logged in"),
    pytest.param({"skip_repeat_same_day": False, "skip_repeat_not_logged_in": False}, {}, ANNA,
                 [THIS_MORNING], "", id="repeated call, exceptions off"),
])
def test_exceptions(policy, facts, person, earlier, rule):
    decisions = decide(call(rings=rings(person.extension), **facts),
                       NotifyPolicy(recipients="all", **policy), {person.extension: person},
                       earlier, BERLIN)
    assert decisions == [Decision(person.user_id, not rule, rule)]


def test_same_day_is_the_pbx_day():
    # 23:30 UTC is already the next day in Berlin: not the same day as 22:00 UTC before.
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    facts = call(at=late, rings=(Ring("201", late),))
    policy = NotifyPolicy(recipients="all", skip_repeat_same_day=True)
    earlier = [Earlier(1, datetime(2026, 11, 23, 22, 0, tzinfo=UTC))]
    assert sent_to(decide(facts, policy, {"201": ANNA}, earlier, BERLIN)) == [1]
    assert sent_to(decide(facts, policy, {"201": ANNA}, earlier, UTC)) == []


@pytest.mark.parametrize(("minutes", "late"), [(0, False), (14.9, False), (15, False),
                                               (15.1, True), (600, True)])
def test_a_call_learned_of_late_tells_nobody(minutes, late):
    assert is_late(T0, T0 + timedelta(minutes=minutes)) is late


def test_s09_two_members_each_rang_twice():
    """The recorded S09: the queue rang 201 and 202 twice each; "all" tells each once."""
    lines = list(enumerate((FIXTURES / "runA_unanswered_yes" / "cdr-csv" / "Master.csv")
                           .read_text().splitlines(), 1))
    legs = parse_cdr(lines, detect_cdr_layout([t for _, t in lines[:5]]), UTC, "Master.csv")
    s09 = next(r for r in assemble(legs, []) if any(
        leg.lastapp == "Hangup" and leg.disposition == "ANSWERED" and "anonymous" in
        leg.clid.lower() for leg in r.legs))
    found = rings_of(s09, {})
    assert [r.extension for r in found] == ["201", "202", "201", "202"]
    facts = call(rings=found, anonymous=False)
    decisions = decide(facts, NotifyPolicy(recipients="all"), PEOPLE, [], BERLIN)
    assert sent_to(decisions) == [1, 2]


extensions = st.sampled_from(["201", "202", "203", "299"])
ring_lists = st.lists(st.tuples(extensions, st.integers(0, 120)), max_size=8)


@given(ring_lists, st.sampled_from(["first", "last", "all"]))
def test_never_two_decisions_for_one_person(pairs, mode):
    facts = call(rings=tuple(sorted((Ring(e, T0 + timedelta(seconds=s)) for e, s in pairs),
                                    key=lambda r: r.at)))
    decisions = decide(facts, NotifyPolicy(recipients=mode), PEOPLE, [], BERLIN)
    users = [d.user_id for d in decisions]
    assert len(users) == len(set(users))
    assert set(users) <= {PEOPLE[e].user_id for e, _ in pairs if e in PEOPLE}
    assert decide(facts, NotifyPolicy(recipients=mode), PEOPLE, [], BERLIN) == decisions


@given(ring_lists)
def test_all_is_everyone_who_rang_whatever_the_order(pairs):
    facts = call(rings=tuple(Ring(e, T0 + timedelta(seconds=s)) for e, s in pairs))
    told = set(sent_to(decide(facts, NotifyPolicy(recipients="all"), PEOPLE, [], BERLIN)))
    assert told == {PEOPLE[e].user_id for e, _ in pairs if e in PEOPLE}
