"""Manual actions on entries: written to the timeline, then fed to the rules like calls are."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from .extensions import db
from .models import Entry, TimelineEvent, User
from .policy_loader import load_policy
from .rules.entries import OUTCOMES
from .signals import claim_changed, entries_changed
from .store import recompute

KINDS = ("done", "not_reached", "reopen", "outcome")


class ActionRefused(Exception):
    """The action is not allowed for this user or this entry; the message says why."""


def may_act(user: User, entry: Entry) -> bool:
    """Members of the entry's group, and admins."""
    return user.is_admin or any(g.id == entry.group_id for g in user.groups)


def record_action(entry: Entry, kind: str, user: User, *, call_key: str = "",
                  outcome: str = "", at: datetime | None = None) -> Entry:
    """Record ``kind`` by ``user`` on ``entry``, rebuild the entry, commit, announce."""
    if kind not in KINDS:
        raise ActionRefused(_("unknown action %(kind)s", kind=repr(kind)))
    if not may_act(user, entry):
        raise ActionRefused(_("Only members of the group and admins may act on this entry."))
    if kind in ("done", "not_reached") and entry.state not in ("open", "attempts"):
        raise ActionRefused(_("This entry is already closed."))
    if kind == "reopen" and entry.state in ("open", "attempts"):
        raise ActionRefused(_("This entry is open already."))
    if kind == "reopen" and _newer_open_entry(entry):
        raise ActionRefused(_("A newer entry for this caller is open in this group; "
                              "work on that one."))
    if kind == "outcome":
        if outcome not in OUTCOMES:
            raise ActionRefused(_("unknown outcome %(outcome)s", outcome=repr(outcome)))
        if call_key not in {a.call_key for a in entry.attempts}:
            raise ActionRefused(_("That call is not an attempt of this entry."))
    event = TimelineEvent(group_id=entry.group_id, party_key=entry.party_key,
                          anchor_key=entry.anchor_key, at=at or datetime.now(UTC), kind=kind,
                          user_id=user.id, username=user.display_name,
                          data={"call_key": call_key, "outcome": outcome} if call_key else {})
    db.session.add(event)
    from .claims import drop  # here: claims builds on this module (ActionRefused, may_act)

    released = drop(entry, user, event.at, reason=kind)  # any action ends "calling back now"
    db.session.flush()
    changed = recompute({entry.party_key: entry.first_call_at}, load_policy())
    db.session.commit()
    if changed:
        entries_changed.send(current_app._get_current_object(), entry_ids=changed,
                             source="action")
    if released:
        claim_changed.send(current_app._get_current_object(), entry_id=entry.id,
                           expires_at=None)
    return db.session.get(Entry, entry.id) or entry


def _newer_open_entry(entry: Entry) -> bool:
    return db.session.scalar(
        select(Entry.id).where(Entry.group_id == entry.group_id,
                               Entry.party_key == entry.party_key, Entry.id != entry.id,
                               Entry.state.in_(("open", "attempts"))).limit(1)) is not None
