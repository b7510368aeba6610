"""Judge one call record: who called whom, which group it reached, answered or missed.

Pure functions over a :class:`~callback_module.records.CallRecord` and a :class:`Policy`.
The PBX quirks live here (SPEC §4, fixtures/OBSERVATIONS.md): a queue that answers the caller
before queueing, ``ANSWERED`` rows written for voicemail and ``Hangup()``, one row per leg.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .. import numbers
from ..records import CallRecord, Leg, QueueEvent
from .policy import GroupDef, Policy

# Channel names look like SIP/201-0000001e, PJSIP/201-00000a, Local/201@from-queue-00ab;1.
_CHANNEL_PEER = re.compile(r"^[A-Za-z0-9]+/([^-@/;]+)")
_CLID_NAME = re.compile(r'^\s*"?(.*?)"?\s*<[^>]*>\s*$')
QUEUE_END = {"ABANDON": "abandoned", "EXITWITHTIMEOUT": "timeout", "EXITEMPTY": "no_agents",
             "EXITWITHKEY": "left_by_key", "WITHDRAW": "withdrawn"}
QUEUE_TALK = {"COMPLETECALLER": 1, "COMPLETEAGENT": 1, "BLINDTRANSFER": 3, "TRANSFER": 3}
DISPOSITION_RESULT = {"ANSWERED": "answered", "NO ANSWER": "no_answer", "CANCEL": "no_answer",
                      "BUSY": "busy", "CONGESTION": "congestion", "FAILED": "failed"}


@dataclass(frozen=True)
class InboundCall:
    """A call from an outside (or, with "show internal", an inside) caller."""

    key: str
    at: datetime
    number: str
    name: str
    party_key: str
    e164: str | None
    anonymous: bool
    internal: bool
    group: str | None  # the last watched group it reached
    answered: bool  # by a person with enough talk, or by voicemail when that counts
    answered_by: str = ""
    answered_in: str | None = None
    talk_s: int = 0
    ring_s: int = 0
    ended: str = ""
    rang: tuple[str, ...] = ()
    ended_at: datetime | None = None

    @property
    def missed(self) -> bool:
        return self.group is not None and not self.answered


@dataclass(frozen=True)
class OutboundCall:
    """A call from an extension to an outside number: a possible callback attempt."""

    key: str
    at: datetime
    by: str
    number: str
    party_key: str
    e164: str | None
    answered: bool
    result: str
    duration_s: int = 0
    ring_s: int = 0
    talk_s: int = 0


Classified = InboundCall | OutboundCall


def peer_of(channel: str) -> str:
    """The extension or trunk name inside a channel name ("" for none)."""
    match = _CHANNEL_PEER.match(channel or "")
    return match.group(1) if match else ""


def caller_name(clid: str) -> str:
    match = _CLID_NAME.match(clid or "")
    name = match.group(1).strip() if match else ""
    return "" if numbers.is_withheld(name) else name


def is_extension(number: str, policy: Policy) -> bool:
    """Internal numbers: known extensions, or digit strings too short to be public numbers."""
    digits = numbers.clean(number)
    return digits in policy.extensions or (digits.isdigit() and len(digits) <= 6)


def leg_group(leg: Leg, policy: Policy) -> GroupDef | None:
    if leg.lastapp.lower() == "queue":
        group = policy.group_for(leg.lastdata.split(",", 1)[0].strip())
        if group:
            return group
    return policy.group_for(leg.dst) or policy.group_for(leg.did)


def classify(call: CallRecord, policy: Policy) -> Classified | None:
    """Inbound, outbound, or None for calls the lists never care about (internal, empty)."""
    if not call.legs and not call.queue_events:
        return None
    if not call.legs and not _queue_call_ended(call):
        return None  # still waiting or talking: judged once it has ended
    number, clid = _caller(call)
    reached = _groups_reached(call, policy)
    if is_extension(number, policy) and not reached:
        return _outbound(call, number, policy)
    return _inbound(call, number, clid, reached, policy)


def _queue_call_ended(call: CallRecord) -> bool:
    """queue_log alone: has the caller left the queue? (CDR rows are only written at the end.)"""
    return any(e.event in QUEUE_END or e.event in QUEUE_TALK or e.event == "ATTENDEDTRANSFER"
               for e in call.queue_events)


def _caller(call: CallRecord) -> tuple[str, str]:
    if call.legs:
        return call.legs[0].src.strip(), call.legs[0].clid
    enter = next((e for e in call.queue_events if e.event == "ENTERQUEUE"), None)
    return ((enter.data[1] if enter and len(enter.data) > 1 else ""), "")


def _groups_reached(call: CallRecord, policy: Policy) -> list[tuple[datetime, GroupDef]]:
    """When the call reached each watched group, in order.

    A queue is reached when the caller entered it; its later lines (the exit after a timeout)
    share the second with the overflow stage's first CDR row and must not sort after it.
    """
    reached = [(leg.start, g) for leg in call.legs if (g := leg_group(leg, policy))]
    reached += [(e.at, g) for e in call.queue_events
                if e.event == "ENTERQUEUE" and (g := policy.group_for(e.queue))]
    return sorted(reached, key=lambda item: item[0])


def _person_answer(call: CallRecord, policy: Policy) -> tuple[str, GroupDef | None, int,
                                                              datetime] | None:
    """(who, in which group, talk seconds, when) of the answer by a person, if any.

    queue_log is exact for queues: CONNECT names the member and COMPLETE* the talk time, where
    the CDR's billsec also counts the wait after the PBX answered the caller.
    """
    for event in call.queue_events:
        if event.event == "CONNECT":
            talk = _queue_talk(call.queue_events, event)
            leg_talk = next((leg.billsec for leg in call.legs if leg.answered and leg.dstchannel),
                            None)
            if talk is None:
                talk = leg_talk if leg_talk is not None else 0
            who = policy.extension_of_member(event.agent) or event.agent
            return who, policy.group_for(event.queue), talk, event.at
    for leg in call.legs:
        if leg.answered and leg.dstchannel:
            return peer_of(leg.dstchannel), leg_group(leg, policy), leg.billsec, \
                (leg.answer or leg.start)
    return None


def _queue_talk(events: tuple[QueueEvent, ...], connect: QueueEvent) -> int | None:
    for event in events:
        index = QUEUE_TALK.get(event.event)
        if event.at >= connect.at and index is not None and len(event.data) > index:
            try:
                return int(event.data[index])
            except ValueError:
                return None
    return None


def _inbound(call: CallRecord, number: str, clid: str,
             reached: list[tuple[datetime, GroupDef]], policy: Policy) -> InboundCall:
    start = call.start
    anonymous = numbers.is_withheld(number)
    e164 = None if anonymous else numbers.to_e164(number, policy.default_region)
    internal = not anonymous and is_extension(number, policy)
    if anonymous:
        party = "anonymous:" + call.key
    elif internal:
        party = "ext:" + numbers.clean(number)
    else:
        party = e164 or "raw:" + numbers.clean(number)
    group = reached[-1][1] if reached else None
    final_group = group
    answer = _person_answer(call, policy)
    voicemail = next((leg for leg in call.legs if leg.lastapp.lower() == "voicemail"), None)
    answered, by, answered_in, talk, ended = False, "", None, 0, ""
    if answer and answer[2] >= policy.min_inbound_talk:
        by, in_group, talk, when = answer
        answered, ended = True, "answered"
        before = [g for t, g in reached if t <= when]
        answered_in = (in_group or (before[-1] if before else None))
    elif voicemail is not None:
        ended = "voicemail"
        if not policy.mailbox_unanswered:
            answered, by = True, "voicemail"
            answered_in = leg_group(voicemail, policy) or group
    else:
        ended = _how_missed(call, group, policy)
    if internal and not policy.show_internal:
        group = None
    end_of_ringing = (voicemail.start if voicemail is not None and ended == "voicemail"
                      else call.end)
    return InboundCall(
        key=call.key, at=start, number="anonymous" if anonymous else number,
        name=caller_name(clid), party_key=party, e164=e164, anonymous=anonymous,
        internal=internal, group=group.name if group else None, answered=answered,
        answered_by=by, answered_in=answered_in.name if answered_in else None, talk_s=talk,
        ring_s=_ring_seconds(call, start, end_of_ringing, final_group, policy), ended=ended,
        rang=_who_rang(call, policy), ended_at=call.end,
    )


def _how_missed(call: CallRecord, group: GroupDef | None, policy: Policy) -> str:
    if group is None:
        return "no_answer"
    for event in reversed(_final_queue_events(call, group, policy)):
        if event.event in QUEUE_END:
            return QUEUE_END[event.event]
    group_legs = [leg for leg in call.legs if leg_group(leg, policy) == group and leg.dstchannel]
    if group_legs and all(leg.disposition == "BUSY" for leg in group_legs):
        return "busy"
    if group.type == "queue":
        # The caller channel only goes on in the dialplan (a Hangup() row) after a timeout.
        last_queue = max((leg.end for leg in group_legs), default=None)
        later = [leg for leg in call.legs if last_queue and leg.start >= last_queue
                 and leg.lastapp.lower() != "queue"]
        return "timeout" if later else "abandoned"
    return "no_answer"


def _final_queue_events(call: CallRecord, group: GroupDef | None,
                        policy: Policy) -> list[QueueEvent]:
    """The queue_log lines of the group the call ended in, when that group is a queue."""
    return [e for e in call.queue_events if group and policy.group_for(e.queue) == group]


def _ring_seconds(call: CallRecord, start: datetime, end: datetime | None,
                  group: GroupDef | None, policy: Policy) -> int:
    for event in reversed(_final_queue_events(call, group, policy)):
        if event.event in ("ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY") and len(event.data) > 2:
            try:
                return int(event.data[2])
            except ValueError:
                break
    return max(0, int((end - start).total_seconds())) if end and start else 0


def _who_rang(call: CallRecord, policy: Policy) -> tuple[str, ...]:
    rang = [peer_of(leg.dstchannel) for leg in call.legs if leg.dstchannel]
    rang += [policy.extension_of_member(e.agent) or e.agent for e in call.queue_events
             if e.event in ("RINGNOANSWER", "RINGCANCELED", "CONNECT")]
    return tuple(dict.fromkeys(r for r in rang if r))


def _outbound(call: CallRecord, by: str, policy: Policy) -> OutboundCall | None:
    dial_legs = [leg for leg in call.legs if leg.dstchannel]
    leg = next((lg for lg in dial_legs if lg.answered), dial_legs[-1] if dial_legs else None)
    if leg is None:
        leg = call.legs[-1] if call.legs else None
    if leg is None:
        return None
    dialled = leg.dst.strip()
    if not dialled or is_extension(dialled, policy) or numbers.is_withheld(dialled):
        return None  # an internal call, or dialling a service code
    e164 = numbers.to_e164(dialled, policy.default_region, policy.outside_line_prefix)
    party = e164 or "raw:" + numbers.clean(dialled)
    answered = leg.answered and bool(leg.dstchannel)
    result = DISPOSITION_RESULT.get(leg.disposition, "failed") if leg.dstchannel else "failed"
    ring = int(((leg.answer or leg.end) - leg.start).total_seconds())
    return OutboundCall(
        key=call.key, at=call.start, by=numbers.clean(by), number=dialled, party_key=party,
        e164=e164, answered=answered, result="answered" if answered else result,
        duration_s=leg.duration, ring_s=max(0, ring), talk_s=leg.billsec if answered else 0,
    )
