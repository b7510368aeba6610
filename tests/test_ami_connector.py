"""The AMI connector against a replay of the recorded AMI streams, over real TCP on 127.0.0.1.

The listener runs in its thread as in the worker; the test drives the sync as the worker's
scheduler would, until the replay is done. Entries must be EXPECTED.md's, for both runs and
both profiles, also when the connection drops in the middle of the stream.
"""

from __future__ import annotations

import socket
import time

import pytest
from ami_replay_server import AmiReplayServer, recorded_events
from sqlalchemy import func, select
from test_fixtures_expected import RUNS, expected, got

from callback_module.connectors.ami import connector as ami_connector
from callback_module.extensions import db
from callback_module.models import CallLeg, ConnectorConfig, SyncRun
from callback_module.sync import build_connector, run_sync

from conftest import FIXTURES, add_fixture_profile


@pytest.fixture(autouse=True)
def _no_listener_left():
    yield
    for listener in list(ami_connector._listeners.values()):
        listener.stop(timeout=2)
    ami_connector._listeners.clear()


def configure(port: int, secret: str = "labsecret", **extra) -> None:
    row = ConnectorConfig.load()
    row.type = "asterisk_ami"
    row.config = {"host": "127.0.0.1", "port": port, "username": "lab", "secret": secret,
                  **extra}
    db.session.commit()


def replay(server: AmiReplayServer, timeout: float = 30.0, **listener_settings) -> dict:
    """Start the listener, sync whenever a call ended, until every recorded call is stored."""
    ended = []
    connector = build_connector()
    listener = connector.start(on_call_ended=lambda: ended.append(time.monotonic()),
                               **listener_settings)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = run_sync("test")
        assert run is not None and run.state == "ok", run and run.error
        if server.done.is_set() and not listener.assembler._calls \
                and not listener.assembler._ended:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the replay did not finish")
    connector.stop()
    run_sync("test")
    return {"listener": listener, "ended": ended}


def leg_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CallLeg))


@pytest.mark.parametrize("profile", [1, 2])
@pytest.mark.parametrize("run", RUNS)
def test_replayed_ami_stream_gives_expected_entries(app, run, profile):
    add_fixture_profile(profile)
    with AmiReplayServer(recorded_events(FIXTURES / run / "ami_events.raw")) as server:
        configure(server.port)
        result = replay(server)
    assert got() == expected(profile)
    # the same legs as the CDR file of the run: one per Cdr event
    cdr_rows = (FIXTURES / run / "cdr-csv" / "Master.csv").read_text().count("\n")
    assert leg_count() == cdr_rows
    assert result["listener"].connections == 1 and result["ended"]
    again = run_sync("test")
    assert again.legs_new == 0 and again.entries_changed == 0


@pytest.mark.parametrize("drop_after", [137, 900])
def test_dropped_link_reconnects_and_loses_or_doubles_nothing(app, drop_after):
    add_fixture_profile(1)
    events = recorded_events(FIXTURES / RUNS[0] / "ami_events.raw")
    with AmiReplayServer(events, drop_after=drop_after) as server:
        configure(server.port)
        result = replay(server, timeout=60, backoff_min=0.05)
    assert result["listener"].connections >= 2
    assert server.connections >= len(events) // drop_after
    assert got() == expected(1)
    assert leg_count() == (FIXTURES / RUNS[0] / "cdr-csv" / "Master.csv").read_text().count("\n")
    # each drop is remembered as a gap in PBX time, for the CDR backfill
    gaps = result["listener"].gaps
    assert len(gaps) == result["listener"].connections - 1
    assert all(since <= until for since, until, _noticed in gaps)


def test_a_failed_sync_gets_the_same_calls_again(app):
    add_fixture_profile(1)
    with AmiReplayServer(recorded_events(FIXTURES / RUNS[0] / "ami_events.raw")) as server:
        configure(server.port)
        connector = build_connector()
        listener = connector.start()
        assert server.done.wait(10)
        deadline = time.monotonic() + 5
        while (listener.assembler._calls or listener.assembler._ended) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        first = connector.fetch(None)
        assert len({leg.call_key for leg in first.legs}) == 20
        retry = build_connector().fetch(None)  # the cursor was not saved: all of it again
        assert [leg.key for leg in retry.legs] == [leg.key for leg in first.legs]
        after = build_connector().fetch(first.cursor)  # saved: nothing new
        assert after.legs == [] and after.queue_events == []
        assert after.cursor["session"] == listener.session


def test_without_a_running_listener_a_sync_reads_nothing(app):
    add_fixture_profile(1)
    configure(1)
    run = run_sync("test")
    assert run.state == "ok" and run.legs_new == 0
    assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 1


def test_a_refused_channel_listing_is_said_once_and_the_listener_carries_on(app, caplog):
    """An AMI user without write = reporting: Asterisk answers CoreShowChannels (sent at each
    connect, to notice calls that ended during an outage) with "Permission denied"."""
    add_fixture_profile(1)
    events = recorded_events(FIXTURES / RUNS[0] / "ami_events.raw")
    with AmiReplayServer(events, drop_after=900,
                         refuse_actions={"coreshowchannels": "Permission denied"}) as server:
        configure(server.port)
        result = replay(server, timeout=60, backoff_min=0.05)
    assert result["listener"].connections >= 2
    assert got() == expected(1)
    warnings = [r.getMessage() for r in caplog.records
                if r.levelname == "WARNING" and "CoreShowChannels" in r.getMessage()]
    assert len(warnings) == 1
    assert "Permission denied" in warnings[0] and "write = reporting (or system)" in warnings[0]


def test_a_listener_asked_to_stop_is_never_reused(app):
    """The worker follows a settings change: the old listener, stuck waiting for a PBX that
    does not greet, outlives stop()'s timeout; the new start must not hand it back."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never sends a banner
        configure(silent.getsockname()[1])
        old = build_connector().start()
        old.stop(timeout=0.1)
        assert old.running and old.stopping  # still connecting
        new = build_connector().start()
        assert new is not old and new.running and not new.stopping
        assert ami_connector._listeners[("127.0.0.1", silent.getsockname()[1], "lab")] is new
