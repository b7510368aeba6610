"""Turn the AMI event stream into finished calls: the same legs and queue events a file gives.

A call is one ``Linkedid``. It has ended when the last of its channels hung up; it is handed over
a short grace period later, because ``cdr_manager`` sends the call's ``Cdr`` events right after
that last Hangup (the recordings show them 2-10 ms later). The grace period counts in event time
(a later event's ``Timestamp``) or on the wall clock, whichever comes first, so a fast replay
and a quiet PBX both hand over promptly. Every time comes from the events' ``Timestamp``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from threading import Lock

from ... import numbers
from ...records import Leg, QueueEvent
from ..base import ATTEMPT_ID_PREFIX
from .calls import CallState, Channel, Dial, cdr_legs, synthesized_legs, utc
from .protocol import Message
from .queues import finished_queue_events, queue_event, queue_status, text

log = logging.getLogger("callback.ami")
DONE_MEMORY = 5000


@dataclass(frozen=True)
class FinishedCall:
    call_key: str
    legs: tuple[Leg, ...]
    queue_events: tuple[QueueEvent, ...]
    ended_at: datetime | None
    synthesized: bool = False


class Assembler:
    """Feed it events in order; it returns calls as they finish. Used by one thread only,
    except :meth:`ringing_numbers`, which any thread may call."""

    def __init__(self, tz: tzinfo, *, grace: float = 0.3, cdr_wait: float = 5.0,
                 max_idle: float = 12 * 3600,
                 on_ringing: Callable[[str, bool], None] | None = None) -> None:
        self.tz, self.grace, self.cdr_wait, self.max_idle = tz, grace, cdr_wait, max_idle
        self.on_ringing = on_ringing
        self.cdr_seen = False  # cdr_manager is on: wait for Cdr events rather than synthesize
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self._calls: dict[str, CallState] = {}
        self._ended: dict[str, CallState] = {}
        self._owner: dict[str, str] = {}  # uniqueid -> linkedid of calls going on
        self._done: OrderedDict[str, bool] = OrderedDict()  # linkedid -> legs synthesized
        self._done_owner: OrderedDict[str, str] = OrderedDict()
        self._late: list[FinishedCall] = []
        self._ringing: Counter[str] = Counter()
        self._ringing_lock = Lock()
        self._last_sweep = 0.0
        self._arrival_times = False  # the PBX sends no Timestamp: use the wall clock

    # --- input -------------------------------------------------------------------------
    def feed(self, message: Message, now: float) -> list[FinishedCall]:
        event = message.get("Event", "")
        try:
            ts = float(message["Timestamp"])
        except (KeyError, ValueError):
            ts = self.last_ts or 0.0  # FullyBooted and a few others carry none
            if "Uniqueid" in message and (self.last_ts is None or self._arrival_times):
                # No timestampevents in manager.conf: the arrival time is the best there is.
                if not self._arrival_times:
                    log.warning("AMI: events carry no Timestamp; set timestampevents = yes in "
                                "manager.conf. Until then calls are timed as their events "
                                "arrive.")
                    self._arrival_times = True
                ts = time.time()
                self.first_ts = self.first_ts or ts
                self.last_ts = max(self.last_ts or ts, ts)
        else:
            self.first_ts = self.first_ts or ts
            self.last_ts = max(self.last_ts or ts, ts)
        if event == "Cdr":
            self._cdr(message, ts, now)
        elif "Uniqueid" in message:
            self._channel_event(event, message, ts, now)
        return self.tick(now)

    def resume(self, now: float) -> None:
        """After a reconnect: the grace periods start again, nothing was read meanwhile."""
        for call in self._ended.values():
            call.ended_mono = now

    def tick(self, now: float) -> list[FinishedCall]:
        done, self._late = self._late, []
        for call in list(self._ended.values()):
            waited = max(now - (call.ended_mono or now), (self.last_ts or 0) - (call.ended or 0))
            if waited >= self.grace and (call.cdrs or not self.cdr_seen
                                         or waited >= self.cdr_wait):
                done.append(self._finish(call))
        if now - self._last_sweep > 60:
            self._last_sweep = now
            for call in [c for c in self._calls.values() if now - c.last_mono > self.max_idle]:
                log.warning("AMI: call %s had no event for %d h; forgotten (its end was missed)",
                            call.linkedid, self.max_idle // 3600)
                self._forget(call, synthesized=True)
        return done

    def flush(self) -> list[FinishedCall]:
        """Hand over every ended call now (the listener stops; no more events will come)."""
        return [*self._late, *(self._finish(c) for c in list(self._ended.values()))]

    def reconcile(self, alive: set[str], before: float) -> None:
        """After a reconnect, CoreShowChannels listed the live channels: a call of before the
        gap with none of them ended unheard. Its queue events go on; its legs are the CDR
        backfill's to give (a partial guess here would shadow the real rows)."""
        for call in [c for c in self._calls.values()
                     if c.ended is None and c.last_mono < before and not c.live & alive]:
            log.warning("AMI: call %s ended while the link was down", call.linkedid)
            self._late.append(self._finish(call, with_legs=False))

    def ringing_numbers(self) -> list[str]:
        with self._ringing_lock:
            return sorted(n for n, count in self._ringing.items() if count > 0)

    # --- events ------------------------------------------------------------------------
    def _channel_event(self, event: str, msg: Message, ts: float, now: float) -> None:
        uid = msg["Uniqueid"]
        call = self._call_of(uid, msg.get("Linkedid") or uid, msg, ts, now)
        if call is None:
            return
        channel = call.channels[uid]
        if event == "Newexten":
            channel.app, channel.appdata = msg.get("Application", ""), msg.get("AppData", "")
            if channel.app.lower() == "voicemail" and uid not in {d.dest for d in call.dials}:
                call.voicemail.append((ts, channel.appdata))
        elif event == "VarSet" and msg.get("Variable") == "QUEUESTATUS":
            queue_status(call, msg.get("Value", ""))
        elif event == "DialBegin":
            dest = msg.get("DestUniqueid", "")
            self._call_of(dest, msg.get("DestLinkedid") or call.linkedid, msg, ts, now,
                          prefix="Dest")
            in_queue = next(iter(call.joined), "")
            call.dials.append(Dial(
                caller=uid, dest=dest, dest_channel=msg.get("DestChannel", ""), begin=ts,
                src=text(msg, "CallerIDNum"), clid=_clid(msg), dst=msg.get("Exten", ""),
                dcontext=msg.get("Context", ""),
                app=channel.app or ("Queue" if in_queue else "Dial"),
                appdata=channel.appdata or in_queue))
        elif event == "DialEnd":
            dial = next((d for d in reversed(call.dials) if d.dest == msg.get("DestUniqueid")
                         and not d.status), None)
            if dial is not None:  # app_queue sends each DialEnd twice; the first one counts
                dial.status, dial.ended = msg.get("DialStatus", ""), ts
                dial.answered = ts if dial.status == "ANSWER" else None
        elif event == "Hangup":
            self._hangup(call, channel, ts, now)
        elif event.startswith(("Queue", "Agent")):
            queue_event(call, event, msg, ts)

    def _call_of(self, uid: str, linkedid: str, msg: Message, ts: float, now: float,
                 prefix: str = "") -> CallState | None:
        if not uid or linkedid in self._done:
            return None  # a straggler of a call already handed over
        owner = self._owner.get(uid)
        call = self._calls.get(linkedid) or self._calls.setdefault(linkedid, CallState(linkedid))
        if owner is not None and owner != linkedid and owner in self._calls:
            old = self._calls[owner]  # the channel was re-linked (a transfer): it moves along
            call.channels[uid] = old.channels.pop(uid)
            old.live.discard(uid)
        if uid not in call.channels:
            call.channels[uid] = Channel(uid, msg.get(prefix + "Channel", ""), ts,
                                         text(msg, prefix + "CallerIDNum"),
                                         text(msg, prefix + "CallerIDName"))
            if _calls_in(uid, linkedid):
                call.channels[uid].ringing = True
                self._ring(call.channels[uid].number, +1)
        if call.channels[uid].hung_up is None and msg.get("Event") != "Hangup":
            call.live.add(uid)
            call.ended = call.ended_mono = None
            self._ended.pop(linkedid, None)
        self._owner[uid] = linkedid
        call.last_ts, call.last_mono = ts, now
        return call

    def _hangup(self, call: CallState, channel: Channel, ts: float, now: float) -> None:
        if channel.hung_up is not None:
            return
        channel.hung_up = ts
        call.live.discard(channel.uniqueid)
        self._stop_ringing(channel)
        if not call.live:
            call.ended, call.ended_mono = ts, now
            self._ended[call.linkedid] = call

    def _cdr(self, msg: Message, ts: float, now: float) -> None:
        self.cdr_seen = True
        uid = msg.get("UniqueID", "")
        linkedid = (next((v for k, v in msg.items() if k.lower() == "linkedid" and v), "")
                    or self._owner.get(uid) or self._done_owner.get(uid) or uid)
        if linkedid in self._done:
            if not self._done[linkedid]:  # a Cdr after the handover: more rows of the call
                self._late.append(FinishedCall(linkedid, tuple(cdr_legs([msg], linkedid,
                                                                       self.tz)), (), utc(ts)))
            return
        call = self._calls.setdefault(linkedid, CallState(linkedid, last_ts=ts, last_mono=now))
        call.cdrs.append(msg)
        if not call.live and call.ended is None:  # its channels were never seen (reconnect)
            call.ended, call.ended_mono = ts, now
            self._ended[linkedid] = call

    # --- output ------------------------------------------------------------------------
    def _finish(self, call: CallState, with_legs: bool = True) -> FinishedCall:
        events = finished_queue_events(call)
        synthesized = not call.cdrs
        legs = (() if not with_legs else synthesized_legs(call) if synthesized
                else cdr_legs(call.cdrs, call.linkedid, self.tz))
        self._forget(call, synthesized)
        return FinishedCall(call.linkedid, tuple(legs), tuple(events),
                            utc(call.ended) if call.ended else None, synthesized)

    def _forget(self, call: CallState, synthesized: bool) -> None:
        self._calls.pop(call.linkedid, None)
        self._ended.pop(call.linkedid, None)
        self._done[call.linkedid] = synthesized
        for uid, channel in call.channels.items():
            self._owner.pop(uid, None)
            self._done_owner[uid] = call.linkedid
            self._stop_ringing(channel)
        while len(self._done) > DONE_MEMORY:
            self._done.popitem(last=False)
        while len(self._done_owner) > 4 * DONE_MEMORY:
            self._done_owner.popitem(last=False)

    def _stop_ringing(self, channel: Channel) -> None:
        # Undo exactly what was counted: the channel may have been re-linked to another call
        # (a transfer) since, where it is no longer that call's first channel.
        if channel.ringing:
            channel.ringing = False
            self._ring(channel.number, -1)

    def _ring(self, number: str, step: int) -> None:
        if numbers.is_withheld(number):
            return
        with self._ringing_lock:
            before = self._ringing[number]
            self._ringing[number] = max(0, before + step)
            now_ringing = self._ringing[number] > 0
            if not now_ringing:
                del self._ringing[number]
        if (before > 0) != now_ringing and self.on_ringing is not None:
            try:
                self.on_ringing(number, now_ringing)
            except Exception:  # the lead's banner must never stop the listener
                log.exception("on_ringing failed for %s", number)


def _calls_in(uid: str, linkedid: str) -> bool:
    """Is this channel a caller on the line? The first channel of a call is, except on a
    callback placed from our lists: Originate gives it our attempt id and the customer's number
    as caller ID, and the customer must not show as calling in on the entry being called back."""
    return uid == linkedid and not linkedid.startswith(ATTEMPT_ID_PREFIX)


def _clid(msg: Message) -> str:
    number, name = text(msg, "CallerIDNum"), text(msg, "CallerIDName")
    return f'"{name}" <{number}>' if name else number
