"""What became of a click-to-dial: the PBX's OriginateResponse, told to the agent who clicked.

The AMI answers an Async Originate at once ("queued"); whether the agent's phone answered comes
later as an OriginateResponse event, which the worker's listener hears. It names our attempt
id (the ActionID), which the claim placed with the call keeps. The result goes to the entry's
timeline; a failed call gives the claim up, so a colleague can call instead; the agent's open
lists say what happened (``user_notice``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from . import claims, numbers
from .extensions import db
from .i18n import N_
from .models import Claim, Entry, Settings, TimelineEvent, User
from .signals import user_notice

log = logging.getLogger("callback.dial")
# OriginateResponse's Reason as the agent reads it (listener.ORIGINATE_REASONS' meanings).
REASONS = {"failed": N_("the PBX could not ring your phone"),
           "hung up": N_("your phone hung up"), "no answer": N_("your phone did not answer"),
           "busy": N_("your phone is busy"), "congestion": N_("the line is congested"),
           "unknown": N_("the PBX gave no reason")}


def record(result: dict[str, Any], now: datetime | None = None) -> bool:
    """Record one OriginateResponse; False when no claim placed that call (another tool's)."""
    now = now or datetime.now(UTC)
    attempt_id = result.get("action_id") or ""
    claim = db.session.scalar(select(Claim).where(Claim.call_id == attempt_id)) \
        if attempt_id else None
    if claim is None:
        log.info("originate %s: not a call placed from Callback's lists", attempt_id or "?")
        return False
    entry = db.session.get(Entry, claim.entry_id)
    user = db.session.get(User, claim.user_id) if claim.user_id else None
    ok = str(result.get("response", "")).lower() == "success"
    meaning = str(result.get("meaning") or "unknown")
    db.session.add(TimelineEvent(
        group_id=entry.group_id, party_key=entry.party_key, anchor_key=entry.anchor_key, at=now,
        kind="originate", user_id=user.id if user else None,
        username=user.display_name if user else "",
        data={"call_key": attempt_id, "ok": ok, "reason": meaning}))
    if not ok:
        claims.drop(entry, user, now, reason="call failed", now=now)
    db.session.commit()
    app = current_app._get_current_object()
    if not ok:
        claims.announce(entry.id, None)
    if user is not None:
        number = numbers.display(entry.number, entry.number_e164,
                                 Settings.load().default_region or "DE")
        if ok:
            message = N_("Your phone answered: the PBX is calling %(number)s now.",
                         number=number)
        else:
            message = N_("The call to %(number)s did not go through: %(reason)s.",
                         number=number, reason=REASONS.get(meaning, REASONS["unknown"]))
        user_notice.send(app, user_id=user.id, category="success" if ok else "error",
                         message=message)
    return True
