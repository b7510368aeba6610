"""An entry's timeline (SPEC §7): its missed calls, attempts, claims, manual actions and closing.

``build_timeline`` is pure: the entry and its timeline events in, items in time order out, for
the side panel and the API alike. ``load_timeline`` fetches the events and the closing call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from .extensions import db
from .models import Call, Entry, TimelineEvent

MANUAL_CLOSINGS = ("done", "not_reached", "expire")
# What comes first when two things happened in the same second: the call before the attempt
# that answers it, the attempt before the action on it, and the closing last.
_RANK = {"missed_call": 0, "attempt": 1, "closed": 3}


@dataclass(frozen=True)
class TimelineItem:
    """One thing that happened to the entry. Which fields are set depends on ``kind``:

    missed_call: group, rang, ended, ring_s, call_key · attempt: by, result, outcome, ring_s,
    talk_s, call_key · claim: by, until, call_key (a click-to-dial's attempt id) · release: by,
    reason · originate (the PBX's word on a click-to-dial): by, result (answered or failed),
    reason, call_key · notification: by (whom it was for), channel, state (sent, skipped,
    failed, pending: will be retried), reason (the rule that skipped it), detail (the error) ·
    done, not_reached, reopen: by · outcome: by, outcome, call_key · expire ·
    closed: state, reason, call_key (the call that closed it).
    """

    at: datetime
    kind: str
    by: str = ""
    group: str = ""
    rang: tuple[str, ...] = ()
    ended: str = ""
    ring_s: int | None = None
    talk_s: int | None = None
    result: str = ""
    outcome: str | None = None
    call_key: str = ""
    until: datetime | None = None
    state: str = ""
    reason: str = ""
    channel: str = ""  # notification: mail or webhook
    detail: str = ""  # notification: the error of a failed or retried try

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["rang"] = list(self.rang)
        for key in ("at", "until"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def build_timeline(entry: Entry, events: Iterable[TimelineEvent],
                   closing_call: str = "") -> list[TimelineItem]:
    """Everything that happened to ``entry``, oldest first.

    ``events`` are the entry's timeline rows; ``closing_call`` the key of the call that closed
    it when that is no attempt of its own (an answered inbound call).
    """
    items = [TimelineItem(c.at, "missed_call", group=entry.group.name, rang=tuple(c.rang or ()),
                          ended=c.ended, ring_s=c.ring_s, call_key=c.call_key)
             for c in entry.calls]
    items += [TimelineItem(a.at, "attempt", by=a.by, result=a.result, outcome=a.outcome,
                           ring_s=a.ring_s, talk_s=a.talk_s, call_key=a.call_key)
              for a in entry.attempts]
    events = list(events)
    items += [_event_item(ev) for ev in events]
    closing = _closing(entry, events, closing_call)
    if closing is not None:
        items.append(closing)
    return sorted(items, key=lambda item: (item.at, _RANK.get(item.kind, 2)))


def _event_item(ev: TimelineEvent) -> TimelineItem:
    data = ev.data or {}
    if ev.kind == "claim":
        until = data.get("expires_at")
        return TimelineItem(ev.at, "claim", by=ev.username, call_key=data.get("call", ""),
                            until=datetime.fromisoformat(until) if until else None)
    if ev.kind == "notification":
        return TimelineItem(ev.at, "notification", by=data.get("to", ""),
                            call_key=data.get("call_key", ""), state=data.get("state", ""),
                            reason=data.get("rule", ""), channel=data.get("channel", ""),
                            detail=data.get("error", ""))
    if ev.kind == "originate":
        return TimelineItem(ev.at, "originate", by=ev.username, call_key=data.get("call_key", ""),
                            result="answered" if data.get("ok") else "failed",
                            reason=data.get("reason", ""))
    if ev.kind == "release":
        return TimelineItem(ev.at, "release", by=ev.username, reason=data.get("reason", ""))
    return TimelineItem(ev.at, ev.kind, by=ev.username, call_key=data.get("call_key", ""),
                        outcome=data.get("outcome") or None)


def _closing(entry: Entry, events: list[TimelineEvent], closing_call: str) -> TimelineItem | None:
    """The automatic closing; a closing by hand is already there as its action."""
    if entry.closed_at is None:
        return None
    if any(ev.kind in MANUAL_CLOSINGS and ev.at == entry.closed_at for ev in events):
        return None
    attempt = next((a for a in entry.attempts if a.at == entry.closed_at), None)
    return TimelineItem(entry.closed_at, "closed", state=entry.state,
                        reason=entry.closed_reason or "",
                        call_key=attempt.call_key if attempt else closing_call)


def entry_events(entry: Entry) -> list[TimelineEvent]:
    """The timeline rows of ``entry``: those that name its group, caller and first call."""
    return list(db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.group_id == entry.group_id,
                                    TimelineEvent.party_key == entry.party_key,
                                    TimelineEvent.anchor_key == entry.anchor_key)
        .order_by(TimelineEvent.at, TimelineEvent.id)))


def load_timeline(entry: Entry) -> list[TimelineItem]:
    events = entry_events(entry)
    closing_call = ""
    if entry.closed_at is not None and not any(a.at == entry.closed_at for a in entry.attempts):
        # Closed by the caller's answered inbound call: the one that started at that moment.
        closing_call = db.session.scalar(
            select(Call.key).where(Call.party_key == entry.party_key,
                                   Call.started_at == entry.closed_at).limit(1)) or ""
    return build_timeline(entry, events, closing_call)
