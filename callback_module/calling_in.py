""""Calling in now": a caller with an open entry is on the line (SPEC §3).

The live connector (AMI) says when a caller's call starts and ends; this keeps one row per
number in ``callback_ringing`` and re-renders that caller's open entries on every screen. The
rows live in the database, not in the worker's memory, because the web processes render the
banner (a list opened mid-call shows it too).

The worker runs these through :class:`~callback_module.writer.BackgroundWriter`, so the AMI
listener, which must keep reading events, never waits on the database.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import delete, select

from . import numbers
from .extensions import db
from .models import OPEN_STATES, Entry, Ringing, Settings
from .signals import entries_changed

log = logging.getLogger("callback.calling_in")


def _now() -> datetime:
    return datetime.now(UTC)


def caller_number(number: str) -> str | None:
    """The E.164 form the entries keep, or None for a withheld or unusable number."""
    if numbers.is_withheld(number):
        return None
    return numbers.to_e164(number, Settings.load().default_region or "DE")


def set_ringing(number: str, ringing: bool, now: datetime | None = None) -> set[int]:
    """Record that ``number`` is (or no longer is) on the line; commit and announce. Returns
    the ids of the caller's open entries, whose rows now show or drop the banner."""
    e164 = caller_number(number)
    if e164 is None:
        return set()
    row = db.session.get(Ringing, e164)
    if ringing and row is None:
        db.session.add(Ringing(number_e164=e164, since=now or _now()))
    elif not ringing and row is not None:
        db.session.delete(row)
    ids = set(db.session.scalars(select(Entry.id).where(Entry.number_e164 == e164,
                                                        Entry.state.in_(OPEN_STATES))))
    db.session.commit()
    if ids:
        entries_changed.send(current_app._get_current_object(), entry_ids=ids,
                             source="ringing")
    return ids


def ringing_numbers() -> set[str]:
    """Every caller on the line now (few at any time: one query per rendered list)."""
    return set(db.session.scalars(select(Ringing.number_e164)))


def clear_all() -> None:
    """Forget every call in progress: the listener that saw them starts or stops, and a call
    whose end it never heard must not keep its banner."""
    ids = set(db.session.scalars(select(Entry.id).join(
        Ringing, Ringing.number_e164 == Entry.number_e164).where(Entry.state.in_(OPEN_STATES))))
    db.session.execute(delete(Ringing))
    db.session.commit()
    if ids:
        entries_changed.send(current_app._get_current_object(), entry_ids=ids,
                             source="ringing")
