"""An entry's timeline (SPEC §7): what happened, in time order, in the side panel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callback_module import claims
from callback_module.extensions import db
from callback_module.models import Attempt, Entry, EntryCall, Group, TimelineEvent
from callback_module.timeline import build_timeline, load_timeline
from callback_module.views import lists as lists_view

from conftest import add_fixture_profile, login_with_csrf, make_app
from test_views_lists import NOON, csrf_token, entry, import_run_a, login, page

S01 = "+49301110001"  # missed, then busy, no answer and answered (all by 202): done
OPEN = "+49301110017"  # S07b, open


@pytest.fixture
def run_a(app, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    add_fixture_profile(1)
    import_run_a()


def kinds(target: Entry) -> list[str]:
    return [item.kind for item in load_timeline(target)]


def test_s01_missed_call_three_attempts_and_the_closing(run_a):
    target = entry("support", S01)
    items = load_timeline(target)
    assert [i.kind for i in items] == ["missed_call", "attempt", "attempt", "attempt", "closed"]
    missed = items[0]
    assert (missed.group, missed.rang, missed.ended, missed.ring_s) == (
        "support", ("201", "202"), "abandoned", 8)
    assert [(a.by, a.result) for a in items[1:4]] == [
        ("202", "busy"), ("202", "no_answer"), ("202", "answered")]
    assert [i.at for i in items] == sorted(i.at for i in items)
    closed = items[-1]
    assert (closed.state, closed.reason) == ("done", "reached by 202")
    assert closed.call_key == items[3].call_key and closed.at == items[3].at
    assert items[-1].as_json()["at"] == closed.at.isoformat()


def test_claim_and_manual_actions_are_on_it(client, run_a):
    target = entry("support", OPEN)
    login(client, "anna")
    client.post(f"/callback/entries/{target.id}/claim", data={"tab": "open"})
    client.post(f"/callback/entries/{target.id}/done", data={"tab": "open"})
    client.post(f"/callback/entries/{target.id}/reopen", data={"tab": "done"})
    db.session.expire_all()
    items = load_timeline(db.session.get(Entry, target.id))
    # The release is written with the action that ended the claim, and after it.
    assert [i.kind for i in items] == ["missed_call", "claim", "done", "release", "reopen"]
    claim, release = items[1], items[3]
    # Actions are timed by the real clock, so the claims' is left alone here.
    assert (claim.by, claim.until - claim.at) == ("Anna Agent", timedelta(seconds=120))
    assert (release.by, release.reason) == ("Anna Agent", "done")
    assert all(i.by == "Anna Agent" for i in items[1:])


def test_an_answered_inbound_call_that_closed_it_is_named():
    group = Group(name="support", type="queue", pbx_id="support")
    t0 = NOON - timedelta(hours=1)
    target = Entry(group=group, party_key="+49301110001", anchor_key="a", state="done",
                   closed_at=t0 + timedelta(minutes=5), closed_reason="answered by 201 in support",
                   calls=[EntryCall(call_key="a", at=t0, ring_s=8, ended="abandoned", rang=[])],
                   attempts=[Attempt(call_key="b", at=t0 + timedelta(minutes=2), by="202",
                                     result="busy", outcome=None, ring_s=1, talk_s=0)])
    outcome = TimelineEvent(at=t0 + timedelta(minutes=3), kind="outcome", username="Ben",
                            data={"call_key": "b", "outcome": "wrong_number"})
    items = build_timeline(target, [outcome], closing_call="c")
    assert [(i.kind, i.call_key) for i in items] == [
        ("missed_call", "a"), ("attempt", "b"), ("outcome", "b"), ("closed", "c")]
    assert items[2].outcome == "wrong_number"


def test_a_closing_by_hand_is_not_shown_twice():
    group = Group(name="support", type="queue", pbx_id="support")
    done_at = NOON - timedelta(minutes=30)
    target = Entry(group=group, party_key="p", anchor_key="a", state="done", closed_at=done_at,
                   closed_reason="marked done by Anna",
                   calls=[EntryCall(call_key="a", at=NOON - timedelta(hours=1), ring_s=3,
                                    ended="timeout", rang=["201"])], attempts=[])
    done = TimelineEvent(at=done_at, kind="done", username="Anna", data={})
    assert [i.kind for i in build_timeline(target, [done])] == ["missed_call", "done"]


def test_side_panel_fragment_and_full_page(client, run_a):
    target = entry("support", S01)
    login(client, "anna")
    url = f"/callback/entries/{target.id}/timeline"
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert html.startswith(f'<section id="timeline-{target.id}"') and "<html" not in html
    assert "Missed call in support: caller hung up after 8 s of ringing" in html
    assert "Rang at: Anna Agent (201), Ben Agent (202)" in html
    assert html.count("Callback by Ben Agent (202)") == 3
    assert "Closed automatically (Done): reached by 202" in html
    assert "by the callback at 06:13" in html
    assert 'type="button"' in html and "Close" in html  # closes without Escape
    full = client.get(url).get_data(as_text=True)
    assert "<html" in full and "Back to the lists" in full and "Close</button>" not in full
    lists_page = page(client, "done")
    assert '<aside id="side-panel"' in lists_page
    assert f'hx-get="{url}"' in lists_page and 'hx-target="#side-panel"' in lists_page


def test_timeline_is_for_members_and_admins(client, run_a):
    target = entry("support", S01)
    url = f"/callback/entries/{target.id}/timeline"
    assert "/callback/login" in client.get(url).headers["Location"]
    login(client, "clara")
    assert client.get(url).status_code == 403
    client.post("/callback/logout")
    login(client, "admin")
    assert client.get(url).status_code == 200
    assert client.get("/callback/entries/9999/timeline").status_code == 404


def test_timeline_shows_a_claim_made_with_csrf(tmp_path, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    monkeypatch.setattr(claims, "_now", lambda: NOON)
    app = make_app(tmp_path, "sqlite://", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
        import_run_a()
        client = app.test_client()
        login_with_csrf(client, "ben")
        target = entry("support", OPEN)
        response = client.post(f"/callback/entries/{target.id}/claim",
                               data={"tab": "open", "csrf_token": csrf_token(page(client))})
        assert response.status_code == 302
        html = client.get(f"/callback/entries/{target.id}/timeline",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "Ben Agent claimed it: calling back until 12:02" in html
        assert kinds(target) == ["missed_call", "claim"]
        db.session.remove()
        db.drop_all()
