"""What became of a click-to-dial: the PBX's OriginateResponse, heard by the worker's listener,
reaches the agent who clicked (their open lists), the entry's timeline and the claim."""

from __future__ import annotations

import time
from datetime import UTC

import pytest
from ami_replay_server import AmiReplayServer
from sqlalchemy import select
from test_ami_worker import worker_app

from callback_module.connectors.ami import connector as ami_connector
from callback_module.extensions import db
from callback_module.file_import import import_files
from callback_module.models import Claim, Entry, User
from callback_module.scheduler import start_live_connector, stop_live_connector
from callback_module.timeline import load_timeline
from callback_module.views.live import LiveView

from conftest import FIXTURES
from test_views_lists import login


def response_event(attempt_id: str, response: str, reason: str) -> str:
    return ("Event: OriginateResponse\nPrivilege: call,all\nTimestamp: 1795328200.000001\n"
            f"ActionID: {attempt_id}\nResponse: {response}\nChannel: Local/201@from-internal\n"
            f"Context: from-internal\nExten: 0301110017\nReason: {reason}\n"
            f"Uniqueid: {attempt_id}\nCallerIDNum: 201\nCallerIDName: <unknown>")


@pytest.fixture
def dialled(tmp_path):
    """Anna (201) clicked Call on +49301110017's open entry; the PBX took the Originate."""
    with AmiReplayServer([]) as server:
        app = worker_app(tmp_path, server.port)
        with app.app_context():
            import_files([FIXTURES / "runA_unanswered_yes" / "cdr-csv" / "Master.csv"], UTC)
            entry_id = db.session.scalar(select(Entry.id).where(
                Entry.number_e164 == "+49301110017"))
            anna_id = db.session.scalar(select(User.id).where(User.username == "anna"))
            db.session.remove()
        live = start_live_connector(app)
        events = app.extensions["callback"].live.broadcaster.subscribe()
        client = app.test_client()
        login(client, "anna")
        answer = client.post(f"/callback/entries/{entry_id}/call", data={"tab": "open"},
                             headers={"HX-Request": "true"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        originate = next(a for a in server.actions if a["Action"] == "Originate")
        try:
            yield app, server, originate["ActionID"], entry_id, anna_id, events
        finally:
            stop_live_connector(app, live)
            ami_connector._listeners.clear()
            with app.app_context():
                db.engine.dispose()


def notices_for(app, events, user_id: int) -> list[str]:
    """What anna's open list is sent for the events published meanwhile."""
    got = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not any(e.get("kind") == "notice" for e in got):
        while not events.empty():
            got.append(events.get_nowait())
        time.sleep(0.02)
    with app.test_request_context():
        frames = LiveView(user_id, "open", 1).render(got)
        db.session.remove()
    return [f for f in frames if 'id="flash"' in f]


def test_a_busy_phone_is_told_to_the_agent_and_frees_the_entry(dialled):
    app, server, attempt_id, entry_id, anna_id, events = dialled
    server.push(response_event(attempt_id, "Failure", "5"))
    assert app.extensions["callback"].writer is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        app.extensions["callback"].writer.drain()
        with app.app_context():
            claim = db.session.get(Claim, entry_id)
            db.session.remove()
        if claim is None:
            break
        time.sleep(0.05)
    assert claim is None  # a colleague may call now
    flash, = notices_for(app, events, anna_id)
    assert "The call to 030 1110017 did not go through: your phone is busy." in flash
    assert 'class="flash flash-error"' in flash
    with app.app_context():
        items = load_timeline(db.session.get(Entry, entry_id))
        kinds = [(i.kind, i.result, i.reason) for i in items if i.kind in ("originate", "release")]
        db.session.remove()
    assert kinds == [("originate", "failed", "busy"), ("release", "", "call failed")]


def test_an_answered_phone_keeps_the_claim(dialled):
    app, server, attempt_id, entry_id, anna_id, events = dialled
    server.push(response_event(attempt_id, "Success", "4"))
    flash, = notices_for(app, events, anna_id)
    assert "Your phone answered: the PBX is calling 030 1110017 now." in flash
    with app.app_context():
        assert db.session.get(Claim, entry_id).username == "Anna Agent"
        items = load_timeline(db.session.get(Entry, entry_id))
        assert [(i.kind, i.result) for i in items if i.kind == "originate"] == [
            ("originate", "answered")]
        db.session.remove()
    # and only anna hears of it
    with app.test_request_context():
        ben = db.session.scalar(select(User.id).where(User.username == "ben"))
        assert LiveView(ben, "open", 1).render([{"kind": "notice", "user_id": anna_id,
                                                 "category": "success", "message": "x"}]) == []
        db.session.remove()
