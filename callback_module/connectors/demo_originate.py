"""Click-to-dial on the demo PBX: the requests it took, and the calls they become.

``originate`` only appends the request to ``originate.jsonl``; the connector's next fetch writes
the call's CDR rows, as Asterisk does when the call has ended, so the attempt reaches the lists
through the sync and the rules like any other call. The call is the callback scenario (the agent
dials out through the carrier) with the requested ChannelId as uniqueid and linkedid, and its
outcome is drawn from the attempt id: the same request always gives the same call.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from .demo_scenarios import EXTENSIONS, Counters, Party, callback_call
from .demo_traffic import DemoCall, _stable_seed

REQUESTS = "originate.jsonl"
OUTCOMES = (("reached", 65), ("no_answer", 20), ("busy", 10), ("failed", 5))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COUNTER_SPACE = 2**31  # far above the simulated traffic's own counter blocks


@dataclass(frozen=True)
class OriginateRequest:
    attempt_id: str
    extension: str
    number: str
    at: datetime

    def to_line(self) -> str:
        return json.dumps({"attempt_id": self.attempt_id, "extension": self.extension,
                           "number": self.number, "at": self.at.isoformat()}) + "\n"

    @classmethod
    def from_line(cls, line: str) -> OriginateRequest:
        data = json.loads(line)
        return cls(data["attempt_id"], data["extension"], data["number"],
                   datetime.fromisoformat(data["at"]))


def record(directory: str, request: OriginateRequest) -> None:
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, REQUESTS), "a", encoding="utf-8") as requests:
        requests.write(request.to_line())


def outcome_of(attempt_id: str) -> str:
    """How the callee answers this attempt: mostly reached, else no answer, busy or congestion."""
    rng = random.Random(_stable_seed("demo-originate", attempt_id))
    outcomes, weights = zip(*OUTCOMES, strict=True)
    return rng.choices(outcomes, weights=weights)[0]


def build_call(request: OriginateRequest, tz: tzinfo) -> DemoCall:
    """The CDR rows Asterisk writes for this originated callback."""
    seed = _stable_seed("demo-originate", request.attempt_id)
    # Counters of the call's own, picked by the id, so its channel names look like any other.
    channel, sequence = seed % _COUNTER_SPACE, (seed >> 32) % _COUNTER_SPACE
    counters = Counters(channel, sequence, channel + 8, sequence + 8)
    party = Party(request.extension, EXTENSIONS.get(request.extension, "Callback"))
    start = (request.at - _EPOCH) // timedelta(milliseconds=1)
    outcome = outcome_of(request.attempt_id)
    call = callback_call(counters, random.Random(seed), start, party, request.number, outcome)
    # Originate's ChannelId becomes the uniqueid of the agent's channel and the call's linkedid.
    rows = [replace(row, uniqueid=request.attempt_id, linkedid=request.attempt_id)
            for row in call.rows]
    return DemoCall(ends_at=_EPOCH + timedelta(milliseconds=call.end),
                    cdr_lines=tuple(row.line(tz) for row in rows), queue_log_lines=(),
                    kind=f"callback_{outcome}", linkedid=request.attempt_id)


def ended_calls(directory: str, cursor: dict[str, Any] | None, now: datetime,
                tz: tzinfo) -> tuple[list[DemoCall], dict[str, Any]]:
    """The requested calls that have ended by ``now`` and were not written yet; the new cursor.

    The cursor holds the byte offset before which every request was written, and the ids
    written after it (a short call may end before a longer one requested earlier).
    """
    cursor = cursor or {}
    offset, written = int(cursor.get("offset", 0)), set(cursor.get("written", ()))
    path = os.path.join(directory, REQUESTS)
    if not os.path.exists(path):
        return [], {"offset": offset, "written": sorted(written)}
    calls: list[DemoCall] = []
    pending_seen = False
    with open(path, "rb") as requests:
        requests.seek(offset)
        for line in iter(requests.readline, b""):
            if not line.endswith(b"\n"):
                break  # being written right now: next time
            request = OriginateRequest.from_line(line.decode("utf-8"))
            if request.attempt_id not in written:
                call = build_call(request, tz)
                if call.ends_at <= now:
                    calls.append(call)
                    written.add(request.attempt_id)
            if request.attempt_id in written and not pending_seen:
                offset += len(line)
                written.discard(request.attempt_id)
            else:
                pending_seen = True
    return calls, {"offset": offset, "written": sorted(written)}
