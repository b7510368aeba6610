"""Keeping the lists within bounds: the per-group entry limit and the retention period."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from .extensions import db
from .models import (
    OPEN_STATES,
    Attempt,
    Call,
    Entry,
    EntryCall,
    Group,
    Notification,
    Settings,
    TimelineEvent,
)
from .rules.policy import Policy
from .store import recompute

log = logging.getLogger("callback.housekeeping")


def expire_overflow(policy: Policy, now: datetime | None = None) -> set[int]:
    """Close the oldest open entries of each group beyond "max entries per group" as expired.

    The expiry is written to the timeline as an action of the system, so that rebuilding the
    entries from the call data keeps it.
    """
    limit = Settings.load().max_entries_per_group
    if not limit:
        return set()
    now = now or datetime.now(UTC)
    since: dict[str, datetime] = {}
    for group in db.session.scalars(select(Group)):
        open_ids = list(db.session.scalars(
            select(Entry.id).where(Entry.group_id == group.id, Entry.state.in_(OPEN_STATES))
            .order_by(Entry.last_call_at.desc(), Entry.id.desc()).offset(limit)))
        for entry in db.session.scalars(select(Entry).where(Entry.id.in_(open_ids))):
            db.session.add(TimelineEvent(group_id=entry.group_id, party_key=entry.party_key,
                                         anchor_key=entry.anchor_key, at=now, kind="expire",
                                         username="Callback"))
            since[entry.party_key] = min(since.get(entry.party_key, entry.first_call_at),
                                         entry.first_call_at)
    if not since:
        return set()
    db.session.flush()
    log.info("expired %d entries beyond the limit of %d per group", len(since), limit)
    return recompute(since, policy)


def purge_expired_data(now: datetime | None = None) -> tuple[int, int]:
    """Delete closed entries, and call data no open entry needs, older than the retention.

    Returns (entries deleted, calls deleted). Open entries are never deleted, however old.
    """
    days = Settings.load().retention_days
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    old = select(Entry.id).where(Entry.state.not_in(OPEN_STATES), Entry.closed_at < cutoff)
    old_ids = list(db.session.scalars(old))
    parties = select(Entry.party_key).where(Entry.id.in_(old_ids))
    db.session.execute(delete(TimelineEvent).where(
        TimelineEvent.party_key.in_(parties), TimelineEvent.at < cutoff))
    owned = _call_keys(EntryCall.entry_id.in_(old_ids), Attempt.entry_id.in_(old_ids))
    entries = db.session.execute(delete(Entry).where(Entry.id.in_(old_ids))).rowcount
    # The missed calls and attempts of a deleted entry go with it (else a rebuild would bring
    # the entry back), unless another entry still counts them.
    shared = _call_keys(EntryCall.call_key.in_(owned), Attempt.call_key.in_(owned))
    gone = sorted(owned - shared)
    calls = 0
    for i in range(0, len(gone), 500):
        calls += db.session.execute(delete(Call).where(Call.key.in_(gone[i:i + 500]))).rowcount
    # A caller with any entry left keeps all their calls: rebuilding that entry needs them.
    calls += db.session.execute(delete(Call).where(
        Call.ended_at < cutoff, Call.party_key.not_in(select(Entry.party_key)))).rowcount
    # Sent, skipped and failed notifications hold callers' numbers too.
    notified = db.session.execute(delete(Notification).where(
        Notification.state.in_(("sent", "skipped", "failed")),
        Notification.created_at < cutoff)).rowcount
    if entries or calls or notified:
        log.info("retention: deleted %d closed entries, %d calls and %d notifications older "
                 "than %d days", entries, calls, notified, days)
    return entries, calls


def _call_keys(entry_calls_where, attempts_where) -> set[str]:
    keys = set(db.session.scalars(select(EntryCall.call_key).where(entry_calls_where)))
    return keys | set(db.session.scalars(select(Attempt.call_key).where(attempts_where)))
