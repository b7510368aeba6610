"""Claims: "Anna is calling back now", seen by everyone, so two agents never call one caller.

A claim lasts ``CALLBACK_CLAIM_SECONDS`` (2 minutes by default) and any action on the entry
releases it. Claims and releases go to the entry's timeline, but they are not inputs to the
rules: they change who is calling, never the entry's state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from .actions import ActionRefused, may_act
from .extensions import db
from .models import OPEN_STATES, Claim, Entry, TimelineEvent, User
from .signals import claim_changed, entries_changed


class ClaimRefused(ActionRefused):
    """Someone else is calling already, or the entry is closed; the message says which."""


def _now() -> datetime:
    return datetime.now(UTC)  # one place, so tests can fix the clock


def active_claim(entry: Entry, now: datetime | None = None) -> Claim | None:
    """The entry's live claim; an expired one counts as none."""
    claim = db.session.get(Claim, entry.id)
    return claim if claim is not None and claim.is_live(now or _now()) else None


def live_claims(now: datetime | None = None) -> dict[int, Claim]:
    """Every live claim by entry id: few at any time, so the lists load them in one query."""
    rows = db.session.scalars(select(Claim).where(Claim.expires_at > (now or _now())))
    return {claim.entry_id: claim for claim in rows}


def seconds_left(claim: Claim, now: datetime | None = None) -> int:
    return max(0, int((claim.expires_at - (now or _now())).total_seconds()))


def claim(entry: Entry, user: User, *, now: datetime | None = None,
          data: dict[str, Any] | None = None) -> Claim:
    """Claim ``entry`` for ``user`` (again: extends it); commit and announce.

    ``data`` goes into the timeline event, e.g. the id of the call placed with the claim.
    """
    now = now or _now()
    if not may_act(user, entry):
        raise ClaimRefused(_("Only members of the group and admins may act on this entry."))
    if entry.state not in OPEN_STATES:
        raise ClaimRefused(_("This entry is closed; there is nobody to call back."))
    row = db.session.get(Claim, entry.id)
    live = row is not None and row.is_live(now)
    if live and row.user_id != user.id:
        raise ClaimRefused(_("%(name)s is calling back already.", name=row.username))
    if row is None:
        row = Claim(entry_id=entry.id)
        db.session.add(row)
    if not live:
        row.claimed_at = now
    row.user_id, row.username = user.id, user.display_name
    if not live or (data or {}).get("call"):
        row.call_id = (data or {}).get("call")
    row.expires_at = now + timedelta(seconds=int(current_app.config["CALLBACK_CLAIM_SECONDS"]))
    _event(entry, "claim", user, now, {"expires_at": row.expires_at.isoformat(),
                                       "extended": live, **(data or {})})
    db.session.commit()
    announce(entry.id, row.expires_at)
    return row


def release(entry: Entry, user: User, *, now: datetime | None = None) -> bool:
    """Give up the claim: its holder or an admin may. False when there was no live claim."""
    now = now or _now()
    row = active_claim(entry, now)
    if row is not None and row.user_id != user.id and not user.is_admin:
        raise ClaimRefused(_("Only %(name)s can release this claim.", name=row.username))
    released = drop(entry, user, now, reason="released", now=now)
    db.session.commit()
    if released:
        announce(entry.id, None)
    return released


def drop(entry: Entry, user: User | None, at: datetime, *, reason: str,
         now: datetime | None = None) -> bool:
    """Delete the entry's claim in the session, without committing; True if it was live.

    ``at`` is when the release is written to the timeline; ``reason`` names what ended the
    claim ("released", or the action that was taken).
    """
    row = db.session.get(Claim, entry.id)
    if row is None:
        return False
    live = row.is_live(now or _now())
    if live:
        _event(entry, "release", user, at, {"reason": reason, "holder": row.username})
    db.session.delete(row)
    return live


def announce(entry_id: int, expires_at: datetime | None) -> None:
    """After the commit: live push re-renders the row now (and at expiry, when claimed)."""
    app = current_app._get_current_object()
    claim_changed.send(app, entry_id=entry_id, expires_at=expires_at)
    entries_changed.send(app, entry_ids={entry_id}, source="claim")


def _event(entry: Entry, kind: str, user: User | None, at: datetime,
           data: dict[str, Any]) -> None:
    db.session.add(TimelineEvent(
        group_id=entry.group_id, party_key=entry.party_key, anchor_key=entry.anchor_key, at=at,
        kind=kind, user_id=user.id if user else None,
        username=user.display_name if user else "", data=data))
