"""The store: keeps call records, and rebuilds the entries of every caller they touch.

``ingest`` upserts legs and queue events by their stable keys (so the same data twice changes
nothing), classifies the calls they belong to, and hands the callers to ``recompute``, which runs
the pure rules over that caller's calls and actions and writes the differences. Only what is new
is read: a caller's calls are loaded back only as far as their oldest entry that may still change.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import selectinload

from .contacts.book import lookup_many
from .extensions import db
from .models import Attempt, Call, CallLeg, Entry, EntryCall, Group, QueueEventRow, TimelineEvent
from .records import CallRecord, Leg, QueueEvent, assemble
from .rules.classify import InboundCall, OutboundCall, classify
from .rules.entries import ACTION_KINDS, EntryState, ManualAction, build_entries
from .rules.policy import Policy

log = logging.getLogger("callback.store")
CHUNK = 500


@dataclass
class IngestResult:
    legs_new: int = 0
    queue_events_new: int = 0
    calls_touched: int = 0
    changed_entry_ids: set[int] = field(default_factory=set)


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def ingest(legs: Iterable[Leg], queue_events: Iterable[QueueEvent], policy: Policy,
           judged: list[tuple[CallRecord, InboundCall]] | None = None,
           recent_since: datetime | None = None) -> IngestResult:
    """Store new legs and queue events and rebuild the entries they affect. Idempotent.

    ``judged`` collects the inbound calls touched that ended after ``recent_since``, with their
    records (for notifications; older ones are history and tell nobody)."""
    result = IngestResult()
    records = assemble(legs, queue_events)
    if not records:
        return result
    calls = _load_or_create_calls([r.key for r in records])
    _resolve_queue_aliases(records, calls)
    touched: set[str] = set()
    existing_legs = _existing_keys(CallLeg, calls)
    existing_events = _existing_keys(QueueEventRow, calls)
    new_legs: list[dict] = []
    new_events: list[dict] = []
    for record in records:
        call = calls[record.key]
        for leg in record.legs:
            if (call.id, leg.key) not in existing_legs:
                existing_legs.add((call.id, leg.key))
                new_legs.append(CallLeg.values_of(leg, call.id))
                touched.add(call.key)
        for event in record.queue_events:
            if (call.id, event.key) not in existing_events:
                existing_events.add((call.id, event.key))
                new_events.append(QueueEventRow.values_of(event, call.id))
                touched.add(call.key)
    # Core inserts: a backfill writes hundreds of thousands of rows, ORM objects cost 3x more.
    for model, rows in ((CallLeg, new_legs), (QueueEventRow, new_events)):
        for chunk in _chunks(rows, 1000):
            db.session.execute(insert(model), list(chunk))
    result.legs_new, result.queue_events_new = len(new_legs), len(new_events)
    result.calls_touched = len(touched)
    since = _classify_calls([calls[k] for k in sorted(touched)], policy, judged, recent_since)
    result.changed_entry_ids = recompute(since, policy)
    return result


def _load_or_create_calls(keys: list[str]) -> dict[str, Call]:
    calls: dict[str, Call] = {}
    for chunk in _chunks(keys):
        found = db.session.scalars(select(Call).where(Call.key.in_(chunk)))
        calls.update((c.key, c) for c in found)
    placeholder = datetime(1970, 1, 1, tzinfo=UTC)
    for key in keys:
        if key not in calls:
            calls[key] = Call(key=key, started_at=placeholder, ended_at=placeholder)
            db.session.add(calls[key])
    db.session.flush()
    return calls


def _resolve_queue_aliases(records, calls: dict[str, Call]) -> None:
    """queue_log names the caller channel's uniqueid; the CDR may know the call by linkedid."""
    for record in records:
        if record.legs or not record.queue_events:
            continue
        owner = db.session.scalar(
            select(Call).join(CallLeg).where(CallLeg.uniqueid == record.key,
                                             Call.key != record.key).limit(1))
        if owner is not None:
            calls[record.key] = owner


def _existing_keys(model, calls: dict[str, Call]) -> set[tuple[int, str]]:
    ids = sorted({c.id for c in calls.values()})
    found: set[tuple[int, str]] = set()
    for chunk in _chunks(ids):
        found.update((row[0], row[1]) for row in db.session.execute(
            select(model.call_id, model.key).where(model.call_id.in_(chunk))))
    return found


def _classify_calls(calls: list[Call], policy: Policy,
                    collect: list[tuple[CallRecord, InboundCall]] | None = None,
                    recent_since: datetime | None = None) -> dict[str, datetime]:
    """Refresh each call's direction and party; return each affected party's earliest change."""
    since: dict[str, datetime] = {}
    _load_details(calls)
    for call in calls:
        record = call.record()
        judged = classify(record, policy)
        if collect is not None and isinstance(judged, InboundCall) and (
                recent_since is None or record.end >= recent_since):
            collect.append((record, judged))
        old_party, old_start = call.party_key, call.started_at
        call.started_at, call.ended_at = record.start, record.end
        if isinstance(judged, InboundCall):
            call.direction, call.party_key = "inbound", judged.party_key
        elif isinstance(judged, OutboundCall):
            call.direction, call.party_key = "outbound", judged.party_key
        else:
            call.direction, call.party_key = "other", ""
        for party, start in ((call.party_key, call.started_at), (old_party, old_start)):
            if party and (party not in since or start < since[party]):
                since[party] = start
    db.session.flush()
    return since


def _load_details(calls: list[Call]) -> None:
    ids = [c.id for c in calls]
    for chunk in _chunks(ids):
        list(db.session.scalars(select(Call).where(Call.id.in_(chunk)).options(
            selectinload(Call.legs), selectinload(Call.queue_events))
            .execution_options(populate_existing=True)))


def recompute(since: dict[str, datetime], policy: Policy) -> set[int]:
    """Rebuild the entries of each party from ``since[party]`` on; return the changed ids.

    Parties are handled in chunks with a few queries each, so the cost follows the number of
    callers touched, not the number of queries a caller would need on its own.
    """
    groups = {g.name: g for g in db.session.scalars(select(Group))}
    changed: set[int] = set()
    parties = sorted(since)
    for chunk in _chunks(parties, 200):
        changed |= _recompute_chunk({p: since[p] for p in chunk}, policy, groups)
    return changed


def _recompute_chunk(since: dict[str, datetime], policy: Policy,
                     groups: dict[str, Group]) -> set[int]:
    parties = list(since)
    windows = _window_starts(since)
    calls: dict[str, list] = defaultdict(list)
    # Each caller from their own window: one regular caller's old open entry must not make
    # the query read every other caller's history too.
    for call in db.session.scalars(
            select(Call).where(_per_party(Call.party_key, Call.started_at, windows))
            .options(selectinload(Call.legs), selectinload(Call.queue_events))):
        judged = classify(call.record(), policy)
        if judged is not None and judged.party_key == call.party_key:
            calls[call.party_key].append(judged)
    actions = _actions(windows)
    existing: dict[str, list[Entry]] = defaultdict(list)
    for entry in db.session.scalars(
            select(Entry).where(_per_party(Entry.party_key, Entry.first_call_at, windows))
            .options(selectinload(Entry.calls), selectinload(Entry.attempts))):
        existing[entry.party_key].append(entry)
    touched: list[Entry] = []
    deleted: set[int] = set()
    contacts = lookup_many(parties)  # public callers' party keys are their E.164 numbers
    for party in parties:
        states = [s for s in build_entries(calls.get(party, ()), actions.get(party, ()), policy)
                  if s.group in groups]
        for state in states:  # the address book's name wins over the PBX's caller ID
            if state.e164 in contacts and contacts[state.e164].name:
                state.name = contacts[state.e164].name
        rows, gone = _reconcile(states, existing.get(party, []), groups)
        touched += rows
        deleted |= gone
    db.session.flush()
    return {row.id for row in touched} | deleted


def _window_starts(since: dict[str, datetime]) -> dict[str, datetime]:
    """Go back, per party, to the first call of every entry that may still own calls after
    its start: an entry still open then, or closed only later, keeps taking calls and attempts.
    """
    oldest = min(since.values())
    spans: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for party, first, closed in db.session.execute(
            select(Entry.party_key, Entry.first_call_at, Entry.closed_at).where(
                Entry.party_key.in_(list(since)),
                or_(Entry.closed_at.is_(None), Entry.closed_at >= oldest))):
        spans[party].append((first, closed))
    windows = {}
    for party, start in since.items():
        while True:
            earlier = [first for first, closed in spans.get(party, ())
                       if first < start and (closed is None or closed >= start)]
            if not earlier:
                break
            start = min(earlier)
        windows[party] = start
    return windows


def _per_party(party_column, time_column, windows: dict[str, datetime]):
    """party = p AND time >= window(p), for each party: what one caller's rebuild reads."""
    return or_(*(and_(party_column == party, time_column >= start)
                 for party, start in windows.items()))


def _actions(windows: dict[str, datetime]) -> dict[str, list[ManualAction]]:
    rows = db.session.execute(
        select(TimelineEvent, Group.name).join(Group, TimelineEvent.group_id == Group.id)
        .where(_per_party(TimelineEvent.party_key, TimelineEvent.at, windows),
               TimelineEvent.kind.in_(ACTION_KINDS))).all()
    actions: dict[str, list[ManualAction]] = defaultdict(list)
    for ev, name in rows:
        actions[ev.party_key].append(ManualAction(
            at=ev.at, group=name, anchor_key=ev.anchor_key, kind=ev.kind, by=ev.username,
            call_key=ev.data.get("call_key", ""), outcome=ev.data.get("outcome", "")))
    return actions


def _reconcile(states: list[EntryState], existing: list[Entry],
               groups: dict[str, Group]) -> tuple[list[Entry], set[int]]:
    """Write the states over the existing rows; return the changed rows and deleted ids."""
    changed: list[Entry] = []
    unmatched = {e.id: e for e in existing}
    now = datetime.now(UTC)
    for state in states:
        group = groups[state.group]
        row = _match(state, group.id, unmatched)
        if row is None:
            row = Entry(group_id=group.id, party_key=state.party_key, revision=0)
            db.session.add(row)
        else:
            unmatched.pop(row.id)
        if _apply_state(row, state):
            row.revision = (row.revision or 0) + 1
            row.updated_at = now
            changed.append(row)
    for row in unmatched.values():
        db.session.delete(row)
    return changed, set(unmatched)


def _match(state: EntryState, group_id: int, candidates: dict[int, Entry]) -> Entry | None:
    keys = {c.key for c in state.calls}
    same_group = [e for e in candidates.values() if e.group_id == group_id]
    return next((e for e in same_group if e.anchor_key == state.anchor_key), None) or next(
        (e for e in same_group if keys & {c.call_key for c in e.calls}), None)


def _apply_state(row: Entry, state: EntryState) -> bool:
    """Write ``state`` into ``row``; True when anything a user could see changed."""
    before = _snapshot(row)
    row.anchor_key = state.anchor_key
    row.number = state.number
    row.number_e164 = state.e164
    row.name = state.name or row.name or ""
    row.state = state.state
    row.count = state.count
    row.first_call_at = state.first_call_at
    row.last_call_at = state.last_call_at
    row.closed_at = state.closed_at
    row.closed_reason = state.closed_reason
    if before is None or before[1] != _call_tuples(state) or before[2] != _attempt_tuples(state):
        row.calls = [EntryCall(call_key=c.key, at=c.at, ring_s=c.ring_s, ended=c.ended,
                               rang=list(c.rang)) for c in state.calls]
        row.attempts = [Attempt(call_key=a.key, at=a.at, by=a.by, result=a.result,
                                outcome=a.outcome, ring_s=a.ring_s, talk_s=a.talk_s)
                        for a in state.attempts]
    return before != _snapshot(row, state)


def _snapshot(row: Entry, state: EntryState | None = None) -> tuple | None:
    if row.id is None and state is None:
        return None
    head = (row.anchor_key, row.number, row.number_e164, row.name, row.state, row.count,
            row.first_call_at, row.last_call_at, row.closed_at, row.closed_reason)
    if state is not None:
        return head, _call_tuples(state), _attempt_tuples(state)
    calls = tuple((c.call_key, c.at, c.ring_s, c.ended, tuple(c.rang or ())) for c in row.calls)
    attempts = tuple((a.call_key, a.at, a.by, a.result, a.outcome, a.ring_s, a.talk_s)
                     for a in row.attempts)
    return head, calls, attempts


def _call_tuples(state: EntryState) -> tuple:
    return tuple((c.key, c.at, c.ring_s, c.ended, tuple(c.rang)) for c in state.calls)


def _attempt_tuples(state: EntryState) -> tuple:
    return tuple((a.key, a.at, a.by, a.result, a.outcome, a.ring_s, a.talk_s)
                 for a in state.attempts)


def recompute_all(policy: Policy) -> set[int]:
    """Rebuild every entry, e.g. after the settings or groups changed. Grows with history."""
    for calls in _all_call_chunks():
        _classify_calls(calls, policy)
    parties = db.session.execute(
        select(Call.party_key, func.min(Call.started_at)).where(Call.party_key != "")
        .group_by(Call.party_key))
    since: dict[str, datetime] = defaultdict(lambda: datetime.max.replace(tzinfo=UTC))
    for party, start in parties:
        since[party] = start
    for party, start in db.session.execute(
            select(Entry.party_key, func.min(Entry.first_call_at)).group_by(Entry.party_key)):
        since[party] = min(since[party], start)
    return recompute(dict(since), policy)


def _all_call_chunks() -> Iterable[list[Call]]:
    last_id = 0
    while True:
        calls = list(db.session.scalars(
            select(Call).where(Call.id > last_id).order_by(Call.id).limit(CHUNK)))
        if not calls:
            return
        last_id = calls[-1].id
        yield calls
