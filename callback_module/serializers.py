"""Entries as JSON, in the shape of SPEC §8 (API and ``entries --json`` alike)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import Entry


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "group": entry.group.name,
        "number": "anonymous" if entry.anonymous else entry.number,
        "number_e164": None if entry.anonymous else entry.number_e164,
        "name": entry.name or None,
        "count": entry.count,
        "state": entry.state,
        "first_call_at": _iso(entry.first_call_at),
        "last_call_at": _iso(entry.last_call_at),
        "calls": [{"at": _iso(c.at), "linkedid": c.call_key, "ring_s": c.ring_s,
                   "ended": c.ended, "rang": list(c.rang or [])} for c in entry.calls],
        "attempts": [{"at": _iso(a.at), "by": a.by, "result": a.result, "outcome": a.outcome,
                      "ring_s": a.ring_s, "talk_s": a.talk_s} for a in entry.attempts],
        "closed_at": _iso(entry.closed_at),
        "closed_reason": entry.closed_reason,
    }
