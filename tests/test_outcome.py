"""The agent's outcome of an attempt: it overrides the PBX's result for the rules (SPEC §3)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from callback_module.extensions import db
from callback_module.models import Entry, TimelineEvent
from callback_module.views import lists as lists_view

from conftest import add_fixture_profile, login_with_csrf, make_app
from test_views_lists import (
    NOON,
    RUN_A,
    csrf_token,
    entry,
    import_run_a,
    login,
    page,
    row,
)

REACHED = "+49301110003"  # S10a, closed by S10c: 201 dialled it and was answered


@pytest.fixture
def run_a(app, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    add_fixture_profile(1)
    import_run_a()


def set_outcome(client, target: Entry, outcome: str, call_key: str | None = None,
                tab: str = "done", **headers):
    data = {"tab": tab, "outcome": outcome,
            "call_key": call_key if call_key is not None else target.attempts[0].call_key}
    return client.post(f"/callback/entries/{target.id}/outcome", data=data,
                       headers={"HX-Request": "true", **headers})


def fresh(entry_id: int) -> Entry:
    db.session.expire_all()
    return db.session.get(Entry, entry_id)


def test_answered_by_voicemail_reopens_the_entry(client, run_a):
    target = entry("support", REACHED)
    assert (target.state, target.closed_reason) == ("done", "reached by 201")
    login(client, "anna")
    response = set_outcome(client, target, "voicemail")
    assert response.status_code == 200
    html = row(response.get_data(as_text=True), target.id)
    assert "answered → voicemail" in html
    assert "Moved to Attempts" in html
    assert '<option value="voicemail" selected>' in html
    after = fresh(target.id)
    assert (after.state, after.closed_reason) == ("attempts", None)
    assert after.attempts[0].outcome == "voicemail"
    [event] = db.session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "outcome"))
    assert (event.username, event.data) == ("Anna Agent", {
        "call_key": target.attempts[0].call_key, "outcome": "voicemail"})


def test_the_outcome_survives_new_call_data(client, run_a):
    target = entry("support", REACHED)
    login(client, "anna")
    set_outcome(client, target, "voicemail")
    import_run_a(RUN_A / "cdr-csv" / "Master.csv", RUN_A / "queue_log")
    assert fresh(target.id).state == "attempts"  # rebuilt from the data: still open
    assert "answered → voicemail" in row(page(client, "attempts"), target.id)


def test_reached_after_all_closes_it_again(client, run_a):
    target = entry("support", REACHED)
    login(client, "anna")
    set_outcome(client, target, "voicemail")
    set_outcome(client, target, "reached", tab="attempts")
    assert fresh(target.id).state == "done"


def test_wrong_number_moves_the_entry_to_not_reached(client, run_a):
    target = entry("support", "+49301110001")  # S01: busy, no answer, answered (all by 202)
    login(client, "ben")
    response = set_outcome(client, target, "wrong_number")
    assert response.status_code == 200
    assert "busy → wrong number" in row(response.get_data(as_text=True), target.id)
    after = fresh(target.id)
    assert after.state == "not_reached"
    assert after.closed_reason.startswith("wrong number")
    assert len(after.attempts) == 1  # later calls came after it was closed


@pytest.mark.parametrize("outcome, call_key, message", [
    ("maybe", None, "unknown outcome"),
    ("voicemail", "1795300000.1", "That call is not an attempt of this entry."),
], ids=["unknown-outcome", "not-an-attempt"])
def test_bad_outcome_is_refused(client, run_a, outcome, call_key, message):
    target = entry("support", REACHED)
    login(client, "anna")
    response = set_outcome(client, target, outcome, call_key)
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert fresh(target.id).state == "done"


def test_non_member_gets_403(client, run_a):
    target = entry("support", REACHED)
    login(client, "clara")
    assert set_outcome(client, target, "voicemail").status_code == 403
    assert fresh(target.id).attempts[0].outcome is None


def test_rows_offer_an_outcome_per_attempt(client, run_a):
    target = entry("support", "+49301110001")
    login(client, "anna")
    html = row(page(client, "done"), target.id)
    assert html.count('name="outcome"') == 3
    assert html.count(f'action="/callback/entries/{target.id}/outcome"') == 3
    assert "wrong number</option>" in html


def test_outcome_needs_the_csrf_token(tmp_path, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    app = make_app(tmp_path, "sqlite://", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
        import_run_a()
        client = app.test_client()
        login_with_csrf(client, "anna")
        target = entry("support", REACHED)
        assert set_outcome(client, target, "voicemail").status_code == 400
        assert fresh(target.id).state == "done"
        header = csrf_token(page(client, "done"))
        assert set_outcome(client, target, "voicemail", **{"X-CSRFToken": header}
                           ).status_code == 200
        assert fresh(target.id).state == "attempts"
        db.session.remove()
        db.drop_all()
