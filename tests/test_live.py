"""Live push: a change reaches the open sockets as that row plus the counters, within a second."""

from __future__ import annotations

import os
import queue
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import simple_websocket
from live_server import serving, session_cookie
from sqlalchemy import select

from callback_module.extensions import db
from callback_module.file_import import import_files
from callback_module.live.broadcaster import QUEUE_SIZE, Broadcaster, RedisBroadcaster
from callback_module.models import Entry

from conftest import FIXTURES, add_fixture_profile, make_app, service_missing

RUN_A = FIXTURES / "runA_unanswered_yes"


@pytest.fixture
def live_app(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'live.db'}")
    with app.app_context():
        db.create_all()
        add_fixture_profile(1, period="LAST_7_DAYS")
        import_files([RUN_A / "cdr-csv" / "Master.csv"], UTC)
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def connect(base: str, cookie: str | None, tab: str = "open") -> simple_websocket.Client:
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    return simple_websocket.Client.connect(
        base.replace("http", "ws") + f"/callback/ws?tab={tab}", headers=headers)


def entry_id(app, number: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Entry.id).where(Entry.number_e164 == number))
        db.session.remove()
        return found


def test_an_action_reaches_another_agents_socket_as_one_row(live_app, monkeypatch):
    # The fixture's calls are dated 2026-11-22; the lists show the last 7 days from "now".
    monkeypatch.setattr("callback_module.views.lists._now",
                        lambda: datetime(2026, 11, 22, 12, tzinfo=UTC))
    monkeypatch.setattr("callback_module.views.live._now",
                        lambda: datetime(2026, 11, 22, 12, tzinfo=UTC))
    with serving(live_app) as base:
        anna = connect(base, session_cookie(live_app, "anna", "anna-pw"))
        time.sleep(0.3)  # the socket has read the rows on its page
        target = entry_id(live_app, "+49301110017")
        ben = live_app.test_client()
        ben.post("/callback/login", data={"username": "ben", "password": "ben-pw"})
        started = time.monotonic()
        ben.post(f"/callback/entries/{target}/done", data={"tab": "open", "page": 1})
        frame = anna.receive(timeout=1.0)
        latency = time.monotonic() - started
        anna.close()
    assert frame, "no push within a second"
    print(f"action → other socket: {latency * 1000:.0f} ms")
    assert f'<tr id="entry-{target}" hx-swap-oob="true"' in frame
    assert "Moved to Done" in frame and 'class="entry state-done is-moved' in frame
    assert re.search(r'<nav id="tabs"[^>]*hx-swap-oob="true"', frame)
    assert 'id="count-open"' in frame and "<table" not in frame and 'id="entries"' not in frame
    assert frame.count('<tr id="entry-') == 1


def test_a_sync_appends_a_new_entry_and_updates_counters(live_app, monkeypatch, tmp_path):
    monkeypatch.setattr("callback_module.views.lists._now",
                        lambda: datetime(2026, 11, 22, 12, tzinfo=UTC))
    monkeypatch.setattr("callback_module.views.live._now",
                        lambda: datetime(2026, 11, 22, 12, tzinfo=UTC))
    new_call = ('"","+49301119999","4930555100","from-pstn","""Neu"" <+49301119999>",'
                '"SIP/carrier-00000099","SIP/201-0000009a","Queue","support,r,,,30",'
                '"2026-11-22 07:00:00","2026-11-22 07:00:00","2026-11-22 07:00:09",9,9,'
                '"NO ANSWER","DOCUMENTATION","1795330800.99","","","1795330800.99",99\n')
    extra = tmp_path / "more.csv"
    extra.write_text(new_call)
    with serving(live_app) as base:
        anna = connect(base, session_cookie(live_app, "anna", "anna-pw"))
        clara = connect(base, session_cookie(live_app, "clara", "clara-pw"))
        time.sleep(0.3)
        with live_app.app_context():
            import_files([extra], UTC)
            db.session.remove()
        frame = anna.receive(timeout=1.0) + anna.receive(timeout=1.0)
        other = clara.receive(timeout=1.0)
        anna.close()
        clara.close()
    new_id = entry_id(live_app, "+49301119999")
    assert f'<tbody hx-swap-oob="beforeend:#entry-rows"><tr id="entry-{new_id}"' in frame
    assert "030 1119999" in frame or "+49 30 1119999" in frame
    assert '<span class="count" id="count-open">3</span>' in frame
    # Clara works sales and hotline: she gets the counters, not the support row.
    assert other is not None and f"entry-{new_id}" not in other and 'id="tabs"' in other


def test_the_socket_needs_a_login(live_app):
    with serving(live_app) as base:
        ws = connect(base, None)
        with pytest.raises(simple_websocket.ConnectionClosed):
            ws.receive(timeout=2)


def test_a_slow_client_never_blocks_publishing():
    broadcaster = Broadcaster()
    stuck = broadcaster.subscribe()
    started = time.monotonic()
    for i in range(QUEUE_SIZE * 3):
        broadcaster.publish({"kind": "entries", "ids": [i]})
    assert time.monotonic() - started < 1
    events = [stuck.get_nowait() for _ in range(stuck.qsize())]
    assert {"kind": "resync"} in events and len(events) <= QUEUE_SIZE
    broadcaster.unsubscribe(stuck)
    assert broadcaster.listeners == 0


def test_a_claim_expiry_is_announced_when_it_expires():
    broadcaster = Broadcaster()
    events = broadcaster.subscribe()
    expires = datetime.now(UTC) + timedelta(seconds=0.3)
    broadcaster.publish({"kind": "claim", "id": 7, "expires_at": expires.isoformat()})
    assert events.get(timeout=1)["kind"] == "claim"
    assert events.get(timeout=1) == {"kind": "entries", "ids": [7]}
    assert datetime.now(UTC) >= expires
    broadcaster.close()


def test_redis_carries_events_between_processes():
    url = os.environ.get("CALLBACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        worker, web = RedisBroadcaster(url, "callback.test"), RedisBroadcaster(url, "callback.test")
    except Exception as exc:
        service_missing("Redis on 127.0.0.1:6379", exc)
    try:
        import redis

        redis.Redis.from_url(url).ping()
    except Exception as exc:
        worker.close()
        web.close()
        service_missing("Redis on 127.0.0.1:6379", exc)
    socket_queue = web.subscribe()
    time.sleep(0.3)  # both listeners subscribed
    worker.publish({"kind": "entries", "ids": [42]})
    try:
        assert socket_queue.get(timeout=2) == {"kind": "entries", "ids": [42]}
    except queue.Empty:
        pytest.fail("the event did not come through Redis")
    finally:
        worker.close()
        web.close()
