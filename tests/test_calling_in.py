""""Calling in now": while a caller with an open entry is on the line, every list shows it.

The worker's AMI listener hears the call start and end (the recorded run A, paused mid-call);
the web side reads the banner from the database, as a web process of its own would.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ami_replay_server import AmiReplayServer, recorded_events
from sqlalchemy import select
from test_ami_worker import worker_app
from test_fixtures_expected import RUNS

from callback_module import calling_in
from callback_module.connectors.ami import connector as ami_connector
from callback_module.extensions import db
from callback_module.models import Entry, Ringing
from callback_module.scheduler import start_live_connector, start_scheduler, stop_live_connector
from callback_module.views import lists as lists_view

from conftest import FIXTURES, add_fixture_profile
from test_views_lists import NOON, login

S10B_STARTS = 1188  # Newchannel of +49301110003 calling sales, with support's entry open
S10B_ENDED = 1243  # S10c's Newchannel: S10b has hung up, its Cdr events are out


def banner_rows(client) -> list[str]:
    """The rows of anna's open list that show the banner."""
    page = client.get("/callback/?tab=open").get_data(as_text=True)
    return [row for row in page.split("<tr ")[1:] if "calling in now" in row]


def wait_for(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.02)
    return check()


def test_a_returning_caller_on_the_line_shows_on_the_open_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    events = recorded_events(FIXTURES / RUNS[0] / "ami_events.raw")
    with AmiReplayServer(events, holds=(S10B_STARTS + 1, S10B_ENDED)) as server:
        app = worker_app(tmp_path, server.port)
        scheduler = start_scheduler(app)
        live = start_live_connector(app)
        client = app.test_client()
        login(client, "anna")
        try:
            assert server.held.wait(10)
            rows = wait_for(lambda: banner_rows(client))
            assert len(rows) == 1
            with app.app_context():
                entry = db.session.scalar(select(Entry).where(
                    Entry.number_e164 == "+49301110003", Entry.state == "open"))
                assert f'id="entry-{entry.id}"' in rows[0] and entry.group.name == "support"
                db.session.rollback()
            server.release()  # S10b rings out and hangs up
            assert server.held.wait(10)
            assert wait_for(lambda: not banner_rows(client))
            with app.app_context():
                assert db.session.scalars(select(Ringing)).all() == []
                db.session.rollback()
        finally:
            server.release()
            scheduler.shutdown(wait=True)
            stop_live_connector(app, live)
            ami_connector._listeners.clear()
            app.extensions["callback"].scheduler = None
            with app.app_context():
                db.engine.dispose()


def test_withheld_and_unknown_callers_leave_no_trace(app):
    add_fixture_profile(1)
    assert calling_in.set_ringing("anonymous", True) == set()
    assert calling_in.set_ringing("", True) == set()
    assert calling_in.set_ringing("not a number", True) == set()
    assert db.session.scalars(select(Ringing)).all() == []


def test_the_banner_goes_with_the_call_and_with_the_listener(tmp_path):
    app = worker_app(tmp_path, 1)  # AMI on a closed port: the listener keeps trying
    with app.app_context():
        at = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
        calling_in.set_ringing("0301110003", True, now=at)
        calling_in.set_ringing("+49301110003", True, now=at)  # the same caller, written apart
        assert calling_in.ringing_numbers() == {"+49301110003"}
        calling_in.set_ringing("0049301110003", False)
        assert calling_in.ringing_numbers() == set()
        calling_in.set_ringing("030 1110004", True, now=at)
        db.session.remove()
    live = start_live_connector(app)  # a worker starting forgets calls it never saw end
    writer = app.extensions["callback"].writer
    assert writer.drain()
    with app.app_context():
        assert calling_in.ringing_numbers() == set()
        db.session.remove()
    writer.submit(calling_in.set_ringing, "0301110005", True)
    assert writer.drain()
    with app.app_context():
        assert calling_in.ringing_numbers() == {"+49301110005"}
        db.session.remove()
    stop_live_connector(app, live)  # and one stopping forgets the calls it will not hear end
    with app.app_context():
        assert calling_in.ringing_numbers() == set()
        db.engine.dispose()
