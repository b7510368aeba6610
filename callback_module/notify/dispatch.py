"""Sends the notifications that are due, in the worker's background job, never in the sync.

Each one is looked at again just before it goes out: a call answered meanwhile (more legs came
in, or the caller was reached and the entry closed) or a user who opted out sends nothing. A
failing mail server or webhook receiver loses nothing: the row stays pending and is tried again
with growing pauses, until a permanent refusal or the last try marks it failed. Every outcome
goes to the entry's timeline and the module log.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from .. import lease
from ..extensions import db
from ..models import OPEN_STATES, Call, Entry, Notification
from ..policy_loader import load_policy
from ..rules.classify import InboundCall, classify
from .outgoing import NotSent, contact_of, prepare_mail, prepare_webhook
from .planner import Rules, facts_of
from .rules import call_wants_telling
from .timeline import record_event

log = logging.getLogger("callback.notify")
BACKOFF = (15, 30, 60, 120, 300, 600, 1200, 1800, 3600)  # seconds before try 2, 3, ...
MAX_TRIES = len(BACKOFF) + 1  # about two hours of trying in all
LEASE, LEASE_SECONDS = "callback.notify", 300
INTERRUPTED_AFTER = timedelta(minutes=10)  # longer than any send (SMTP timeout 300 s at most)


def dispatch_due(now: datetime | None = None, limit: int = 50) -> int:
    """Send what is due; the number handled. One dispatcher at a time across processes (a
    lease, as for the sync), and each notification is committed on its own."""
    now = now or datetime.now(UTC)
    # A read first: the job runs every 2 s, and most of the time there is nothing to send;
    # taking the lease is a write, which SQLite would serialize with the sync for nothing.
    waiting = db.session.scalar(select(Notification.id).where(
        Notification.state.in_(("pending", "sending")), Notification.due_at <= now).limit(1))
    db.session.rollback()
    if waiting is None or not lease.acquire(LEASE, LEASE_SECONDS):
        return 0
    try:
        _recover_interrupted(now)
        ids = list(db.session.scalars(
            select(Notification.id).where(Notification.state == "pending",
                                          Notification.due_at <= now)
            .order_by(Notification.due_at, Notification.id).limit(limit)))
        for notification_id in ids:
            try:
                deliver(notification_id, now)
            except Exception as exc:  # one broken row must not hold up the others
                db.session.rollback()
                log.exception("notification %s could not be handled", notification_id)
                _unexpected(notification_id, now, exc)
        return len(ids)
    finally:
        lease.release(LEASE)


def deliver(notification_id: int, now: datetime) -> str:
    """Handle one pending notification; its state afterwards.

    The row is claimed ("sending") and committed before anything goes out, so a second
    dispatcher, or a retry after a failed commit, never sends it again: at most once."""
    claimed = db.session.execute(
        update(Notification).where(Notification.id == notification_id,
                                   Notification.state == "pending")
        .values(state="sending", due_at=now)).rowcount
    db.session.commit()
    if not claimed:
        return "taken"
    n = db.session.get(Notification, notification_id)
    entry, judged = _entry_of(n), _judged(n.call_key)
    rule = _unwanted(n, entry, judged)
    if rule:
        n.state, n.rule, n.done_at = "skipped", rule, now
    else:
        send = prepare_mail(n, entry, judged) if n.channel == "mail" else \
            prepare_webhook(n, entry, judged)
        db.session.commit()  # no transaction open while the network is slow
        try:
            send()
        except NotSent as exc:
            _failed_try(n, now, str(exc), exc.temporary)
        else:
            n.tries += 1
            n.state, n.done_at, n.last_error = "sent", now, ""
    record_event(n, now)
    db.session.commit()
    return n.state


def _failed_try(n: Notification, now: datetime, error: str, temporary: bool) -> None:
    n.tries += 1
    n.last_error = error
    if not temporary or n.tries >= MAX_TRIES:
        n.state, n.done_at = "failed", now
    else:
        n.state = "pending"
        n.due_at = now + timedelta(seconds=BACKOFF[min(n.tries, len(BACKOFF)) - 1])


def _unexpected(notification_id: int, now: datetime, exc: Exception) -> None:
    """A bug or bad data: count the try and back off like any failure, so the row neither
    blocks the queue nor is tried every two seconds for ever."""
    try:
        n = db.session.get(Notification, notification_id)
        if n is None or n.state not in ("pending", "sending"):
            return
        _failed_try(n, now, f"{type(exc).__name__}: {exc}", True)
        record_event(n, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("notification %s: could not even record the failure", notification_id)


def _recover_interrupted(now: datetime) -> None:
    """A row left "sending" (the worker died mid-send) may or may not have gone out; it is
    not sent again, so nobody gets it twice, and the failure says so."""
    stale = db.session.scalars(select(Notification).where(
        Notification.state == "sending", Notification.due_at < now - INTERRUPTED_AFTER))
    for n in stale:
        n.state, n.done_at = "failed", now
        n.last_error = "interrupted while being sent: it may or may not have gone out"
        record_event(n, now)
    db.session.commit()


def _judged(call_key: str) -> InboundCall | None:
    call = db.session.scalar(select(Call).where(Call.key == call_key))
    judged = classify(call.record(), load_policy()) if call is not None else None
    return judged if isinstance(judged, InboundCall) else None


def _entry_of(n: Notification) -> Entry | None:
    if not n.anchor_key or n.group_id is None:
        return None
    return db.session.scalar(select(Entry).where(
        Entry.group_id == n.group_id, Entry.party_key == n.party_key,
        Entry.anchor_key == n.anchor_key))


def _unwanted(n: Notification, entry: Entry | None, call: InboundCall | None) -> str:
    """The reason not to send any more, or "": the rules are asked again with what is known
    now (more legs came in, the settings changed, the user opted out)."""
    if call is None:
        return "call_gone"
    if entry is not None and entry.state not in OPEN_STATES:
        return "closed_meanwhile"
    if n.channel == "webhook":
        return "" if call.missed else "answered_meanwhile"
    rules = Rules()
    record = db.session.scalar(select(Call).where(Call.key == n.call_key)).record()
    facts = facts_of(record, call, rules.members, bool(contact_of(call.e164)))
    if rules.policy.recipients == "none":
        return "recipients_none"
    if not call_wants_telling(facts, rules.policy):
        return "answered_meanwhile"
    decision = next((d for d in rules.decisions(record, call, facts.has_contact)
                     if d.user_id == n.user_id), None)
    if decision is None:
        return "not_chosen"
    return decision.rule
