"""Claims: "Anna is calling back now" for everyone, one holder, expiry, released by any action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from callback_module import claims
from callback_module.extensions import db
from callback_module.models import Claim, Entry, TimelineEvent, User
from callback_module.rules.entries import ACTION_KINDS
from callback_module.signals import claim_changed, entries_changed
from callback_module.views import lists as lists_view

from conftest import add_fixture_profile, login_with_csrf, make_app
from test_views_lists import NOON, csrf_token, entry, import_run_a, login, page, row

OPEN_NUMBER = "+49301110017"  # S07b: open in support, members anna (201) and ben (202)


@pytest.fixture
def clock(monkeypatch):
    """The claims' clock, fixed at NOON; ``clock.move(seconds)`` moves it on."""
    class Clock:
        now = NOON

        def move(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)

    fixed = Clock()
    monkeypatch.setattr(claims, "_now", lambda: fixed.now)
    return fixed


@pytest.fixture
def run_a(app, clock, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    add_fixture_profile(1)
    import_run_a()


def user(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def post(client, entry_id: int, what: str, **headers):
    return client.post(f"/callback/entries/{entry_id}/{what}", data={"tab": "open"},
                       headers={"HX-Request": "true", **headers})


def events(kind: str) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(TimelineEvent.kind == kind)))


def test_claim_is_seen_by_everyone_with_the_time_left(app, client, run_a):
    target = entry("support", OPEN_NUMBER)
    login(client, "anna")
    response = post(client, target.id, "claim")
    assert response.status_code == 200
    mine = row(response.get_data(as_text=True), target.id)
    assert "You are calling back now" in mine and "2:00 left" in mine
    assert f"/entries/{target.id}/release" in mine
    assert f"/entries/{target.id}/claim" not in mine
    client.post("/callback/logout")
    login(client, "ben")
    seen = row(page(client, "open"), target.id)
    assert "Anna Agent is calling back now" in seen and "2:00 left" in seen
    assert f"/entries/{target.id}/claim" not in seen
    assert f"/entries/{target.id}/release" not in seen  # only the holder (or an admin) may
    assert f"/entries/{target.id}/call" not in seen  # no second caller
    assert "Done" in seen  # closing it is still anyone's right


def test_someone_elses_live_claim_refuses_a_second(client, run_a):
    target = entry("support", OPEN_NUMBER)
    claims.claim(target, user("anna"))
    login(client, "ben")
    response = post(client, target.id, "claim")
    assert response.status_code == 409
    assert "Anna Agent is calling back already." in response.get_data(as_text=True)
    assert db.session.get(Claim, target.id).username == "Anna Agent"


def test_same_user_extends_and_an_expired_claim_is_none(app, run_a, clock):
    target = entry("support", OPEN_NUMBER)
    first = claims.claim(target, user("anna"))
    assert first.expires_at == NOON + timedelta(seconds=120)
    clock.move(60)
    again = claims.claim(target, user("anna"))
    assert again.claimed_at == NOON and again.expires_at == NOON + timedelta(seconds=180)
    clock.move(121)
    assert claims.active_claim(target) is None
    assert claims.live_claims() == {}
    taken = claims.claim(target, user("ben"))  # expired: anyone may claim now
    assert taken.username == "Ben Agent" and taken.claimed_at == clock.now


def test_expired_claim_leaves_the_row(client, run_a, clock):
    target = entry("support", OPEN_NUMBER)
    claims.claim(target, user("anna"))
    login(client, "ben")
    assert "calling back now" in row(page(client, "open"), target.id)
    clock.move(120)
    shown = row(page(client, "open"), target.id)
    assert "calling back now" not in shown and "Claim" in shown


def test_closed_entry_cannot_be_claimed(client, run_a):
    done = entry("support", "+49301110001")
    login(client, "anna")
    response = post(client, done.id, "claim")
    assert response.status_code == 409
    assert "This entry is closed" in response.get_data(as_text=True)
    assert db.session.get(Claim, done.id) is None


def test_any_action_releases_the_claim(client, run_a):
    target = entry("support", OPEN_NUMBER)
    claims.claim(target, user("anna"))
    released = []
    login(client, "ben")
    with claim_changed.connected_to(lambda app, **kw: released.append(kw)):
        assert post(client, target.id, "done").status_code == 200
    assert released == [{"entry_id": target.id, "expires_at": None}]
    assert db.session.get(Claim, target.id) is None
    [release] = events("release")
    assert (release.username, release.data) == ("Ben Agent", {"reason": "done",
                                                              "holder": "Anna Agent"})


def test_holder_releases_others_may_not_admin_may(client, run_a):
    target = entry("support", OPEN_NUMBER)
    claims.claim(target, user("anna"))
    login(client, "ben")
    assert post(client, target.id, "release").status_code == 409
    assert claims.active_claim(target) is not None
    client.post("/callback/logout")
    login(client, "admin")
    assert post(client, target.id, "release").status_code == 200
    assert claims.active_claim(target) is None
    assert [e.data["reason"] for e in events("release")] == ["released"]


def test_claim_signals_and_timeline(app, run_a):
    target = entry("support", OPEN_NUMBER)
    state, revision = target.state, target.revision
    sent: list[tuple[str, dict]] = []
    with claim_changed.connected_to(lambda a, **kw: sent.append(("claim", kw)), sender=app), \
            entries_changed.connected_to(lambda a, **kw: sent.append(("entries", kw)),
                                         sender=app):
        claims.claim(target, user("anna"))
        claims.release(target, user("anna"))
    expires = NOON + timedelta(seconds=120)
    assert sent == [("claim", {"entry_id": target.id, "expires_at": expires}),
                    ("entries", {"entry_ids": {target.id}, "source": "claim"}),
                    ("claim", {"entry_id": target.id, "expires_at": None}),
                    ("entries", {"entry_ids": {target.id}, "source": "claim"})]
    [claim] = events("claim")
    assert claim.username == "Anna Agent" and claim.anchor_key == target.anchor_key
    assert claim.data["expires_at"] == expires.isoformat()
    # Claims are no inputs to the rules: the entry is as it was.
    assert "claim" not in ACTION_KINDS and "release" not in ACTION_KINDS
    db.session.expire_all()
    fresh = db.session.get(Entry, target.id)
    assert (fresh.state, fresh.revision) == (state, revision)


def test_non_member_gets_403(client, run_a):
    sales = entry("sales", "+49301110007")
    login(client, "anna")
    assert post(client, sales.id, "claim").status_code == 403
    assert db.session.get(Claim, sales.id) is None


def test_claim_seconds_and_csrf(tmp_path, monkeypatch, clock):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    app = make_app(tmp_path, "sqlite://", WTF_CSRF_ENABLED=True, CALLBACK_CLAIM_SECONDS=5)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
        import_run_a()
        client = app.test_client()
        login_with_csrf(client, "anna")
        target = entry("support", OPEN_NUMBER)
        url = f"/callback/entries/{target.id}/claim"
        assert client.post(url, data={"tab": "open"}).status_code == 400
        assert db.session.get(Claim, target.id) is None
        html = page(client, "open")
        response = client.post(url, data={"tab": "open", "csrf_token": csrf_token(html)})
        assert response.status_code == 302
        claim = db.session.get(Claim, target.id)
        assert claim.expires_at == NOON + timedelta(seconds=5)
        assert "0:05 left" in row(page(client, "open"), target.id)
        clock.move(5)
        assert "calling back now" not in row(page(client, "open"), target.id)
        db.session.remove()
        db.drop_all()
