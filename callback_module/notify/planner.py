"""Plans the notifications of freshly synced calls: one row per mail and per webhook post.

Connected to ``signals.calls_judged``: runs after the sync's commit, writes only rows (a mail
waits ``hold_seconds`` after the call ended, so the dispatcher sends it later and never in the
sync's thread). A call judged again (more legs came in) finds its rows and adds none; skipped
mails are written with the rule that skipped them, and go to the entry's timeline at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..contacts.book import lookup_many
from ..extensions import db
from ..models import Entry, EntryCall, Group, Notification, NotifySettings, Settings, User
from ..records import CallRecord
from ..rules.classify import InboundCall
from ..signals import calls_judged
from .rules import CallFacts, Earlier, Person, decide, is_late, rings_of
from .settings import policy_of
from .timeline import record_event

log = logging.getLogger("callback.notify")


def facts_of(record: CallRecord, call: InboundCall, member_extensions: dict[str, str],
             has_contact: bool) -> CallFacts:
    # "voicemail" answers where a mailbox counts as answered: nobody, and surely no third party.
    person = "" if call.answered_by == "voicemail" else call.answered_by
    return CallFacts(
        key=call.key, party_key=call.party_key, at=call.at, anonymous=call.anonymous,
        internal=call.internal, answered=call.answered, answered_by=person,
        rings=rings_of(record, member_extensions), ring_s=call.ring_s, has_contact=has_contact)


class Rules:
    """The notification settings, people and groups as the rules need them, read once."""

    def __init__(self) -> None:
        self.values = NotifySettings.load().values("notifications")
        settings = Settings.load()
        self.policy = policy_of(self.values, settings.default_region or "DE")
        self.tz = ZoneInfo(settings.timezone or "UTC")
        self.groups = {g.name: g for g in db.session.scalars(select(Group))}
        users = list(db.session.scalars(select(User).where(User.extension != "")))
        self.users = {u.extension: u for u in users}
        self.members = {u.name: u.extension for u in users if u.name}

    def people(self, group: Group | None) -> dict[str, Person]:
        """The group's members with a login: the mail links to their own group's entry."""
        extensions = set(group.extensions) if group is not None else set()
        return {ext: Person(u.id, ext, u.notify_missed, u.email, u.last_login_at)
                for ext, u in self.users.items() if ext in extensions}

    def decisions(self, record: CallRecord, call: InboundCall, has_contact: bool) -> list:
        facts = facts_of(record, call, self.members, has_contact)
        group = self.groups.get(call.group or "")
        return decide(facts, self.policy, self.people(group), _earlier(call.party_key),
                      self.tz)


def plan(calls: Sequence[tuple[CallRecord, InboundCall]], learned_at: datetime) -> int:
    """Write the notification rows for ``calls``; the number of new rows."""
    rules = Rules()
    policy = rules.policy
    contacts = _contacts([c.e164 for _, c in calls if c.e164])
    hold = timedelta(seconds=int(rules.values["hold_seconds"]))
    new = late = 0
    for record, call in calls:
        ended = call.ended_at or record.end
        if is_late(ended, learned_at):
            late += 1
            continue
        group = rules.groups.get(call.group or "")
        anchor = _anchor(call, group)
        # From when Callback learned of it: a polled PBX reports a call a poll after its
        # end, and the leg that says it was answered may come with the next poll.
        due = max(learned_at, ended) + hold
        for decision in rules.decisions(record, call, call.e164 in contacts):
            if decision.rule == "not_opted_in":
                continue  # not a notification: the person never asked for these mails
            new += _add(Notification(
                call_key=call.key, channel="mail", target=f"user:{decision.user_id}",
                user_id=decision.user_id, group_id=group.id if group else None,
                party_key=call.party_key, anchor_key=anchor, rang_at=call.at,
                state="pending" if decision.send else "skipped", rule=decision.rule,
                due_at=due, created_at=learned_at,
                done_at=None if decision.send else learned_at))
        if group is not None and group.webhook_url and call.missed and \
                call.party_key not in policy.excluded and not (policy.skip_internal
                                                               and call.internal):
            new += _add(Notification(
                call_key=call.key, channel="webhook", target=f"group:{group.id}",
                group_id=group.id, party_key=call.party_key, anchor_key=anchor,
                rang_at=call.at, state="pending", due_at=due, created_at=learned_at))
    db.session.commit()
    if late:
        log.info("notifications: %d calls ended more than 15 minutes before they were read; "
                 "nobody is told of them", late)
    return new


def _add(notification: Notification) -> int:
    """Add unless this call already has it (judged again); skipped ones go to the timeline.
    In a savepoint of its own: a row that fails (a race on the unique key) costs only itself,
    not the other calls of the sync."""
    exists = db.session.scalar(select(Notification.id).where(
        Notification.call_key == notification.call_key,
        Notification.channel == notification.channel,
        Notification.target == notification.target))
    if exists is not None:
        return 0
    try:
        with db.session.begin_nested():
            db.session.add(notification)
            db.session.flush()
            if notification.state == "skipped":
                record_event(notification)
    except SQLAlchemyError:
        log.warning("notification of call %s to %s not planned (another process planned it?)",
                    notification.call_key, notification.target, exc_info=True)
        return 0
    return 1


def _anchor(call: InboundCall, group: Group | None) -> str:
    """The entry this call belongs to, for the timeline ("" when it made none)."""
    if group is None:
        return ""
    return db.session.scalar(
        select(Entry.anchor_key).join(EntryCall, EntryCall.entry_id == Entry.id)
        .where(Entry.group_id == group.id, EntryCall.call_key == call.key).limit(1)) or ""


def _earlier(party_key: str) -> list[Earlier]:
    rows = db.session.execute(select(Notification.user_id, Notification.rang_at).where(
        Notification.party_key == party_key, Notification.channel == "mail",
        Notification.state.in_(("sent", "pending"))))
    return [Earlier(user_id, at) for user_id, at in rows if user_id is not None]


def _contacts(e164s: list[str]) -> set[str]:
    return set(lookup_many(e164s)) if e164s else set()


def on_calls_judged(sender: Flask, calls: Sequence = (), learned_at: datetime | None = None,
                    **_: object) -> None:
    if not calls or learned_at is None:
        return
    try:
        plan(calls, learned_at)
    except Exception:  # a notification problem must never undo or stop the sync
        db.session.rollback()
        log.exception("notifications could not be planned")


def init_notify(app: Flask) -> None:
    calls_judged.connect(on_calls_judged, sender=app)
