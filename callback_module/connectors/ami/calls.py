"""What the assembler knows about one call, and how that becomes :class:`Leg` rows.

With ``cdr_manager`` on, Asterisk sends one ``Cdr`` event per CDR row right after the call's last
channel hung up; those become legs field for field, exactly as the CDR file or table would give
them. Without it, legs are made from the dial events: one per dialled channel (DialBegin …
DialEnd with its DialStatus), plus the caller's VoiceMail stage, which the rules need to tell a
voicemail from a missed call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from ...parsers.cdr import to_utc
from ...records import Leg, QueueEvent
from .protocol import Message

log = logging.getLogger("callback.ami")
# cdr.c dial_status_to_disposition(): CANCEL and NOANSWER are both "NO ANSWER".
DISPOSITION = {"ANSWER": "ANSWERED", "BUSY": "BUSY", "NOANSWER": "NO ANSWER",
               "CANCEL": "NO ANSWER", "CONGESTION": "CONGESTION"}
_warned_offsets: set[tuple[float, float]] = set()


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass
class Channel:
    uniqueid: str
    name: str
    created: float
    number: str = ""
    cid_name: str = ""
    app: str = ""
    appdata: str = ""
    hung_up: float | None = None
    ringing: bool = False  # counted in "calling in now" until it hangs up or is forgotten


@dataclass
class Dial:
    """One DialBegin → DialEnd, with the caller's snapshot at DialBegin (the CDR's party A)."""

    caller: str  # uniqueid of the dialling channel
    dest: str
    dest_channel: str
    begin: float
    src: str
    clid: str
    dst: str
    dcontext: str
    app: str
    appdata: str
    status: str = ""
    ended: float | None = None
    answered: float | None = None


@dataclass
class CallState:
    """One call (one Linkedid) while it is going on, until it is handed over."""

    linkedid: str
    live: set[str] = field(default_factory=set)
    channels: dict[str, Channel] = field(default_factory=dict)
    dials: list[Dial] = field(default_factory=list)
    voicemail: list[tuple[float, str]] = field(default_factory=list)  # (when, AppData)
    queue_events: list[QueueEvent] = field(default_factory=list)
    abandons: list[Message] = field(default_factory=list)
    joined: dict[str, tuple[float, str]] = field(default_factory=dict)  # queue: (at, position)
    queue_status: str = ""
    cdrs: list[Message] = field(default_factory=list)
    ended: float | None = None  # Timestamp of the last channel's Hangup
    ended_mono: float | None = None  # when that Hangup was read, for the grace period
    last_ts: float = 0.0
    last_mono: float = 0.0


def cdr_legs(cdrs: list[Message], call_key: str, tz: tzinfo) -> list[Leg]:
    """Legs of a call's Cdr events. Their times are the PBX's local wall clock in whole seconds
    (as in Master.csv); the UTC offset comes from the events' own ``Timestamp`` (epoch), so a
    wrong time-zone setting cannot shift them."""
    offset = _pbx_offset(cdrs, tz)
    legs = []
    for cdr in cdrs:
        def when(name: str, cdr: Message = cdr) -> datetime | None:
            text = cdr.get(name, "").strip()
            if not text:
                return None
            if offset is None:
                return to_utc(text, tz, name)
            return (datetime.fromisoformat(text) - offset).replace(tzinfo=UTC)

        start = when("StartTime")
        if start is None:
            log.warning("AMI Cdr event without StartTime skipped: %s", cdr.get("UniqueID"))
            continue
        end = when("EndTime") or start
        uniqueid = cdr.get("UniqueID", "")
        channel, dstchannel = cdr.get("Channel", ""), cdr.get("DestinationChannel", "")
        sequence = _int(_field(cdr, "Sequence"))
        # No Sequence by default (cdr_manager.conf [mappings] can add it): then the key is the
        # file parsers' key for sequence-less rows, so the same row read twice is one leg.
        key = (f"{uniqueid}/{sequence}" if sequence is not None
               else f"{uniqueid}/{channel}/{dstchannel}/{start.isoformat()}")
        legs.append(Leg(
            call_key=_field(cdr, "LinkedID") or call_key, key=key, start=start, end=end,
            answer=when("AnswerTime"), src=cdr.get("Source", ""), clid=cdr.get("CallerID", ""),
            dst=cdr.get("Destination", ""), dcontext=cdr.get("DestinationContext", ""),
            channel=channel, dstchannel=dstchannel, lastapp=cdr.get("LastApplication", ""),
            lastdata=cdr.get("LastData", ""), duration=_int(cdr.get("Duration")) or 0,
            billsec=_int(cdr.get("BillableSeconds")) or 0,
            disposition=cdr.get("Disposition", "").strip(), uniqueid=uniqueid,
            linkedid=_field(cdr, "LinkedID") or call_key, sequence=sequence,
            did=_field(cdr, "DID")))
    return legs


def synthesized_legs(call: CallState) -> list[Leg]:
    """Legs from the dial events, for a PBX without cdr_manager: one per dialled channel."""
    legs = []
    dials = sorted(call.dials, key=lambda d: d.begin)
    for dial in dials:
        channel = call.channels.get(dial.caller)
        # CDR semantics: the first Dial() of a channel starts at the channel's creation, a later
        # one (a hunt group's next step) where the one before it ended; parallel legs of one
        # Dial() (ring-all) share the start.
        before = [d.ended for d in dials if d.caller == dial.caller and d.ended is not None
                  and d.ended <= dial.begin]
        start = max(before) if before else (channel.created if channel else dial.begin)
        dest = call.channels.get(dial.dest)
        end = dial.ended if dial.ended is not None else (call.ended or dial.begin)
        if dial.answered is not None:  # talk ends when either side hangs up
            hangups = [t for t in (dest.hung_up if dest else None,
                                   channel.hung_up if channel else None) if t]
            end = min(hangups) if hangups else (call.ended or dial.answered)
        # No DialEnd at all: the caller hung up before Asterisk could say; CHANUNAVAIL and the
        # rest are FAILED, as cdr.c has it.
        disposition = DISPOSITION.get(dial.status, "FAILED" if dial.status else "NO ANSWER")
        legs.append(_leg(call, dial.caller, channel, start, end, dial.answered, dial.dest_channel,
                         dial.app, dial.appdata, disposition,
                         src=dial.src, clid=dial.clid, dst=dial.dst, dcontext=dial.dcontext))
    caller = call.channels.get(call.linkedid)
    for at, data in call.voicemail:
        legs.append(_leg(call, call.linkedid, caller, at, call.ended or at, at, "", "VoiceMail",
                         data, "ANSWERED"))
    if not legs and caller is not None:
        legs.append(_leg(call, call.linkedid, caller, caller.created, call.ended or
                         caller.created, None, "", caller.app, caller.appdata, "NO ANSWER"))
    return legs


def _leg(call: CallState, uniqueid: str, channel: Channel | None, start: float, end: float,
         answer: float | None, dstchannel: str, app: str, appdata: str, disposition: str,
         **party: str) -> Leg:
    name = channel.name if channel else ""
    number = channel.number if channel else ""
    clid = f'"{channel.cid_name}" <{number}>' if channel and channel.cid_name else number
    begin = utc(start)
    return Leg(
        call_key=call.linkedid, key=f"{uniqueid}/{name}/{dstchannel}/{begin.isoformat()}",
        start=begin, end=utc(max(end, start)), answer=utc(answer) if answer else None,
        src=party.get("src", number), clid=party.get("clid", clid), dst=party.get("dst", ""),
        dcontext=party.get("dcontext", ""), channel=name, dstchannel=dstchannel, lastapp=app,
        lastdata=appdata, duration=int(max(end, start) - start),
        billsec=int(max(0.0, end - answer)) if answer else 0, disposition=disposition,
        uniqueid=uniqueid, linkedid=call.linkedid)


def _pbx_offset(cdrs: list[Message], tz: tzinfo) -> timedelta | None:
    """The PBX's UTC offset: the latest EndTime against that event's Timestamp (the Cdr is
    sent when the call ends), rounded to the quarter hour that every time zone is a multiple
    of. Warns once when the configured time zone says otherwise (file imports would be off)."""
    try:
        stamped = [(datetime.fromisoformat(c["EndTime"]), float(c["Timestamp"]))
                   for c in cdrs if c.get("EndTime") and c.get("Timestamp")]
    except ValueError:
        return None
    if not stamped:
        return None
    local_end, ts = max(stamped)
    seconds = (local_end - utc(ts).replace(tzinfo=None)).total_seconds()
    offset = timedelta(seconds=round(seconds / 900) * 900)
    configured = utc(ts).astimezone(tz).utcoffset() or timedelta(0)
    if configured != offset and (offset.total_seconds(), configured.total_seconds()) \
            not in _warned_offsets:
        _warned_offsets.add((offset.total_seconds(), configured.total_seconds()))
        log.warning("the PBX writes CDR times at UTC%+.2g h, the configured time zone is "
                    "UTC%+.2g h: AMI times follow the PBX; set the PBX's zone in the settings",
                    offset.total_seconds() / 3600, configured.total_seconds() / 3600)
    return offset


def _field(message: Message, name: str) -> str:
    """A cdr_manager [mappings] column, whatever case the mapping gave it."""
    lower = name.lower()
    return next((v for k, v in message.items() if k.lower() == lower), "")


def _int(text: str | None) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None
