"""Queue events of AMI as the queue_log lines the rules know (same names, same data fields).

| AMI event | queue_log line |
|---|---|
| QueueCallerJoin | ENTERQUEUE, data ("", caller number, position) |
| AgentConnect | CONNECT, data (hold s, member channel uniqueid, ring s) |
| AgentComplete | COMPLETECALLER / COMPLETEAGENT (hold, talk, position), TRANSFER |
| AgentRingNoAnswer | RINGNOANSWER, data (ring ms) |
| QueueCallerAbandon | ABANDON, or EXITWITHTIMEOUT when VarSet QUEUESTATUS=TIMEOUT follows |

The agent is the queue member's name (MemberName), as queue_log writes it.
"""

from __future__ import annotations

from ...records import QueueEvent
from .calls import CallState, utc
from .protocol import Message

UNKNOWN = "<unknown>"  # AMI's spelling of an empty caller ID


def text(message: Message, key: str) -> str:
    value = message.get(key, "")
    return "" if value == UNKNOWN else value


def queue_event(call: CallState, event: str, msg: Message, ts: float) -> None:
    """Record one Queue*/Agent* event of ``call``; others are ignored."""
    queue, member = msg.get("Queue", ""), msg.get("MemberName", "")

    def add(name: str, agent: str, *data: str) -> None:
        call.queue_events.append(QueueEvent(at=utc(ts), callid=msg["Uniqueid"], queue=queue,
                                            agent=agent, event=name, data=tuple(data)))

    if event == "QueueCallerJoin":
        call.joined[queue] = (ts, msg.get("Position", ""))
        add("ENTERQUEUE", "NONE", "", text(msg, "CallerIDNum"), msg.get("Position", ""))
    elif event == "AgentConnect":
        add("CONNECT", member, msg.get("HoldTime", ""), msg.get("DestUniqueid", ""),
            msg.get("RingTime", ""))
    elif event == "AgentComplete":
        position = call.joined.get(queue, (0.0, ""))[1]
        reason = msg.get("Reason", "").lower()
        if reason == "transfer":  # TRANSFER|exten|context|hold|talk|position
            add("TRANSFER", member, "", "", msg.get("HoldTime", ""), msg.get("TalkTime", ""),
                position)
        else:
            add("COMPLETEAGENT" if reason == "agent" else "COMPLETECALLER", member,
                msg.get("HoldTime", ""), msg.get("TalkTime", ""), position)
    elif event == "AgentRingNoAnswer":
        add("RINGNOANSWER", member, msg.get("RingTime", ""))
    elif event == "QueueCallerAbandon":
        # AMI sends QueueCallerAbandon for a queue timeout too (S09); only the VarSet
        # QUEUESTATUS=TIMEOUT that follows it tells them apart, so it is judged at the end.
        call.abandons.append(dict(msg, Timestamp=repr(ts)))


def queue_status(call: CallState, value: str) -> None:
    """VarSet QUEUESTATUS on the caller: it explains the abandons before it."""
    call.queue_status = value
    for abandon in call.abandons:
        abandon.setdefault("QueueStatus", value)


def finished_queue_events(call: CallState) -> list[QueueEvent]:
    events = list(call.queue_events)
    for abandon in call.abandons:
        timeout = abandon.get("QueueStatus") == "TIMEOUT"
        events.append(QueueEvent(
            at=utc(float(abandon["Timestamp"])), callid=abandon["Uniqueid"],
            queue=abandon.get("Queue", ""), agent="NONE",
            event="EXITWITHTIMEOUT" if timeout else "ABANDON",
            data=(abandon.get("Position", ""), abandon.get("OriginalPosition", ""),
                  abandon.get("HoldTime", ""))))
    return events
