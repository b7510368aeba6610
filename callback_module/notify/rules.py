"""Who is told about a missed call, and which rule kept the others quiet (SPEC §5, after estos).

Pure functions over plain data: a call's facts, the people whose phones rang, the earlier
notifications about the same caller, and the server's policy in; one decision per person out.
One decision per *person*, however often and on however many of their phones the call rang
(ring-all, hunt, forwarding, a queue ringing them again), so nobody gets two mails for a call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from ..records import CallRecord
from ..rules.classify import peer_of

RECIPIENT_MODES = ("none", "first", "last", "all")
LATE_LIMIT = timedelta(minutes=15)  # learned of a call later than this after it ended: quiet
# The rules that keep a person from being told, in the order they are checked.
RULES = ("not_opted_in", "no_email", "internal", "withheld", "excluded", "short_ring",
         "no_contact", "repeat_same_day", "repeat_not_logged_in")


@dataclass(frozen=True)
class NotifyPolicy:
    recipients: str = "none"  # RECIPIENT_MODES
    third_party_answered: bool = False  # also tell them when someone who did not ring answered
    skip_internal: bool = True
    skip_withheld: bool = True
    skip_no_contact: bool = False
    skip_repeat_same_day: bool = False
    skip_repeat_not_logged_in: bool = False
    skip_short_ring: bool = True
    min_ring_s: float = 2.0
    excluded: frozenset[str] = frozenset()  # party keys (E.164, or "raw:" + digits)


@dataclass(frozen=True)
class Ring:
    """One phone ringing once during the call."""

    extension: str
    at: datetime


@dataclass(frozen=True)
class CallFacts:
    key: str
    party_key: str
    at: datetime  # when it started ringing
    anonymous: bool
    internal: bool
    answered: bool  # the rules' verdict: answered by a person (or a mailbox, where that counts)
    answered_by: str  # the extension that took it, "" for none
    rings: tuple[Ring, ...]
    ring_s: float  # how long the caller rang or waited in all
    has_contact: bool = False


@dataclass(frozen=True)
class Person:
    user_id: int
    extension: str
    opted_in: bool
    email: str
    last_login_at: datetime | None = None


@dataclass(frozen=True)
class Earlier:
    """A notification this person was sent before about the same caller."""

    user_id: int
    at: datetime  # when that call started ringing


@dataclass(frozen=True)
class Decision:
    user_id: int
    send: bool
    rule: str = ""  # the rule that skipped it (one of RULES); "" when sent


def rings_of(record: CallRecord, extension_of_member: Mapping[str, str]) -> tuple[Ring, ...]:
    """Every time a phone rang, in time order: CDR legs with a destination phone, and the
    queue's ring attempts (queue_log names members by name: ``extension_of_member`` maps)."""
    rings = [Ring(peer_of(leg.dstchannel), leg.start) for leg in record.legs
             if leg.dstchannel and peer_of(leg.dstchannel)]
    rings += [Ring(extension_of_member.get(e.agent, e.agent), e.at) for e in record.queue_events
              if e.event in ("RINGNOANSWER", "RINGCANCELED", "CONNECT") and e.agent]
    return tuple(sorted(rings, key=lambda r: r.at))


def is_late(ended_at: datetime, learned_at: datetime) -> bool:
    """A call Callback learned of long after it ended (an import, a backfill) tells nobody."""
    return learned_at - ended_at > LATE_LIMIT


def call_wants_telling(call: CallFacts, policy: NotifyPolicy) -> bool:
    """Missed, or answered by a third party while that counts; never with recipients none."""
    if policy.recipients == "none" or policy.recipients not in RECIPIENT_MODES:
        return False
    if not call.answered:
        return True
    rang = {r.extension for r in call.rings}
    return policy.third_party_answered and bool(call.answered_by) and \
        call.answered_by not in rang


def chosen(call: CallFacts, people: Mapping[str, Person], mode: str) -> list[Person]:
    """The people the mode picks among those whose phones rang, each once."""
    order: list[Person] = []
    for ring in call.rings:
        person = people.get(ring.extension)
        if person is not None and ring.extension != call.answered_by and person not in order:
            order.append(person)
    if not order:
        return []
    if mode == "first":
        return order[:1]
    if mode == "last":
        last = max((r for r in call.rings if r.extension in people
                    and r.extension != call.answered_by), key=lambda r: r.at)
        return [people[last.extension]]
    return order


def skip_rule(call: CallFacts, person: Person, policy: NotifyPolicy,
              earlier: Sequence[Earlier], tz: tzinfo) -> str:
    """The first rule that keeps ``person`` from being told, or ""."""
    mine = [e for e in earlier if e.user_id == person.user_id and e.at < call.at]
    checks = (
        ("not_opted_in", not person.opted_in),
        ("no_email", not person.email),
        ("internal", policy.skip_internal and call.internal),
        ("withheld", policy.skip_withheld and call.anonymous),
        ("excluded", call.party_key in policy.excluded),
        ("short_ring", policy.skip_short_ring and call.ring_s < policy.min_ring_s),
        ("no_contact", policy.skip_no_contact and not call.has_contact),
        ("repeat_same_day", policy.skip_repeat_same_day and any(
            e.at.astimezone(tz).date() == call.at.astimezone(tz).date() for e in mine)),
        ("repeat_not_logged_in", policy.skip_repeat_not_logged_in and any(
            person.last_login_at is None or e.at > person.last_login_at for e in mine)),
    )
    return next((rule for rule, applies in checks if applies), "")


def decide(call: CallFacts, policy: NotifyPolicy, people: Mapping[str, Person],
           earlier: Iterable[Earlier], tz: tzinfo) -> list[Decision]:
    """One decision per person the policy would tell about ``call``, sent or skipped."""
    if not call_wants_telling(call, policy):
        return []
    earlier = list(earlier)
    decisions = []
    for person in chosen(call, people, policy.recipients):
        rule = skip_rule(call, person, policy, earlier, tz)
        decisions.append(Decision(person.user_id, not rule, rule))
    return decisions
