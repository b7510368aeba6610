"""Build the entries of one caller from their calls and the agents' actions (SPEC §4).

``build_entries`` is a pure function: the same calls and actions, in any order and however they
were batched, give the same entries. The store calls it for every caller a sync touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .classify import Classified, InboundCall, OutboundCall
from .policy import Policy
from .reasons import reason

ACTION_KINDS = ("done", "not_reached", "reopen", "outcome", "expire")
OUTCOMES = ("reached", "no_answer", "busy", "voicemail", "wrong_number")


@dataclass(frozen=True)
class ManualAction:
    """An agent's (or the system's) action on an entry, a timestamped input to the rules.

    The entry is named by its group and anchor (the key of its first missed call), which stays
    the same however often the entries are rebuilt. ``outcome`` actions name an attempt's call.
    """

    at: datetime
    group: str
    anchor_key: str
    kind: str
    by: str = ""
    call_key: str = ""
    outcome: str = ""


@dataclass
class EntryCallState:
    key: str
    at: datetime
    ring_s: int
    ended: str
    rang: tuple[str, ...] = ()


@dataclass
class AttemptState:
    key: str
    at: datetime
    by: str
    result: str
    outcome: str | None
    ring_s: int
    talk_s: int


@dataclass
class EntryState:
    group: str
    party_key: str
    anchor_key: str
    number: str
    e164: str | None
    name: str
    anonymous: bool
    state: str = "open"
    calls: list[EntryCallState] = field(default_factory=list)
    attempts: list[AttemptState] = field(default_factory=list)
    closed_at: datetime | None = None
    closed_reason: str | None = None
    closed_by_call: str | None = None
    attempts_at_reopen: int = 0

    @property
    def is_open(self) -> bool:
        return self.state in ("open", "attempts")

    @property
    def count(self) -> int:
        return len(self.calls)

    @property
    def first_call_at(self) -> datetime:
        return self.calls[0].at

    @property
    def last_call_at(self) -> datetime:
        return self.calls[-1].at

    def close(self, state: str, at: datetime, reason: str, call_key: str | None = None) -> None:
        self.state, self.closed_at, self.closed_reason = state, at, reason
        self.closed_by_call = call_key

    def reopen(self) -> None:
        self.state = "attempts" if self.attempts else "open"
        self.closed_at = self.closed_reason = self.closed_by_call = None
        self.attempts_at_reopen = len(self.attempts)


_RANK = {InboundCall: 0, OutboundCall: 1, ManualAction: 2}


def _order(item: Classified | ManualAction) -> tuple:
    """Time order of the inputs. An inbound call counts from when it ended: an agent who
    clicked Done while it still rang had not seen it, so it must start a new entry."""
    if isinstance(item, ManualAction):
        key = "|".join((item.group, item.anchor_key, item.kind, item.by, item.call_key,
                        item.outcome))
        return (item.at, _RANK[ManualAction], key)
    at = item.ended_at or item.at if isinstance(item, InboundCall) else item.at
    return (at, _RANK[type(item)], item.key)


def build_entries(calls: Iterable[Classified], actions: Iterable[ManualAction],
                  policy: Policy) -> list[EntryState]:
    """All entries of the callers in ``calls``, in the order they were opened."""
    unique_calls = {c.key: c for c in calls}
    actions = list(dict.fromkeys(actions))
    outcomes = _latest_outcomes(actions)
    timeline = sorted([*unique_calls.values(),
                       *(a for a in actions if a.kind != "outcome")], key=_order)
    entries: list[EntryState] = []
    for item in timeline:
        if isinstance(item, InboundCall):
            _apply_inbound(item, entries, policy)
        elif isinstance(item, OutboundCall):
            _apply_outbound(item, entries, policy, outcomes.get(item.key))
        else:
            _apply_action(item, entries)
    return entries


def _latest_outcomes(actions: list[ManualAction]) -> dict[str, str]:
    # An outcome corrects what the PBX said about an attempt, so it applies to the attempt
    # itself, not from the moment the agent clicked (a voicemail "answer" must not close).
    latest: dict[str, ManualAction] = {}
    for action in sorted((a for a in actions if a.kind == "outcome"), key=_order):
        latest[action.call_key] = action
    return {k: a.outcome for k, a in latest.items() if a.outcome in OUTCOMES}


def _open_entries(entries: list[EntryState], party_key: str) -> list[EntryState]:
    return [e for e in entries if e.party_key == party_key and e.is_open]


def _apply_inbound(call: InboundCall, entries: list[EntryState], policy: Policy) -> None:
    if call.missed:
        entry = next((e for e in _open_entries(entries, call.party_key)
                      if e.group == call.group), None)
        if entry is None:
            entry = EntryState(group=call.group, party_key=call.party_key, anchor_key=call.key,
                               number=call.number, e164=call.e164, name=call.name,
                               anonymous=call.anonymous)
            entries.append(entry)
        entry.calls.append(EntryCallState(call.key, call.at, call.ring_s, call.ended, call.rang))
        if call.name and not entry.name:
            entry.name = call.name
        return
    if not call.answered:
        return
    for entry in _open_entries(entries, call.party_key):
        if resolves(entry.group, call, policy):
            code = "voicemail" if call.answered_by == "voicemail" else "answered"
            if call.answered_in:
                text = reason(f"{code}_in", who=call.answered_by, group=call.answered_in)
            else:
                text = reason(code, who=call.answered_by)
            entry.close("done", call.at, text, call.key)


def resolves(group: str, call: InboundCall, policy: Policy) -> bool:
    """Does this answered inbound call close the caller's open entry in ``group``?"""
    if call.answered_in == group:
        return True
    if call.answered_in is not None:
        return policy.resolve_other_groups
    if call.answered_by == "voicemail":
        return False  # a mailbox outside the groups is nobody's answer
    entry_group = policy.group_named(group)
    if entry_group and call.answered_by in entry_group.members:
        return True  # a direct call answered by a member of the group itself
    if policy.in_any_group(call.answered_by):
        return policy.resolve_other_groups
    return policy.resolve_users


def counts_as_attempt(group: str, call: OutboundCall, policy: Policy) -> bool:
    if call.duration_s < policy.min_outbound_duration:
        return False
    if policy.count_non_member_attempts:
        return True
    entry_group = policy.group_named(group)
    return bool(entry_group) and call.by in entry_group.members


def _apply_outbound(call: OutboundCall, entries: list[EntryState], policy: Policy,
                    outcome: str | None) -> None:
    for entry in _open_entries(entries, call.party_key):
        if not counts_as_attempt(entry.group, call, policy):
            continue
        entry.attempts.append(AttemptState(call.key, call.at, call.by, call.result, outcome,
                                           call.ring_s, call.talk_s))
        if outcome:
            reached = outcome == "reached"
        else:
            reached = call.answered and call.talk_s >= policy.min_outbound_duration
        tries = len(entry.attempts) - entry.attempts_at_reopen
        if reached:
            entry.close("done", call.at, reason("reached", who=call.by), call.key)
        elif outcome == "wrong_number":
            entry.close("not_reached", call.at, reason("wrong_number", who=call.by), call.key)
        elif policy.not_reached_limit and tries >= policy.not_reached_limit:
            entry.close("not_reached", call.at, reason("not_reached", num=tries), call.key)
        else:
            entry.state = "attempts"


def _apply_action(action: ManualAction, entries: list[EntryState]) -> None:
    entry = next((e for e in entries if e.group == action.group
                  and e.anchor_key == action.anchor_key), None)
    if entry is None:
        return
    if action.kind == "done" and entry.is_open:
        entry.close("done", action.at, reason("marked_done", who=action.by))
    elif action.kind == "expire" and entry.is_open:
        entry.close("done", action.at, reason("expired"))
    elif action.kind == "not_reached" and entry.is_open:
        entry.close("not_reached", action.at, reason("marked_not_reached", who=action.by))
    elif action.kind == "reopen" and not entry.is_open:
        others = [e for e in _open_entries(entries, entry.party_key) if e.group == entry.group]
        if not others:
            entry.reopen()
