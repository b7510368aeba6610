"""The store on SQLite and PostgreSQL: upsert by key, rebuild only touched callers, idempotent."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from callback_module.connectors.files import parse_lines
from callback_module.extensions import db
from callback_module.models import Call, CallLeg, Entry, QueueEventRow
from callback_module.parsers.follower import read_lines
from callback_module.parsers.sniff import FileKind
from callback_module.policy_loader import load_policy
from callback_module.store import ingest, recompute_all

from conftest import FIXTURES, add_fixture_profile

RUN_A = FIXTURES / "runA_unanswered_yes"


def fixture_data(run=RUN_A):
    cdr = parse_lines(read_lines(run / "cdr-csv" / "Master.csv"), FileKind.CDR_CSV,
                      ZoneInfo("UTC"), "Master.csv",
                      sample=[t for _, t in read_lines(run / "cdr-csv" / "Master.csv")[:3]])
    qlog = parse_lines(read_lines(run / "queue_log"), FileKind.QUEUE_LOG, ZoneInfo("UTC"),
                       "queue_log")
    assert not cdr.problems and not qlog.problems
    return cdr.legs, qlog.queue_events


def snapshot():
    """What a user could see of the lists: one tuple per entry."""
    rows = db.session.scalars(select(Entry).order_by(Entry.id))
    return sorted((e.group.name, e.number_e164 or e.party_key.split(":")[0], e.state, e.count,
                   tuple(a.call_key for a in e.attempts), e.closed_reason) for e in rows)


def table_counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Call, CallLeg, QueueEventRow, Entry))


EXPECTED_PROFILE_1 = [
    ("hotline", "+49301110005", "done", 1, 2),
    ("sales", "+49301110003", "open", 1, 0),
    ("sales", "+49301110004", "open", 1, 0),
    ("sales", "+49301110007", "open", 1, 0),
    ("support", "+49301110001", "done", 1, 3),
    ("support", "+49301110003", "done", 1, 1),
    ("support", "+49301110017", "open", 1, 0),
    ("support", "anonymous", "open", 1, 0),
]


def test_ingest_gives_the_expected_entries(store_app):
    add_fixture_profile(1)
    legs, events = fixture_data()
    result = ingest(legs, events, load_policy())
    db.session.commit()
    assert result.legs_new == len(legs) and result.queue_events_new == len(events)
    got = sorted((g, n, s, c, len(a)) for g, n, s, c, a, _ in snapshot())
    assert got == EXPECTED_PROFILE_1
    assert len(result.changed_entry_ids) == 8


def test_the_same_data_twice_changes_nothing(store_app):
    add_fixture_profile(1)
    legs, events = fixture_data()
    ingest(legs, events, load_policy())
    db.session.commit()
    before, counts = snapshot(), table_counts()
    again = ingest(legs, events, load_policy())
    db.session.commit()
    assert (again.legs_new, again.queue_events_new, again.changed_entry_ids) == (0, 0, set())
    assert snapshot() == before and table_counts() == counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_batches_in_any_order_give_the_same_entries(store_app, seed):
    add_fixture_profile(1)
    legs, events = fixture_data()
    ingest(legs, events, load_policy())
    db.session.commit()
    expected = snapshot()
    db.session.query(Entry).delete()
    db.session.query(Call).delete()
    db.session.commit()
    rng = random.Random(seed)
    items = [("leg", x) for x in legs] + [("event", x) for x in events]
    rng.shuffle(items)
    cuts = sorted(rng.sample(range(1, len(items)), 4))
    for start, end in zip([0, *cuts], [*cuts, len(items)], strict=True):
        part = items[start:end]
        ingest([x for k, x in part if k == "leg"], [x for k, x in part if k == "event"],
               load_policy())
        db.session.commit()
    assert snapshot() == expected


def test_queue_log_adds_times_but_no_entry(store_app):
    add_fixture_profile(1)
    legs, events = fixture_data()
    ingest(legs, [], load_policy())
    db.session.commit()
    without = snapshot()
    ingest([], events, load_policy())
    db.session.commit()
    assert snapshot() == without
    s09 = db.session.scalar(select(Entry).where(Entry.party_key.like("anonymous:%")))
    assert (s09.calls[0].ended, s09.calls[0].ring_s) == ("timeout", 30)


def test_a_settings_change_rebuilds_all_entries(store_app):
    add_fixture_profile(1)
    legs, events = fixture_data()
    ingest(legs, events, load_policy())
    db.session.commit()
    from callback_module.models import Settings

    Settings.load().update({"resolve_other_groups": True, "resolve_users": True,
                            "count_non_member_attempts": True, "show_internal": True,
                            "mailbox_unanswered": False})
    recompute_all(load_policy())
    db.session.commit()
    got = sorted((g, n, s, len(a)) for g, n, s, _c, a, _r in snapshot())
    assert got == [("hotline", "+49301110005", "done", 2), ("sales", "+49301110003", "done", 1),
                   ("sales", "+49301110007", "open", 0), ("support", "+49301110001", "done", 0),
                   ("support", "+49301110003", "done", 1), ("support", "+49301110017", "open", 0),
                   ("support", "anonymous", "open", 0)]


def test_times_come_back_as_aware_utc(store_app):
    add_fixture_profile(1)
    legs, events = fixture_data()
    ingest(legs, events, load_policy())
    db.session.commit()
    db.session.expire_all()
    entry = db.session.scalar(select(Entry).where(Entry.number_e164 == "+49301110001"))
    assert entry.first_call_at == datetime(2026, 11, 22, 6, 11, 6, tzinfo=UTC)
    assert [a.result for a in entry.attempts] == ["busy", "no_answer", "answered"]
    assert entry.closed_reason == "reached by 202"
