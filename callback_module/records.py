"""Normalized call data: what every PBX connector produces, whatever the PBX wrote.

A *leg* is one CDR row (party A's channel dialling party B, or running an application); a
*queue event* is one queue_log line about a caller. A :class:`CallRecord` is all legs and queue
events of one call (one linkedid). Parsers build legs and queue events; :func:`assemble` groups
them; the rules judge whole call records. Nothing here knows Flask or the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Leg:
    """One CDR row, times as aware UTC datetimes.

    ``key`` is stable across re-reads of the same row: ``uniqueid/sequence`` when the PBX writes
    both, else ``uniqueid/channel/dstchannel/start``, so re-importing a file adds nothing.
    ``call_key`` is the call this row belongs to: linkedid, else uniqueid, else channel+start.
    """

    call_key: str
    key: str
    start: datetime
    end: datetime
    answer: datetime | None = None
    src: str = ""
    clid: str = ""
    dst: str = ""
    dcontext: str = ""
    channel: str = ""
    dstchannel: str = ""
    lastapp: str = ""
    lastdata: str = ""
    duration: int = 0
    billsec: int = 0
    disposition: str = ""
    uniqueid: str = ""
    linkedid: str = ""
    sequence: int | None = None
    did: str = ""

    @property
    def answered(self) -> bool:
        return self.disposition == "ANSWERED"


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """One queue_log line that belongs to a caller (callid is the caller channel's uniqueid)."""

    at: datetime
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return "|".join((str(int(self.at.timestamp())), self.queue, self.agent, self.event,
                         *self.data))


@dataclass(frozen=True)
class CallRecord:
    """All that is known about one call. Legs sorted by (start, sequence), events by time."""

    key: str
    legs: tuple[Leg, ...] = ()
    queue_events: tuple[QueueEvent, ...] = ()
    source: str = field(default="", compare=False)

    @property
    def start(self) -> datetime | None:
        times = [leg.start for leg in self.legs] + [e.at for e in self.queue_events]
        return min(times) if times else None

    @property
    def end(self) -> datetime | None:
        times = [leg.end for leg in self.legs] + [e.at for e in self.queue_events]
        return max(times) if times else None


def leg_order(leg: Leg) -> tuple:
    return (leg.start, leg.sequence if leg.sequence is not None else -1, leg.key)


def assemble(legs: Iterable[Leg], queue_events: Iterable[QueueEvent] = ()) -> list[CallRecord]:
    """Group legs by call key and attach queue events by callid; duplicates collapse.

    A queue event joins the call whose key, or one of whose legs' uniqueid, equals its callid
    (queue_log names the caller channel's uniqueid, which is the linkedid unless the call was
    transferred). Queue events with no such call make a call of their own: queue_log alone is
    enough to know a queue call.
    """
    by_call: dict[str, dict[str, Leg]] = {}
    alias: dict[str, str] = {}
    for leg in legs:
        by_call.setdefault(leg.call_key, {})[leg.key] = leg
        if leg.uniqueid:
            alias.setdefault(leg.uniqueid, leg.call_key)
    events: dict[str, dict[str, QueueEvent]] = {}
    for event in queue_events:
        call_key = event.callid if event.callid in by_call else alias.get(event.callid,
                                                                         event.callid)
        events.setdefault(call_key, {})[event.key] = event
    records = []
    for call_key in sorted(set(by_call) | set(events)):
        call_legs = sorted(by_call.get(call_key, {}).values(), key=leg_order)
        call_events = sorted(events.get(call_key, {}).values(), key=lambda e: (e.at, e.key))
        records.append(CallRecord(call_key, tuple(call_legs), tuple(call_events)))
    return records
