"""The per-group limit and the retention period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from callback_module.extensions import db
from callback_module.housekeeping import expire_overflow, purge_expired_data
from callback_module.models import Call, Entry, Settings
from callback_module.policy_loader import load_policy
from callback_module.store import ingest, recompute_all

from conftest import add_fixture_profile
from test_store import fixture_data


def load():
    legs, events = fixture_data()
    ingest(legs, events, load_policy())
    db.session.commit()


def test_the_oldest_open_entries_beyond_the_limit_expire(app):
    add_fixture_profile(1, max_entries_per_group=1)
    load()
    expire_overflow(load_policy())
    db.session.commit()
    support = {(e.number_e164 or "anonymous"): (e.state, e.closed_reason)
               for e in db.session.scalars(select(Entry)) if e.group.name == "support"}
    # support had 2 open entries: S07b (06:13:54) and the anonymous S09 (06:14:23).
    assert support["anonymous"] == ("open", None)
    assert support["+49301110017"] == ("done", "expired")
    recompute_all(load_policy())  # rebuilding from the call data keeps the expiry
    db.session.commit()
    entry = db.session.scalar(select(Entry).where(Entry.number_e164 == "+49301110017"))
    assert entry.closed_reason == "expired"


def test_retention_deletes_old_closed_entries_and_keeps_open_ones(app):
    add_fixture_profile(1, retention_days=30)
    load()
    later = datetime(2026, 11, 22, tzinfo=UTC) + timedelta(days=31)
    entries, calls = purge_expired_data(later)
    db.session.commit()
    states = sorted(e.state for e in db.session.scalars(select(Entry)))
    assert states == ["open"] * 5 and entries == 3
    assert calls > 0
    # The open entries' callers keep their calls, so the entries can still be rebuilt.
    recompute_all(load_policy())
    db.session.commit()
    assert sorted(e.state for e in db.session.scalars(select(Entry))) == ["open"] * 5


def test_retention_keeps_everything_recent(app):
    add_fixture_profile(1)
    load()
    before = db.session.scalar(select(func.count()).select_from(Call))
    assert purge_expired_data(datetime(2026, 11, 23, tzinfo=UTC)) == (0, 0)
    assert db.session.scalar(select(func.count()).select_from(Call)) == before
    assert Settings.load().retention_days == 90


def test_retention_deletes_old_notifications_but_not_those_still_to_go(app):
    from callback_module.models import Notification

    add_fixture_profile(1, retention_days=30)
    made = datetime(2026, 11, 22, tzinfo=UTC)
    for i, state in enumerate(("sent", "skipped", "failed", "pending")):
        db.session.add(Notification(
            call_key=f"c{i}", channel="mail", target="user:1", party_key="+49301110001",
            rang_at=made, state=state, due_at=made, created_at=made))
    db.session.commit()
    purge_expired_data(made + timedelta(days=31))
    db.session.commit()
    assert [n.state for n in db.session.scalars(select(Notification))] == ["pending"]
