"""Scenario builders of the demo PBX: one function per kind of call, writing what Asterisk writes.

The simulated PBX is the lab's (fixtures/asterisk/config): chan_sip, cdr_csv with
``unanswered = yes`` and ``congestion = yes``, and this dialplan:

- 4930555100: ``Answer()``, ``Queue(support,r,,,30)`` (ringall 201 "Anna Agent", 202 "Ben Agent",
  ``timeout = 15``, ``retry = 3``), then ``Hangup()``;
- 4930555200: ``Dial(SIP/203&SIP/204,20)``, then ``VoiceMail(200@default,u)``;
- 4930555300: ``Dial(SIP/203,10)``, ``Dial(SIP/204,10)``, then ``Hangup()``;
- extensions dial each other with ``Dial(SIP/<ext>,15)``; numbers go out through
  ``Dial(SIP/carrier/<num>,25,b(outbound-cid^s^1))`` in context ``outbound``.

Every row and line copies a recorded shape; the scenario it comes from (S01..S15 of
OBSERVATIONS.md) is named where the shape is not obvious. Times are integer milliseconds since
the epoch: Asterisk computes duration and billsec from exact times and truncates them, and prints
whole seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache

SUPPORT_DID = "4930555100"
SALES_DID = "4930555200"
HOTLINE_DID = "4930555300"
QUEUE = "support"
QUEUE_MEMBERS = ("201", "202")
SALES_MEMBERS = ("203", "204")
HOTLINE_STEPS = ("203", "204")
EXTENSIONS = {"201": "Anna Agent", "202": "Ben Agent", "203": "Clara Agent",
              "204": "Dave Agent", "210": "Eva NoGroup"}

KINDS = ("queue_answered", "queue_abandon", "queue_timeout",
         "ringall_answered", "ringall_missed", "ringall_voicemail",
         "hunt_answered", "hunt_missed", "internal_answered", "internal_missed",
         "callback_reached", "callback_no_answer", "callback_busy", "callback_failed")

# Upper bounds the scheduler relies on: no call lasts longer, none uses more counters.
MAX_CALL_MS = 600_000
CHANNELS_PER_CALL = 5  # a queue timeout: the caller and two rounds of two members
SEQUENCES_PER_CALL = 10


@dataclass(frozen=True)
class Party:
    """Who places a call: the number Asterisk shows as ``src`` and the caller-ID name."""

    number: str
    name: str

    @property
    def clid(self) -> str:
        return '"{}" <{}>'.format(self.name.replace('"', ""), self.number)


ANONYMOUS = Party("anonymous", "Anonymous")  # S09: src anonymous, clid "Anonymous" <anonymous>


@dataclass(frozen=True)
class Channel:
    name: str
    uniqueid: str


@dataclass(frozen=True)
class CdrRow:
    """One Master.csv row before formatting; times in ms, ``answer`` None when unanswered."""

    src: str
    dst: str
    dcontext: str
    clid: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: int
    answer: int | None
    end: int
    disposition: str
    uniqueid: str
    linkedid: str
    sequence: int

    def line(self, tz: tzinfo) -> str:
        """The row as cdr_csv writes it: strings quoted, numbers bare, an empty answer bare."""
        answer = _quote(_local(self.answer, tz)) if self.answer is not None else ""
        billsec = (self.end - self.answer) // 1000 if self.answer is not None else 0
        fields = ["", self.src, self.dst, self.dcontext, self.clid, self.channel,
                  self.dstchannel, self.lastapp, self.lastdata, _local(self.start, tz)]
        tail = [self.disposition, "DOCUMENTATION", self.uniqueid, "", "", self.linkedid]
        return ",".join([*map(_quote, fields), answer, _quote(_local(self.end, tz)),
                         str((self.end - self.start) // 1000), str(billsec),
                         *map(_quote, tail), str(self.sequence)]) + "\n"


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _local(ms: int, tz: tzinfo) -> str:
    return _local_second(ms // 1000, tz)


@lru_cache(maxsize=4096)  # the rows of a call share a handful of seconds
def _local_second(epoch: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(epoch, tz).strftime("%Y-%m-%d %H:%M:%S")


class Counters:
    """Asterisk's global channel and CDR sequence counters, within the block of one time slot."""

    def __init__(self, channel: int, sequence: int, channel_limit: int, sequence_limit: int):
        self._channel, self._channel_limit = channel, channel_limit
        self._sequence, self._sequence_limit = sequence - 1, sequence_limit

    def channel(self, peer: str, created: int) -> Channel:
        if self._channel >= self._channel_limit:
            raise RuntimeError("demo PBX slot ran out of channel numbers")
        # chan_sip names channels by a 32-bit hex counter; the uniqueid shares it (fixtures).
        n = self._channel % 2**32
        self._channel += 1
        return Channel(f"SIP/{peer}-{n:08x}", f"{created // 1000}.{n}")

    def sequence(self, gap: int) -> int:
        # Gaps as recorded: +3 between parallel legs of one Dial, +2 for a following step or
        # the Hangup() row after a Dial, +1 for the next call or an app row after a queue.
        self._sequence += gap
        if self._sequence >= self._sequence_limit:
            raise RuntimeError("demo PBX slot ran out of CDR sequence numbers")
        return self._sequence


class Call:
    """One call being written: the caller's channel, its CDR rows and its queue_log lines."""

    def __init__(self, counters: Counters, party: Party, *, dst: str, dcontext: str,
                 peer: str, created: int):
        self._counters = counters
        self.party, self.dst, self.dcontext = party, dst, dcontext
        self.caller = counters.channel(peer, created)
        self.rows: list[CdrRow] = []
        self.events: list[tuple[int, str]] = []

    def dial(self, peer: str, at: int) -> Channel:
        return self._counters.channel(peer, at)

    def row(self, callee: Channel | None, app: str, data: str, *, start: int,
            answer: int | None, end: int, disposition: str, gap: int) -> None:
        self.rows.append(CdrRow(
            self.party.number, self.dst, self.dcontext, self.party.clid, self.caller.name,
            callee.name if callee else "", app, data, start, answer, end, disposition,
            self.caller.uniqueid, self.caller.uniqueid, self._counters.sequence(gap)))

    def log(self, at: int, agent: str, event: str, *data: object) -> None:
        fields = [str(at // 1000), self.caller.uniqueid, QUEUE, agent, event, *map(str, data)]
        self.events.append((at, "|".join(fields) + "\n"))

    @property
    def end(self) -> int:
        return max([r.end for r in self.rows] + [at for at, _ in self.events])

    def queue_log_lines(self) -> tuple[str, ...]:
        return tuple(line for _, line in sorted(self.events, key=lambda e: e[0]))


def _talk(rng: random.Random, low_s: int, high_s: int) -> int:
    return rng.randint(low_s * 1000, high_s * 1000)


def queue_call(c: Counters, rng: random.Random, start: int, party: Party, outcome: str) -> Call:
    """Queue support: ``answered``, ``abandon`` (caller hangs up) or ``timeout`` after 30 s."""
    call = Call(c, party, dst=SUPPORT_DID, dcontext="from-pstn", peer="carrier", created=start)
    answered_at = start + rng.randint(2, 30)  # Answer() before Queue(): FreePBX style
    enter = answered_at + rng.randint(30, 300)
    enter_s = enter // 1000
    call.log(enter, "NONE", "ENTERQUEUE", "", party.number, 1)
    busy = rng.choice(QUEUE_MEMBERS) if rng.random() < 0.12 else None
    agent = rng.choice([m for m in QUEUE_MEMBERS if m != busy])
    answer_round = 0 if rng.random() < 0.8 else 1
    hang_up = enter + rng.randint(900, 29_000) if outcome == "abandon" else None
    first = True
    for rnd in range(2):
        round_at = enter + rng.randint(5, 30) + rnd * 18_000  # 15 s ring + 3 s retry
        dials = {m: round_at + i * rng.randint(2, 40) for i, m in enumerate(QUEUE_MEMBERS)}
        if hang_up is not None and hang_up <= max(dials.values()):
            break  # gone during the retry pause: no legs for this round
        # app_queue caps each ring at the time left until the queue's expiry, in whole seconds
        # (S09: 15000 then 12000).
        limit = min(15, enter_s + 30 - round_at // 1000) * 1000
        legs = {m: call.dial(m, at) for m, at in dials.items()}
        connect = None
        if outcome == "answered" and rnd == answer_round:
            connect = dials[agent] + rng.randint(1500, limit - 500)
        for member in QUEUE_MEMBERS:
            name, at = EXTENSIONS[member], dials[member]
            # The first leg keeps the caller's first CDR (channel start, PBX answer time); later
            # legs are forks that start, and count as answered, when dialled (S01, S09).
            row_start, row_answer = (start, answered_at) if first else (at, at)
            first = False
            gap = 1 if not call.rows else (3 if rnd == 0 else 2)  # S09: 41, 44, 46, 48
            if member == busy:  # S12: BUSY at once, logged as a ring of 0 ms
                call.log(at, name, "RINGNOANSWER", 0)
                end, disposition = at + rng.randint(5, 60), "BUSY"
            elif connect is not None and member == agent:
                end, disposition = connect + _talk(rng, 20, 360), "ANSWERED"
                call.log(connect, name, "CONNECT", connect // 1000 - enter_s,
                         legs[member].uniqueid, connect // 1000 - at // 1000)
                who = "COMPLETECALLER" if rng.random() < 0.6 else "COMPLETEAGENT"
                call.log(end, name, who, connect // 1000 - enter_s,
                         end // 1000 - connect // 1000, 1)
            elif connect is not None:  # answered elsewhere: no queue_log line (S02)
                end, disposition = connect, "NO ANSWER"
            elif hang_up is not None and hang_up < at + limit:
                end, disposition = hang_up, "NO ANSWER"
                call.log(end, name, "RINGCANCELED", end - at)
            else:
                end, disposition = at + limit, "NO ANSWER"
                call.log(end, name, "RINGNOANSWER", limit)
            call.row(legs[member], "Queue", f"{QUEUE},r,,,30", start=row_start,
                     answer=row_answer, end=end, disposition=disposition, gap=gap)
        if connect is not None:
            return call
    if hang_up is not None:
        call.log(hang_up, "NONE", "ABANDON", 1, 1, hang_up // 1000 - enter_s)
        return call
    # S09: the queue times out, the dialplan hangs up the answered caller: an ANSWERED row
    # with no destination channel.
    out = max(r.end for r in call.rows) + rng.randint(1, 15)
    call.log(out, "NONE", "EXITWITHTIMEOUT", 1, 1, out // 1000 - enter_s)
    call.row(None, "Hangup", "", start=out, answer=out, end=out, disposition="ANSWERED", gap=1)
    return call


def ringall_call(c: Counters, rng: random.Random, start: int, party: Party,
                 outcome: str) -> Call:
    """Ring-all sales: ``answered``, ``gave_up`` (caller hangs up) or ``voicemail`` after 20 s."""
    call = Call(c, party, dst=SALES_DID, dcontext="from-pstn", peer="carrier", created=start)
    dial = start + rng.randint(5, 40)
    busy = rng.choice(SALES_MEMBERS) if rng.random() < 0.15 else None
    agent = rng.choice([m for m in SALES_MEMBERS if m != busy])
    stop = dial + {"answered": rng.randint(2000, 16_000), "gave_up": rng.randint(1000, 19_000),
                   "voicemail": 20_000}[outcome]
    for i, member in enumerate(SALES_MEMBERS):
        at = dial + i * rng.randint(1, 15)
        leg = call.dial(member, at)
        answer = None
        if member == busy:  # S03: 486 from one phone is a BUSY row of 0 s
            end, disposition = at + rng.randint(5, 80), "BUSY"
        elif outcome == "answered" and member == agent:
            answer, disposition = stop, "ANSWERED"
            end = stop + _talk(rng, 15, 300)
        else:
            end, disposition = stop, "NO ANSWER"
        call.row(leg, "Dial", "SIP/203&SIP/204,20", start=start if i == 0 else at,
                 answer=answer, end=end, disposition=disposition, gap=3 if i else 1)
    if outcome == "voicemail":
        # S03: VoiceMail answers the caller: ANSWERED, no destination channel, billsec is the
        # greeting plus the message.
        vm = stop + rng.randint(5, 40)
        end = vm + rng.randint(3000, 5000) + _talk(rng, 2, 45)
        call.row(None, "VoiceMail", "200@default,u", start=vm, answer=vm, end=end,
                 disposition="ANSWERED", gap=1)
    return call


def hunt_call(c: Counters, rng: random.Random, start: int, party: Party, outcome: str) -> Call:
    """Hunt hotline, one row per step: ``answered`` on step 1 or 2, ``missed``, ``gave_up``."""
    call = Call(c, party, dst=HOTLINE_DID, dcontext="from-pstn", peer="carrier", created=start)
    at = start + rng.randint(5, 40)
    answer_step = rng.choice((0, 0, 1)) if outcome == "answered" else None
    gave_up_step = rng.choice((0, 1)) if outcome == "gave_up" else None
    # A busy phone only ever sits on a step nobody answers.
    busy_step = next((s for s in (0, 1) if s != answer_step and s != gave_up_step
                      and rng.random() < 0.1), None)
    disposition = "NO ANSWER"
    for step, member in enumerate(HOTLINE_STEPS):
        leg = call.dial(member, at)
        answer = None
        if step == busy_step:
            end, disposition = at + rng.randint(5, 80), "BUSY"
        elif step == answer_step:
            answer, disposition = at + rng.randint(1500, 9000), "ANSWERED"
            end = answer + _talk(rng, 15, 300)
        elif step == gave_up_step:
            end, disposition = at + rng.randint(1000, 9500), "NO ANSWER"
        else:
            end, disposition = at + 10_000, "NO ANSWER"
        call.row(leg, "Dial", f"SIP/{member},10", start=start if step == 0 else at,
                 answer=answer, end=end, disposition=disposition, gap=1 if step == 0 else 2)
        if disposition == "ANSWERED" or step == gave_up_step:
            return call  # connected, or the caller is gone: the dialplan does not go on
        at = end + rng.randint(5, 30)
    # S05: with unanswered=yes the Hangup() after the last step gets a row of its own, with
    # the last Dial's disposition (S06a: BUSY).
    call.row(None, "Hangup", "", start=at, answer=None, end=at, disposition=disposition, gap=2)
    return call


def internal_call(c: Counters, rng: random.Random, start: int, party: Party, dst: str,
                  outcome: str) -> Call:
    """Extension to extension: ``answered``, ``missed`` (15 s) or ``gave_up`` (S08, S13)."""
    call = Call(c, party, dst=dst, dcontext="from-internal", peer=party.number, created=start)
    dial = start + rng.randint(5, 40)
    leg = call.dial(dst, dial)
    answer = None
    if outcome == "answered":
        answer = dial + rng.randint(2000, 12_000)
        end, disposition = answer + _talk(rng, 10, 240), "ANSWERED"
    elif outcome == "gave_up":
        end, disposition = dial + rng.randint(1000, 12_000), "NO ANSWER"
    else:
        end, disposition = dial + 15_000, "NO ANSWER"
    call.row(leg, "Dial", f"SIP/{dst},15", start=start, answer=answer, end=end,
             disposition=disposition, gap=1)
    if outcome == "missed":
        call.row(None, "Hangup", "", start=end, answer=None, end=end, disposition=disposition,
                 gap=2)
    return call


def callback_call(c: Counters, rng: random.Random, start: int, party: Party, number: str,
                  outcome: str) -> Call:
    """An agent dials a customer: ``reached``, ``no_answer``, ``busy`` or ``failed``.

    A failing carrier (503) is recorded as CONGESTION because the simulated cdr.conf has
    ``congestion = yes`` (S14, run A); with Asterisk's default it would read FAILED.
    """
    call = Call(c, party, dst=number, dcontext="outbound", peer=party.number, created=start)
    dial = start + rng.randint(5, 40)
    leg = call.dial("carrier", dial)
    answer, hangup_row = None, True
    if outcome == "reached":
        answer = dial + rng.randint(2000, 20_000)
        end, disposition, hangup_row = answer + _talk(rng, 15, 300), "ANSWERED", False
    elif outcome == "busy":
        # busy at once, or declined on the phone after some ringing
        ring = rng.randint(50, 400) if rng.random() < 0.6 else rng.randint(1000, 6000)
        end, disposition = dial + ring, "BUSY"
    elif outcome == "failed":
        end, disposition = dial + rng.randint(50, 400), "CONGESTION"
    elif rng.random() < 0.25:  # the agent gives up first: the channel is gone, no Hangup() row
        end, disposition, hangup_row = dial + rng.randint(6000, 24_000), "NO ANSWER", False
    else:
        end, disposition = dial + 25_000, "NO ANSWER"
    call.row(leg, "Dial", f"SIP/carrier/{number},25,b(outbound-cid^s^1)", start=start,
             answer=answer, end=end, disposition=disposition, gap=1)
    if hangup_row:  # S06a, S06b, S14: unanswered=yes logs the Hangup() after the Dial
        call.row(None, "Hangup", "", start=end, answer=None, end=end, disposition=disposition,
                 gap=2)
    return call
