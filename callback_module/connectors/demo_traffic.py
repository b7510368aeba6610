"""The demo PBX: a seeded, deterministic simulation of a small Asterisk PBX (SPEC §9).

It writes what Asterisk 20 writes for each call when the call ends: cdr_csv Master.csv rows (one
per leg) and queue_log lines, byte for byte in the shapes recorded from a real Asterisk (the
scenario builders are in :mod:`.demo_scenarios`). It is the traffic of ``make run`` and the load
of the benchmarks, so everything downstream reads it through the real parsers.

Determinism: time is cut into slots of 30 s. What starts in a slot comes from a generator seeded
by a stable hash of (seed, slot), so a window gives the same calls however it is split. A missed
call plans its own callbacks (who, when, with what result) from its slot's generator; each
callback is then written by the slot in which it starts. Each slot owns a block of channel and
CDR sequence numbers, handed out in start order, so uniqueids are unique and sequence numbers
grow with time as Asterisk's counters do (until the weekly restart).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache, lru_cache
from itertools import accumulate
from typing import Any

from .demo_scenarios import (
    ANONYMOUS,
    CHANNELS_PER_CALL,
    EXTENSIONS,
    KINDS,
    MAX_CALL_MS,
    SEQUENCES_PER_CALL,
    Counters,
    Party,
    callback_call,
    hunt_call,
    internal_call,
    queue_call,
    ringall_call,
)

__all__ = ["DEMO_GROUPS", "DEMO_USERS", "KINDS", "DemoCall", "DemoGroup", "DemoPbx", "DemoUser"]

SLOT_MS = 30_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The demo PBX restarts every Monday 00:00 UTC, and Asterisk's counters with it: they stay as
# small as a real PBX's (the sequence is a C int) even at benchmark rates.
_WEEK_SLOTS = 7 * 86_400_000 // SLOT_MS
_MONDAY_SLOT = 4 * 86_400_000 // SLOT_MS  # 1970-01-05, the first Monday after the epoch
_FIRST_CALLBACK_MS = (180_000, 1_200_000)  # after the missed call started
_NEXT_CALLBACK_MS = (240_000, 1_200_000)  # after the previous attempt started
_LOOKBACK_SLOTS = (_FIRST_CALLBACK_MS[1] + 2 * _NEXT_CALLBACK_MS[1]) // SLOT_MS + 1


@dataclass(frozen=True)
class DemoCall:
    """One simulated call, as Asterisk writes it when the call ends."""

    ends_at: datetime  # aware UTC, when the last row was written
    cdr_lines: tuple[str, ...]  # Master.csv lines, each ending in "\n"
    queue_log_lines: tuple[str, ...]  # queue_log lines, each ending in "\n"
    kind: str  # one of KINDS, for tests and logs
    linkedid: str


@dataclass(frozen=True)
class DemoGroup:
    """A group of the demo PBX; the fields are the keys of the settings file's ``groups``."""

    name: str
    type: str
    pbx_id: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class DemoUser:
    """A user of the demo PBX; the fields are the keys of the settings file's ``users``."""

    username: str
    name: str
    extension: str
    email: str
    role: str
    groups: tuple[str, ...]


DEMO_GROUPS = (
    DemoGroup("support", "queue", "support", ("201", "202")),
    DemoGroup("sales", "ringall", "4930555200", ("203", "204")),
    DemoGroup("hotline", "hunt", "4930555300", ("203", "204")),
)
DEMO_USERS = tuple(
    DemoUser(name.split()[0].lower(), name, ext, f"{name.split()[0].lower()}@example.org",
             "agent", tuple(g.name for g in DEMO_GROUPS if ext in g.members))
    for ext, name in EXTENSIONS.items())
_GROUP_OF = {"queue": DEMO_GROUPS[0], "ringall": DEMO_GROUPS[1], "hunt": DEMO_GROUPS[2]}

_SURNAMES = (
    "Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schaefer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schroeder",
    "Neumann", "Schwarz", "Zimmermann", "Braun", "Krueger", "Hofmann", "Hartmann", "Lange",
    "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier",
    "Koehler", "Herrmann", "Koenig", "Walter", "Mayer", "Huber")
# Regular customers (national significant numbers): they come back, so entries gather calls.
_REGULARS = tuple((name, f"301110{101 + i}") for i, name in enumerate(_SURNAMES))
# One-off callers: (area or mobile prefix, digits after it), weighted like a Berlin business.
_ONE_OFF = (("30", 8), ("30", 8), ("30", 8), ("151", 8), ("160", 7), ("170", 7), ("171", 7),
            ("176", 8), ("40", 8), ("89", 8), ("221", 7))
# How carriers deliver, and agents dial, the same German number (OBSERVATIONS 10).
_INBOUND_FORMS = (("+49", 70), ("0", 20), ("0049", 10))
_DIALLED_FORMS = (("0", 60), ("+49", 25), ("0049", 15))

# (scenario, weight, outcomes with weights); internal calls make the rest.
_MIX = (
    ("queue", 40, (("answered", 60), ("abandon", 28), ("timeout", 12))),
    ("ringall", 27, (("answered", 50), ("gave_up", 20), ("voicemail", 30))),
    ("hunt", 23, (("answered", 70), ("missed", 20), ("gave_up", 10))),
    ("internal", 10, (("answered", 65), ("missed", 25), ("gave_up", 10))),
)
_MISSED = {("queue", "abandon"), ("queue", "timeout"), ("ringall", "gave_up"),
           ("ringall", "voicemail"), ("hunt", "missed"), ("hunt", "gave_up")}
_KIND = {("ringall", "gave_up"): "ringall_missed", ("hunt", "gave_up"): "hunt_missed",
         ("internal", "missed"): "internal_missed", ("internal", "gave_up"): "internal_missed"}
# The callbacks a missed call gets: none, reached at once or later, one or two failures and
# then nobody tries again (the entry stays in Attempts), or three failures, which the default
# not-reached limit of 3 turns into Not reached.
_FATES = (((), 25), (("reached",), 30), (("fail", "reached"), 12),
          (("fail", "fail", "reached"), 6), (("fail",), 8), (("fail", "fail"), 5),
          (("fail", "fail", "fail"), 14))
_FAILURES = (("no_answer", 55), ("busy", 30), ("failed", 15))


@dataclass(frozen=True)
class _Plan:
    start: int  # ms since the epoch
    scenario: str
    outcome: str
    party: Party  # who places the call
    number: str  # the extension or customer number dialled; "" for group calls
    seed: int  # for the scenario builder's details


def _stable_seed(*parts: object) -> int:
    # hash() is salted per process; the demo must give the same calls in every process.
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@cache
def _table(weighted: tuple[tuple[Any, ...], ...]) -> tuple[list[Any], list[int]]:
    return [w[0] for w in weighted], list(accumulate(w[1] for w in weighted))


def _pick(rng: random.Random, weighted: tuple[tuple[Any, ...], ...]) -> Any:
    """The first item of one of the tuples, drawn by the weight in their second item."""
    items, cumulative = _table(weighted)  # the same draw as weights=, without rebuilding them
    return rng.choices(items, cum_weights=cumulative)[0]


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the demo PBX needs aware datetimes, not {moment!r}")
    return (moment - _EPOCH) // timedelta(milliseconds=1)


class DemoPbx:
    """A small Asterisk PBX with three groups and five phones, making calls at random.

    ``rate_per_hour`` is the mean number of inbound and internal calls per hour; the callbacks
    of missed calls come on top (about half as many again). Master.csv times are local times
    in ``tz``; queue_log epochs are UTC seconds, as Asterisk writes them.
    """

    def __init__(self, seed: int = 7, *, rate_per_hour: float = 120, tz: tzinfo = UTC):
        if not 0 < rate_per_hour <= 360_000:
            raise ValueError("rate_per_hour must be above 0 and at most 360000")
        self.seed, self.rate_per_hour, self.tz = seed, rate_per_hour, tz
        per_slot = rate_per_hour * SLOT_MS / 3_600_000
        # Room for the busiest slot there will ever be; arrivals beyond it are dropped, and
        # as many callbacks again may start in one slot.
        self._cap = int(per_slot + 6 * math.sqrt(per_slot)) + 4
        self._channel_block = 2 * self._cap * CHANNELS_PER_CALL
        self._sequence_block = 2 * self._cap * SEQUENCES_PER_CALL
        # Windows are read in ascending order: keeping the look-back of a few windows is enough.
        self._plans = lru_cache(maxsize=4 * _LOOKBACK_SLOTS)(self._plan_slot)
        self._calls = lru_cache(maxsize=64)(self._build_slot)

    def calls_between(self, start: datetime, end: datetime) -> list[DemoCall]:
        """The calls that end in [start, end), ordered by their end."""
        start_ms, end_ms = _ms(start), _ms(end)
        if end_ms <= start_ms:
            return []
        first = (start_ms - MAX_CALL_MS) // SLOT_MS
        calls = [call for slot in range(first, end_ms // SLOT_MS + 1)
                 for call in self._calls(slot) if start <= call.ends_at < end]
        return sorted(calls, key=lambda c: (c.ends_at, c.linkedid))

    def _plan_slot(self, slot: int) -> tuple[tuple[_Plan, ...], tuple[_Plan, ...]]:
        """The calls that start in a slot, and the callbacks its missed calls plan for later."""
        rng = random.Random(_stable_seed("demo-pbx", self.seed, slot))
        own: list[_Plan] = []
        later: list[_Plan] = []
        offset = rng.expovariate(self.rate_per_hour / 3600)  # Poisson arrivals, in seconds
        while offset * 1000 < SLOT_MS and len(own) < self._cap:
            start = slot * SLOT_MS + int(offset * 1000)
            scenario = _pick(rng, _MIX)
            outcome = _pick(rng, next(m[2] for m in _MIX if m[0] == scenario))
            if scenario == "internal":
                caller, callee = rng.sample(sorted(EXTENSIONS), 2)
                party, nsn, number = Party(caller, EXTENSIONS[caller]), None, callee
            else:
                party, nsn = self._caller(rng)
                number = ""
            own.append(_Plan(start, scenario, outcome, party, number, rng.getrandbits(64)))
            if nsn and (scenario, outcome) in _MISSED:
                later.extend(self._callbacks(rng, start, nsn, _GROUP_OF[scenario].members))
            offset += rng.expovariate(self.rate_per_hour / 3600)
        return tuple(own), tuple(later)

    @staticmethod
    def _caller(rng: random.Random) -> tuple[Party, str | None]:
        """An outside caller and its national number (None when the number is withheld)."""
        roll = rng.random()
        if roll < 0.06:
            return ANONYMOUS, None
        if roll < 0.60:
            name, nsn = rng.choice(_REGULARS)
        else:
            prefix, digits = rng.choice(_ONE_OFF)
            name = rng.choice(_SURNAMES)
            nsn = prefix + str(rng.randint(2 * 10 ** (digits - 1), 10 ** digits - 1))
        return Party(_pick(rng, _INBOUND_FORMS) + nsn, name), nsn

    @staticmethod
    def _callbacks(rng: random.Random, missed_at: int, nsn: str,
                   members: tuple[str, ...]) -> list[_Plan]:
        results = [r if r != "fail" else _pick(rng, _FAILURES) for r in _pick(rng, _FATES)]
        agent = rng.choice(members)
        at = missed_at + rng.randint(*_FIRST_CALLBACK_MS)
        plans = []
        for result in results:
            if rng.random() < 0.3:  # usually the agent who tried first tries again (S06)
                agent = rng.choice(members)
            number = _pick(rng, _DIALLED_FORMS) + nsn
            plans.append(_Plan(at, "callback", result, Party(agent, EXTENSIONS[agent]), number,
                               rng.getrandbits(64)))
            at += rng.randint(*_NEXT_CALLBACK_MS)
        return plans

    def _starting_in(self, slot: int) -> list[_Plan]:
        own, _ = self._plans(slot)
        callbacks = [plan for origin in range(slot - _LOOKBACK_SLOTS, slot)
                     for plan in self._plans(origin)[1] if plan.start // SLOT_MS == slot]
        # A slot has counters for only so many calls: in the (rare) crush the callbacks of the
        # earliest missed calls go first and the others are never made.
        return sorted([*own, *callbacks[:self._cap]], key=lambda plan: plan.start)

    def _build_slot(self, slot: int) -> tuple[DemoCall, ...]:
        plans = self._starting_in(slot)
        index = (slot - _MONDAY_SLOT) % _WEEK_SLOTS
        counters = Counters(index * self._channel_block, index * self._sequence_block,
                            (index + 1) * self._channel_block,
                            (index + 1) * self._sequence_block)
        return tuple(self._build(counters, plan) for plan in plans)

    def _build(self, counters: Counters, plan: _Plan) -> DemoCall:
        rng = random.Random(plan.seed)
        args = (counters, rng, plan.start, plan.party)
        if plan.scenario == "queue":
            call = queue_call(*args, plan.outcome)
        elif plan.scenario == "ringall":
            call = ringall_call(*args, plan.outcome)
        elif plan.scenario == "hunt":
            call = hunt_call(*args, plan.outcome)
        elif plan.scenario == "internal":
            call = internal_call(*args, plan.number, plan.outcome)
        else:
            call = callback_call(*args, plan.number, plan.outcome)
        kind = _KIND.get((plan.scenario, plan.outcome), f"{plan.scenario}_{plan.outcome}")
        return DemoCall(
            ends_at=_EPOCH + timedelta(milliseconds=call.end),
            cdr_lines=tuple(row.line(self.tz) for row in call.rows),
            queue_log_lines=call.queue_log_lines(),
            kind=kind,
            linkedid=call.caller.uniqueid,
        )
