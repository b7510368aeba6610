"""Click-to-dial: the page asks the PBX to call and claims the entry; the attempt itself comes
back through the sync, from the demo PBX's call records, like any other call."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callback_module import claims, dial
from callback_module.connectors import demo
from callback_module.connectors.demo_originate import OriginateRequest, build_call, outcome_of
from callback_module.extensions import db
from callback_module.models import Claim, ConnectorConfig, Entry, TimelineEvent
from callback_module.sync import run_sync
from callback_module.views import lists as lists_view

from conftest import add_fixture_profile, login_with_csrf, make_app
from test_views_lists import NOON, csrf_token, entry, import_run_a, login, page, row

OPEN_NUMBER = "+49301110017"  # S07b: open in support (201 anna, 202 ben)
RESULT_OF = {"reached": "answered", "no_answer": "no_answer", "busy": "busy",
             "failed": "congestion"}


class Clock:
    def __init__(self) -> None:
        self.now = NOON

    def move(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """One fixed clock for the demo PBX, the claims and the lists."""
    fixed = Clock()
    for module in (demo, claims, lists_view):
        monkeypatch.setattr(module, "_now", lambda: fixed.now)
    return fixed


def setup_demo_pbx() -> None:
    add_fixture_profile(1)
    import_run_a()
    config = ConnectorConfig.load()
    # Hardly any traffic of its own, and no history: the test's call is what it writes.
    config.type, config.config = "demo", {"seed": 7, "rate_per_hour": 0.001,
                                          "backfill_minutes": 0}
    db.session.commit()


@pytest.fixture
def pbx(app, clock):
    setup_demo_pbx()
    run_sync("test")  # the demo PBX's cursor starts at the fixed clock


def call(client, entry_id: int, **headers):
    return client.post(f"/callback/entries/{entry_id}/call", data={"tab": "open"},
                       headers={"HX-Request": "true", **headers})


def requests(app) -> list[dict]:
    path = Path(app.instance_path) / "demo" / "originate.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def attempt_id_that(outcome: str) -> str:
    return next(f"cb-1795348800.{n:08d}" for n in range(1000)
                if outcome_of(f"cb-1795348800.{n:08d}") == outcome)


def test_call_asks_the_pbx_and_claims_but_writes_no_attempt(app, client, pbx):
    target = entry("support", OPEN_NUMBER)
    login(client, "anna")
    response = call(client, target.id)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The demo PBX rings 201, then dials 0301110017." in html
    assert "You are calling back now" in row(html, target.id)
    [request] = requests(app)
    assert (request["extension"], request["number"]) == ("201", "0301110017")
    assert len(request["attempt_id"]) <= 32
    assert re.fullmatch(r"cb-\d{10}\.\d{8}", request["attempt_id"])
    claim_event = db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.kind == "claim")).one()
    assert claim_event.data["call"] == request["attempt_id"]
    db.session.expire_all()
    assert db.session.get(Entry, target.id).attempts == []  # the page writes no attempt
    run_sync("test")  # the call has not ended yet: still nothing
    db.session.expire_all()
    assert db.session.get(Entry, target.id).attempts == []


def test_the_attempt_arrives_through_the_sync(app, client, pbx, clock):
    target = entry("support", OPEN_NUMBER)
    login(client, "anna")
    call(client, target.id)
    [request] = requests(app)
    clock.move(10)
    run = run_sync("test")
    assert run.state == "ok" and run.legs_new >= 1
    db.session.expire_all()
    [attempt] = db.session.get(Entry, target.id).attempts
    assert attempt.call_key == request["attempt_id"]
    assert attempt.by == "201" and attempt.at == NOON
    assert attempt.result == RESULT_OF[outcome_of(request["attempt_id"])]
    assert run_sync("test").legs_new == 0  # written once


@pytest.mark.parametrize("outcome, state, reason", [
    ("reached", "done", "reached by 201"),
    ("busy", "attempts", None),
    ("failed", "attempts", None),
], ids=["reached-closes", "busy-counts", "congestion-counts"])
def test_drawn_outcome_decides_through_the_rules(client, pbx, clock, monkeypatch, outcome,
                                                 state, reason):
    attempt_id = attempt_id_that(outcome)
    monkeypatch.setattr(dial, "new_attempt_id", lambda: attempt_id)
    target = entry("support", OPEN_NUMBER)
    login(client, "anna")
    call(client, target.id)
    clock.move(10)
    run_sync("test")
    db.session.expire_all()
    fresh = db.session.get(Entry, target.id)
    assert (fresh.state, fresh.closed_reason) == (state, reason)
    assert [a.call_key for a in fresh.attempts] == [attempt_id]


@pytest.mark.parametrize("who, number, message", [
    ("anna", None, "This caller&#39;s number is withheld or not dialable."),
    ("anna", "+49301110001", "This entry is closed; reopen it to call back."),
    ("admin", OPEN_NUMBER, "Set your extension first"),
], ids=["anonymous", "closed", "no-extension"])
def test_refused_calls_place_nothing(app, client, pbx, who, number, message):
    target = entry("support", number)
    login(client, who)
    response = call(client, target.id)
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert requests(app) == [] and db.session.get(Claim, target.id) is None


def test_rows_offer_call_only_where_it_can_work(client, pbx):
    login(client, "anna")
    html = page(client, "open")
    target, anonymous = entry("support", OPEN_NUMBER), entry("support", None)
    assert f"/entries/{target.id}/call" in row(html, target.id)
    assert f"/entries/{anonymous.id}/call" not in row(html, anonymous.id)
    done = entry("support", "+49301110001")
    assert f"/entries/{done.id}/call" not in row(page(client, "done"), done.id)


def test_connector_that_cannot_dial_offers_no_call(app, client, pbx):
    ConnectorConfig.load().type = "asterisk_files"
    db.session.commit()
    target = entry("support", OPEN_NUMBER)
    login(client, "anna")
    assert f"/entries/{target.id}/call" not in row(page(client, "open"), target.id)
    response = call(client, target.id)
    assert response.status_code == 409
    assert "cannot place calls" in response.get_data(as_text=True)
    assert db.session.get(Claim, target.id) is None


def test_someone_else_calling_refuses_and_non_member_is_403(app, client, pbx):
    target = entry("support", OPEN_NUMBER)
    login(client, "anna")
    call(client, target.id)
    client.post("/callback/logout")
    login(client, "ben")
    response = call(client, target.id)
    assert response.status_code == 409
    assert "Anna Agent is calling back already." in response.get_data(as_text=True)
    client.post("/callback/logout")
    login(client, "clara")
    assert call(client, target.id).status_code == 403
    assert len(requests(app)) == 1


def test_call_needs_the_csrf_token(tmp_path, clock):
    app = make_app(tmp_path, "sqlite://", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        setup_demo_pbx()
        client = app.test_client()
        login_with_csrf(client, "anna")
        target = entry("support", OPEN_NUMBER)
        assert call(client, target.id).status_code == 400
        assert requests(app) == []
        header = csrf_token(page(client, "open"))
        assert call(client, target.id, **{"X-CSRFToken": header}).status_code == 200
        assert len(requests(app)) == 1
        db.session.remove()
        db.drop_all()


def test_demo_pbx_writes_each_call_once_when_it_ends(tmp_path):
    pbx = demo.DemoConnector({"rate_per_hour": 0.001, "backfill_minutes": 0},
                             instance_path=str(tmp_path), timezone=ZoneInfo("UTC"))
    long_id, short_id = attempt_id_that("reached"), attempt_id_that("busy")
    tz = ZoneInfo("UTC")
    long_end = build_call(OriginateRequest(long_id, "201", "0301110017", NOON), tz).ends_at
    short_end = build_call(OriginateRequest(short_id, "202", "0301110001", NOON), tz).ends_at
    assert short_end < long_end
    cursor = pbx.fetch(None, now=NOON).cursor
    for attempt_id, ext, number in ((long_id, "201", "0301110017"),
                                    (short_id, "202", "0301110001")):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(demo, "_now", lambda: NOON)
            assert pbx.originate(ext, number, attempt_id).ok
    batch = pbx.fetch(cursor, now=short_end + timedelta(seconds=1))
    assert {leg.call_key for leg in batch.legs} == {short_id}
    assert {(leg.src, leg.dst, leg.uniqueid) for leg in batch.legs} == {
        ("202", "0301110001", short_id)}
    assert batch.cursor["originate"] == {"offset": 0, "written": [short_id]}
    batch = pbx.fetch(batch.cursor, now=long_end + timedelta(seconds=1))
    assert {leg.call_key for leg in batch.legs} == {long_id}
    assert batch.cursor["originate"]["written"] == []
    assert pbx.fetch(batch.cursor, now=long_end + timedelta(minutes=5)).legs == []
