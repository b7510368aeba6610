"""Properties of the rules (SPEC §4 "applying the same call data twice, or in different batches,
gives the same lists"): order, duplicates and batching never change the entries."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callback_module.records import CallRecord, assemble, leg_order
from callback_module.rules.classify import classify
from callback_module.rules.entries import ACTION_KINDS, OUTCOMES, build_entries

from factories import (
    action,
    hunt_legs,
    inbound,
    outbound,
    outbound_legs,
    policy,
    queue_events,
    queue_legs,
    ringall_legs,
    snapshot,
)

PROPERTY_SETTINGS = settings(max_examples=100, deadline=None)
# Two spellings of one caller, another caller and a withheld one: merges and non-merges.
NUMBERS = ("+49301110001", "0301110001", "+49301110002", "anonymous")
GROUPS = ("support", "sales", "hotline", None)
EXTENSIONS = ("201", "202", "203", "210")
RESULTS = ("answered", "no_answer", "busy", "congestion", "failed")

rule_settings = st.fixed_dictionaries({
    "resolve_other_groups": st.booleans(),
    "resolve_users": st.booleans(),
    "count_non_member_attempts": st.booleans(),
    "min_outbound_duration": st.sampled_from((0, 10)),
    "not_reached_limit": st.sampled_from((0, 1, 2, 3)),
})

inbound_spec = st.tuples(
    st.integers(0, 40), st.sampled_from(NUMBERS), st.sampled_from(GROUPS), st.booleans(),
    st.sampled_from(EXTENSIONS), st.sampled_from(GROUPS))
outbound_spec = st.tuples(
    st.integers(0, 40), st.sampled_from(EXTENSIONS), st.sampled_from(NUMBERS[:3]),
    st.sampled_from(RESULTS), st.sampled_from((0, 5, 20)), st.sampled_from((1, 30)))
action_spec = st.tuples(
    st.sampled_from(ACTION_KINDS), st.integers(0, 40), st.integers(0, 20),
    st.sampled_from(GROUPS[:3]), st.sampled_from(("anna", "ben")), st.integers(0, 20),
    st.sampled_from((*OUTCOMES, "bogus")))


@st.composite
def calls_and_actions(draw):
    calls = []
    for n, (minute, number, group, answered, by, answered_in) in enumerate(
            draw(st.lists(inbound_spec, min_size=1, max_size=8))):
        if answered:
            calls.append(inbound(f"i{n}", minute, number, group, answered=True,
                                 answered_by=by, answered_in=answered_in))
        elif group is not None:
            calls.append(inbound(f"i{n}", minute, number, group))
    inbound_keys = [c.key for c in calls] or ["i0"]
    outbound_keys = []
    for n, (minute, by, number, result, ring, talk) in enumerate(
            draw(st.lists(outbound_spec, max_size=8))):
        calls.append(outbound(f"o{n}", minute, by, number, result, ring_s=ring,
                              talk_s=talk if result == "answered" else 0))
        outbound_keys.append(f"o{n}")
    actions = []
    for kind, minute, anchor, group, by, call, outcome in draw(st.lists(action_spec,
                                                                       max_size=6)):
        fields = {}
        if kind == "outcome":
            fields = {"call_key": outbound_keys[call % len(outbound_keys)] if outbound_keys
                      else "o0", "outcome": outcome}
        actions.append(action(kind, minute, inbound_keys[anchor % len(inbound_keys)], group,
                              by, **fields))
    return calls, actions


@PROPERTY_SETTINGS
@given(data=calls_and_actions(), options=rule_settings, order=st.data())
def test_any_order_of_the_same_calls_and_actions_gives_the_same_entries(data, options, order):
    calls, actions = data
    rules = policy(**options)
    expected = snapshot(build_entries(calls, actions, rules))
    shuffled_calls = order.draw(st.permutations(calls))
    shuffled_actions = order.draw(st.permutations(actions))
    assert snapshot(build_entries(shuffled_calls, shuffled_actions, rules)) == expected


@PROPERTY_SETTINGS
@given(data=calls_and_actions(), options=rule_settings, again=st.data())
def test_applying_the_same_calls_and_actions_twice_gives_the_same_entries(data, options, again):
    calls, actions = data
    rules = policy(**options)
    expected = snapshot(build_entries(calls, actions, rules))
    twice_calls = calls + (again.draw(st.lists(st.sampled_from(calls), max_size=len(calls)))
                           if calls else [])
    twice_actions = actions + (again.draw(st.lists(st.sampled_from(actions), max_size=4))
                               if actions else [])
    assert snapshot(build_entries(twice_calls, twice_actions, rules)) == expected
    assert snapshot(build_entries(calls + calls, actions + actions, rules)) == expected


# --- batches of real-shaped CDR legs and queue_log lines


SHAPES = ("queue_abandon", "queue_timeout", "queue_answered", "ringall_missed",
          "ringall_answered", "voicemail", "hunt_missed", "hunt_answered", "outbound")
shape_spec = st.tuples(
    st.sampled_from(SHAPES), st.sampled_from(NUMBERS), st.integers(0, 30), st.booleans(),
    st.sampled_from(("201", "202", "203", "204")), st.sampled_from(RESULTS))


def shaped_call(n: int, spec) -> tuple[list, list]:
    """The legs and queue_log events of one call of the given shape."""
    shape, number, minute, flag, agent, result = spec
    key, t0 = f"17953{n:05d}.{n}", 60 * minute
    if shape.startswith("queue"):
        timeout = shape == "queue_timeout"
        by = ("201" if agent in ("201", "203") else "202") if shape == "queue_answered" else None
        legs = queue_legs(key, number, t0, wait=30 if timeout else 8, answered_by=by,
                          timeout=timeout)
        events = queue_events(key, number, t0, wait=30 if timeout else 8, answered_by=by,
                              timeout=timeout) if flag else []
        return legs, events
    if shape == "ringall_missed":
        return ringall_legs(key, number, t0, busy=("204",) if flag else ()), []
    if shape == "ringall_answered":
        return ringall_legs(key, number, t0, answered_by="204" if flag else "203"), []
    if shape == "voicemail":
        return ringall_legs(key, number, t0, ring=20, voicemail=9), []
    if shape == "hunt_missed":
        return hunt_legs(key, number, t0, hangup_row=flag), []
    if shape == "hunt_answered":
        return hunt_legs(key, number, t0, answered_by="204" if flag else "203"), []
    dialled = "0301110001" if number == "anonymous" else number
    return outbound_legs(key, agent, dialled, t0, result=result, hangup_row=flag), []


@st.composite
def batched_calls(draw):
    specs = draw(st.lists(shape_spec, min_size=1, max_size=10))
    legs, events = [], []
    for n, spec in enumerate(specs):
        call_legs, call_events = shaped_call(n, spec)
        legs += call_legs
        events += call_events
    items = legs + events
    # Each leg or line goes to one batch, some also to a second one (a file read again).
    first = draw(st.lists(st.integers(0, 3), min_size=len(items), max_size=len(items)))
    again = draw(st.lists(st.integers(-1, 3), min_size=len(items), max_size=len(items)))
    batches: list[list] = [[] for _ in range(4)]
    for item, b1, b2 in zip(items, first, again, strict=True):
        batches[b1].append(item)
        if b2 >= 0:
            batches[b2].append(item)
    batches = [draw(st.permutations(batch)) for batch in batches]
    return legs, events, batches


def split(batch: list) -> tuple[list, list]:
    legs = [item for item in batch if not hasattr(item, "callid")]
    return legs, [item for item in batch if hasattr(item, "callid")]


def merged_by_key(batches: list[list]) -> list[CallRecord]:
    """What a store does: assemble each batch, keep every call's legs and lines by their keys."""
    calls: dict[str, tuple[dict, dict]] = {}
    for batch in batches:
        for record in assemble(*split(batch)):
            legs, events = calls.setdefault(record.key, ({}, {}))
            legs.update((leg.key, leg) for leg in record.legs)
            events.update((event.key, event) for event in record.queue_events)
    return [CallRecord(key, tuple(sorted(legs.values(), key=leg_order)),
                       tuple(sorted(events.values(), key=lambda e: (e.at, e.key))))
            for key, (legs, events) in sorted(calls.items())]


def entries_of(records: list[CallRecord], rules) -> list[tuple]:
    calls = [c for record in records if (c := classify(record, rules)) is not None]
    return snapshot(build_entries(calls, [], rules))


@PROPERTY_SETTINGS
@given(data=batched_calls(), options=rule_settings, mailbox=st.booleans())
def test_any_batching_of_the_call_data_gives_the_same_entries(data, options, mailbox):
    legs, events, batches = data
    rules = policy(mailbox_unanswered=mailbox, **options)
    whole = assemble(legs, events)
    union_legs = [leg for batch in batches for record in assemble(*split(batch))
                  for leg in record.legs]
    union_events = [event for batch in batches for record in assemble(*split(batch))
                    for event in record.queue_events]
    assert assemble(union_legs, union_events) == whole
    assert merged_by_key(batches) == whole
    assert entries_of(merged_by_key(batches), rules) == entries_of(whole, rules)
