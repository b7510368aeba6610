"""The worker runs the AMI listener: a call that ends is on the lists within a second."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ami_replay_server import AmiReplayServer, recorded_events
from sqlalchemy import select
from test_fixtures_expected import RUNS, expected, got

from callback_module.connectors.ami import connector as ami_connector
from callback_module.extensions import db
from callback_module.models import ConnectorConfig, Entry
from callback_module.scheduler import start_live_connector, start_scheduler, stop_live_connector

from conftest import FIXTURES, add_fixture_profile, make_app


def worker_app(tmp_path, port: int):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", TESTING=False)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
        row = ConnectorConfig.load()
        row.type = "asterisk_ami"
        row.config = {"host": "127.0.0.1", "port": port, "username": "lab",
                      "secret": "labsecret"}
        db.session.commit()
    return app


def test_worker_command_starts_and_stops_the_listener(tmp_path):
    with AmiReplayServer(recorded_events(FIXTURES / RUNS[0] / "ami_events.raw")) as server:
        app = worker_app(tmp_path, server.port)
        result = app.test_cli_runner().invoke(args=["callback", "worker", "--max-seconds", "4"])
    assert result.exit_code == 0, result.output
    assert "worker stopped" in result.output
    with app.app_context():
        assert got() == expected(1)
        db.engine.dispose()
    assert not any(listener.running for listener in ami_connector._listeners.values())
    ami_connector._listeners.clear()


def test_a_missed_call_is_listed_within_a_second_of_the_hangup(tmp_path):
    """S01 alone: the server sends the caller's Hangup, then the Cdr events; the entry must
    be in the database well within a second (grace period 0.3 s + one sync)."""
    events = recorded_events(FIXTURES / RUNS[0] / "ami_events.raw")
    last_cdr = max(i for i, e in enumerate(events)
                   if e.startswith("Event: Cdr") and "UniqueID: 1795327866.0\n" in e)
    hangup = max(i for i, e in enumerate(events[:last_cdr])
                 if e.startswith("Event: Hangup") and "Uniqueid: 1795327866.0\n" in e)
    with AmiReplayServer(events[:last_cdr + 1]) as server:
        app = worker_app(tmp_path, server.port)
        scheduler = start_scheduler(app)
        live = start_live_connector(app)
        try:
            assert server.done.wait(10)
            deadline = time.monotonic() + 5
            with app.app_context():
                while time.monotonic() < deadline:
                    entry = db.session.scalar(select(Entry))
                    db.session.rollback()
                    if entry is not None:
                        break
                    time.sleep(0.01)
                listed_at = time.monotonic()
                assert entry is not None and entry.number_e164 == "+49301110001"
        finally:
            scheduler.shutdown(wait=True)
            stop_live_connector(app, live)
            ami_connector._listeners.clear()
            app.extensions["callback"].scheduler = None
            with app.app_context():
                db.engine.dispose()
    latency = listed_at - server.sent_at[hangup]
    print(f"hang-up to listed: {latency * 1000:.0f} ms")
    assert latency < 1.0


def test_a_hangup_is_on_an_open_list_within_a_second(tmp_path, monkeypatch):
    """The whole path an agent sees: AMI event → listener → sync → live push → websocket.
    S01's caller hangs up; anna's open list gets the new row."""
    import simple_websocket
    from live_server import serving, session_cookie

    noon = datetime(2026, 11, 22, 12, tzinfo=UTC)  # the recorded calls are of that morning
    monkeypatch.setattr("callback_module.views.lists._now", lambda: noon)
    monkeypatch.setattr("callback_module.views.live._now", lambda: noon)
    events = recorded_events(FIXTURES / RUNS[0] / "ami_events.raw")
    last_cdr = max(i for i, e in enumerate(events)
                   if e.startswith("Event: Cdr") and "UniqueID: 1795327866.0\n" in e)
    hangup = max(i for i, e in enumerate(events[:last_cdr])
                 if e.startswith("Event: Hangup") and "Uniqueid: 1795327866.0\n" in e)
    with AmiReplayServer(events[:last_cdr + 1]) as server:
        app = worker_app(tmp_path, server.port)
        with serving(app) as base:
            socket = simple_websocket.Client.connect(
                base.replace("http", "ws") + "/callback/ws?tab=open",
                headers={"Cookie": f"session={session_cookie(app, 'anna', 'anna-pw')}"})
            time.sleep(0.3)  # the socket has read its (empty) page
            scheduler = start_scheduler(app)
            live = start_live_connector(app)
            try:
                frame, deadline = "", time.monotonic() + 10
                while 'id="entry-' not in frame and time.monotonic() < deadline:
                    frame = socket.receive(timeout=10) or ""  # the counters come apart
                shown_at = time.monotonic()
            finally:
                socket.close()
                scheduler.shutdown(wait=True)
                stop_live_connector(app, live)
                ami_connector._listeners.clear()
                app.extensions["callback"].scheduler = None
                with app.app_context():
                    db.engine.dispose()
    assert frame and 'id="entry-' in frame and "030 1110001" in frame
    latency = shown_at - server.sent_at[hangup]
    print(f"hang-up to an open list: {latency * 1000:.0f} ms")
    assert latency < 1.0


def test_the_worker_follows_a_change_of_the_connector_settings(tmp_path, monkeypatch):
    """The admin points Callback at another PBX: the worker listens there within seconds."""
    import threading

    from callback_module import cli as cli_module

    monkeypatch.setattr(cli_module, "FOLLOW_SECONDS", 0.5)
    events = recorded_events(FIXTURES / RUNS[0] / "ami_events.raw")
    with AmiReplayServer(events[:50]) as old, AmiReplayServer(events) as new:
        app = worker_app(tmp_path, old.port)
        results = []
        worker = threading.Thread(target=lambda: results.append(app.test_cli_runner().invoke(
            args=["callback", "worker", "--max-seconds", "8"])))
        worker.start()
        assert old.done.wait(5)
        with app.app_context():
            row = ConnectorConfig.load()
            row.config = {**row.config, "port": new.port}
            db.session.commit()
            db.session.remove()
        assert new.done.wait(5), "the worker did not move to the new PBX"
        worker.join(15)
    assert results and results[0].exit_code == 0, results and results[0].output
    with app.app_context():
        assert got() == expected(1)
        db.engine.dispose()
    ami_connector._listeners.clear()
