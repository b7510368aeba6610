"""Factories for the rules tests: CDR legs and queue_log events shaped like the real Asterisk 20
rows of fixtures/asterisk/OBSERVATIONS.md, classified calls with defaults, and the fixture policy.

Times are seconds after ``BASE`` (the lab's day). Each call's legs carry ``linkedid ==
uniqueid == key`` and ``sequence`` numbers that go up, as Asterisk writes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count

from callback_module import numbers
from callback_module.records import CallRecord, Leg, QueueEvent, assemble
from callback_module.rules.classify import InboundCall, OutboundCall
from callback_module.rules.entries import EntryState, ManualAction
from callback_module.rules.policy import GroupDef, Policy

BASE = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
SUPPORT_DID, SALES_DID, HOTLINE_DID = "4930555100", "4930555200", "4930555300"
GROUPS = (
    GroupDef("support", "queue", "support", frozenset({"201", "202"})),
    GroupDef("sales", "ringall", SALES_DID, frozenset({"203", "204"})),
    GroupDef("hotline", "hunt", HOTLINE_DID, frozenset({"203", "204"})),
)
MEMBER_NAMES = {"Anna Agent": "201", "Ben Agent": "202", "Clara Agent": "203",
                "Dave Agent": "204", "Eva NoGroup": "210"}
NAME_OF = {ext: name for name, ext in MEMBER_NAMES.items()}
_channel_ids = count(1)


def at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def policy(**settings) -> Policy:
    """The groups and users of fixtures/asterisk/EXPECTED.md with SPEC §2's defaults."""
    if "group_types" in settings:
        settings["group_types"] = frozenset(settings["group_types"])
    settings.setdefault("groups", GROUPS)
    settings.setdefault("extensions", frozenset(MEMBER_NAMES.values()))
    settings.setdefault("member_names", tuple(sorted(MEMBER_NAMES.items())))
    return Policy(**settings)


def channel(peer: str) -> str:
    return f"SIP/{peer}-{next(_channel_ids):08x}"


def clid(number: str, name: str = "") -> str:
    if numbers.is_withheld(number):
        return '"Anonymous" <anonymous>'
    return f'"{name}" <{number}>' if name else f"<{number}>"


class _Legs:
    """Legs of one call, numbered like Asterisk: key uniqueid/sequence, sequence going up."""

    def __init__(self, key: str, src: str, dst: str, dcontext: str, name: str = "") -> None:
        self.key, self.src, self.dst, self.dcontext = key, src, dst, dcontext
        self.clid = clid(src, name)
        self.caller_channel = channel("carrier" if dcontext == "from-pstn" else src)
        self.legs: list[Leg] = []

    def add(self, start: float, end: float, disposition: str, *, dstchannel: str = "",
            lastapp: str = "Dial", lastdata: str = "", answer: float | None = None,
            dst: str | None = None) -> None:
        billsec = int(end - answer) if answer is not None else 0
        sequence = len(self.legs) * 3
        self.legs.append(Leg(
            call_key=self.key, key=f"{self.key}/{sequence}", start=at(start), end=at(end),
            answer=at(answer) if answer is not None else None, src=self.src, clid=self.clid,
            dst=self.dst if dst is None else dst, dcontext=self.dcontext,
            channel=self.caller_channel, dstchannel=dstchannel, lastapp=lastapp,
            lastdata=lastdata, duration=int(end - start), billsec=billsec,
            disposition=disposition, uniqueid=self.key, linkedid=self.key, sequence=sequence))


def queue_legs(key: str, src: str, t0: float = 0, *, wait: int = 8,
               members: Iterable[str] = ("201", "202"), answered_by: str | None = None,
               ring: int = 3, talk: int = 5, timeout: bool = False, busy: Iterable[str] = (),
               queue: str = "support", did: str = SUPPORT_DID, name: str = "") -> list[Leg]:
    """A queue behind ``Answer()`` (S01, S02, S09, S12): every member row has answer == start
    and billsec > 0, missed or not. A timeout goes on in the dialplan to ``Hangup()``, which
    writes an ANSWERED row with an empty dstchannel (S09)."""
    legs = _Legs(key, src, did, "from-pstn", name)
    data = f"{queue},r,,,30"
    for member in members:
        if member in busy:
            legs.add(t0, t0, "BUSY", dstchannel=channel(member), lastapp="Queue",
                     lastdata=data, answer=t0)
        elif answered_by is None:
            legs.add(t0, t0 + wait, "NO ANSWER", dstchannel=channel(member), lastapp="Queue",
                     lastdata=data, answer=t0)
        elif member == answered_by:
            legs.add(t0, t0 + ring + talk, "ANSWERED", dstchannel=channel(member),
                     lastapp="Queue", lastdata=data, answer=t0)
        else:
            legs.add(t0, t0 + ring, "NO ANSWER", dstchannel=channel(member), lastapp="Queue",
                     lastdata=data, answer=t0)
    if timeout and answered_by is None:
        legs.add(t0 + wait, t0 + wait, "ANSWERED", lastapp="Hangup", answer=t0 + wait)
    return legs.legs


def queue_events(key: str, src: str, t0: float = 0, *, wait: int = 8,
                 members: Iterable[str] = ("201", "202"), answered_by: str | None = None,
                 ring: int = 3, talk: int = 5, timeout: bool = False,
                 queue: str = "support") -> list[QueueEvent]:
    """The queue_log lines of the same call (S01 ABANDON, S09 EXITWITHTIMEOUT, S02 CONNECT)."""
    def event(seconds: float, agent: str, kind: str, *data: str) -> QueueEvent:
        return QueueEvent(at=at(seconds), callid=key, queue=queue, agent=agent, event=kind,
                          data=tuple(data))

    events = [event(t0, "NONE", "ENTERQUEUE", "", src, "1")]
    if answered_by is not None:
        events.append(event(t0 + ring, NAME_OF[answered_by], "CONNECT", str(ring),
                            f"{key}1", str(ring)))
        events.append(event(t0 + ring + talk, NAME_OF[answered_by], "COMPLETECALLER",
                            str(ring), str(talk), "1"))
        return events
    ring_event = "RINGNOANSWER" if timeout else "RINGCANCELED"
    events += [event(t0 + wait, NAME_OF[m], ring_event, str(wait * 1000)) for m in members]
    end = "EXITWITHTIMEOUT" if timeout else "ABANDON"
    events.append(event(t0 + wait, "NONE", end, "1", "1", str(wait)))
    return events


def ringall_legs(key: str, src: str, t0: float = 0, *, ring: int = 10,
                 members: Iterable[str] = ("203", "204"), answered_by: str | None = None,
                 talk: int = 6, busy: Iterable[str] = (), voicemail: int | None = None,
                 did: str = SALES_DID, name: str = "", context: str = "from-pstn") -> list[Leg]:
    """``Dial(SIP/203&SIP/204,20)`` (S03, S04, S07): one row per member; after a timeout
    ``VoiceMail()`` answers with an ANSWERED row and an empty dstchannel (S03)."""
    members = tuple(members)
    legs = _Legs(key, src, did, context, name)
    data = "&".join(f"SIP/{m}" for m in members) + ",20"
    for member in members:
        if member in busy:
            legs.add(t0, t0, "BUSY", dstchannel=channel(member), lastdata=data)
        elif member == answered_by:
            legs.add(t0, t0 + ring + talk, "ANSWERED", dstchannel=channel(member),
                     lastdata=data, answer=t0 + ring)
        else:
            legs.add(t0, t0 + ring, "NO ANSWER", dstchannel=channel(member), lastdata=data)
    if voicemail is not None and answered_by is None:
        legs.add(t0 + ring, t0 + ring + voicemail, "ANSWERED", lastapp="VoiceMail",
                 lastdata="200@default,u", answer=t0 + ring)
    return legs.legs


def hunt_legs(key: str, src: str, t0: float = 0, *, steps: Iterable[str] = ("203", "204"),
              step_ring: int = 10, answered_by: str | None = None, answer_after: int = 2,
              talk: int = 4, hangup_row: bool = False, did: str = HOTLINE_DID,
              name: str = "") -> list[Leg]:
    """``Dial(SIP/203,10)`` then ``Dial(SIP/204,10)`` (S05, S11): one row per step; with
    cdr.conf ``unanswered=yes`` a ``Hangup()`` row with an empty dstchannel follows (run A)."""
    legs = _Legs(key, src, did, "from-pstn", name)
    start = t0
    for step in steps:
        if step == answered_by:
            legs.add(start, start + answer_after + talk, "ANSWERED", dstchannel=channel(step),
                     lastdata=f"SIP/{step},{step_ring}", answer=start + answer_after)
            return legs.legs
        legs.add(start, start + step_ring, "NO ANSWER", dstchannel=channel(step),
                 lastdata=f"SIP/{step},{step_ring}")
        start += step_ring
    if hangup_row:
        legs.add(start, start, "NO ANSWER", lastapp="Hangup")
    return legs.legs


OUTBOUND_DISPOSITION = {"answered": "ANSWERED", "no_answer": "NO ANSWER", "busy": "BUSY",
                        "congestion": "CONGESTION", "failed": "FAILED"}


def outbound_legs(key: str, by: str, dialled: str, t0: float = 0, *, result: str = "answered",
                  ring: int = 2, talk: int = 3, hangup_row: bool = False) -> list[Leg]:
    """A callback from an extension through context ``outbound`` to ``SIP/carrier`` (S06, S10c,
    S14, S15): src is the extension, dst the number as dialled; with ``unanswered=yes`` an
    unanswered one gets a ``Hangup()`` row with the same disposition (run A)."""
    legs = _Legs(key, by, dialled, "outbound")
    data = f"SIP/carrier/{dialled},25,b(outbound-cid^s^1)"
    disposition = OUTBOUND_DISPOSITION[result]
    if result == "answered":
        legs.add(t0, t0 + ring + talk, disposition, dstchannel=channel("carrier"),
                 lastdata=data, answer=t0 + ring)
        return legs.legs
    end = t0 + (ring if result == "no_answer" else 0)
    legs.add(t0, end, disposition, dstchannel=channel("carrier"), lastdata=data)
    if hangup_row:
        legs.add(end, end, disposition, lastapp="Hangup")
    return legs.legs


def internal_legs(key: str, src: str, dst: str, t0: float = 0, *, ring: int = 15,
                  answered: bool = False, talk: int = 5, hangup_row: bool = True) -> list[Leg]:
    """An extension calling another one in ``from-internal`` (S08, S13)."""
    legs = _Legs(key, src, dst, "from-internal")
    if answered:
        legs.add(t0, t0 + ring + talk, "ANSWERED", dstchannel=channel(dst),
                 lastdata=f"SIP/{dst},15", answer=t0 + ring)
        return legs.legs
    legs.add(t0, t0 + ring, "NO ANSWER", dstchannel=channel(dst), lastdata=f"SIP/{dst},15")
    if hangup_row:
        legs.add(t0 + ring, t0 + ring, "NO ANSWER", lastapp="Hangup")
    return legs.legs


def chain(*parts: list[Leg]) -> list[Leg]:
    """The legs of several dialplan stages as one call (an overflow from a queue to a ring-all
    group): one caller channel, sequences going on where the previous stage stopped."""
    legs = [leg for part in parts for leg in part]
    first = legs[0]
    return [replace(leg, call_key=first.call_key, uniqueid=first.uniqueid,
                    linkedid=first.linkedid, channel=first.channel, src=first.src,
                    clid=first.clid, sequence=3 * i, key=f"{first.call_key}/{3 * i}")
            for i, leg in enumerate(legs)]


def record(legs: Iterable[Leg] = (), events: Iterable[QueueEvent] = ()) -> CallRecord:
    """The one call record the legs and events make, assembled as a sync would."""
    records = assemble(legs, events)
    assert len(records) == 1, records
    return records[0]


def inbound(key: str, minute: float, number: str = "+49301110001",
            group: str | None = "support", *, answered: bool = False, answered_by: str = "",
            answered_in: str | None = None, ended: str = "", ring_s: int = 10,
            talk_s: int = 0, name: str = "") -> InboundCall:
    """A classified inbound call; missed unless ``answered``."""
    anonymous = numbers.is_withheld(number)
    e164 = None if anonymous else numbers.to_e164(number, "DE")
    party = ("anonymous:" + key) if anonymous else numbers.party_key(number, "DE")
    if answered and not talk_s:
        talk_s = 30
    return InboundCall(
        key=key, at=at(60 * minute), number="anonymous" if anonymous else number, name=name,
        party_key=party, e164=e164, anonymous=anonymous, internal=False, group=group,
        answered=answered, answered_by=answered_by, answered_in=answered_in, talk_s=talk_s,
        ring_s=ring_s, ended=ended or ("answered" if answered else "abandoned"))


def outbound(key: str, minute: float, by: str = "201", number: str = "+49301110001",
             result: str = "no_answer", *, ring_s: int = 20, talk_s: int | None = None,
             duration_s: int | None = None) -> OutboundCall:
    """A classified outbound call; ``duration_s`` is ringing plus talk, as the CDR counts it."""
    answered = result == "answered"
    talk = (30 if answered else 0) if talk_s is None else talk_s
    return OutboundCall(
        key=key, at=at(60 * minute), by=by, number=number,
        party_key=numbers.party_key(number, "DE"), e164=numbers.to_e164(number, "DE"),
        answered=answered, result=result,
        duration_s=ring_s + talk if duration_s is None else duration_s, ring_s=ring_s,
        talk_s=talk)


def action(kind: str, minute: float, anchor: str, group: str = "support", by: str = "anna",
           **fields) -> ManualAction:
    return ManualAction(at=at(60 * minute), group=group, anchor_key=anchor, kind=kind, by=by,
                        **fields)


def snapshot(entries: Iterable[EntryState]) -> list[tuple]:
    """What the lists show of entries, independent of the order they were built in."""
    return sorted((e.group, e.party_key, e.anchor_key, e.state, e.count,
                   tuple(c.key for c in e.calls), tuple(a.key for a in e.attempts),
                   e.closed_reason) for e in entries)
