"""Per-user view settings: kept on the server, validated, and applied to the lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callback_module.extensions import db
from callback_module.file_import import import_files
from callback_module.models import Entry, Group, User
from callback_module.views import lists as lists_view

from conftest import FIXTURES, add_fixture_profile, make_app

RUN_A = FIXTURES / "runA_unanswered_yes"
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
VIEW = "/callback/view"


@pytest.fixture
def run_a(app, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    add_fixture_profile(1)
    report = import_files([RUN_A / "cdr-csv" / "Master.csv"], ZoneInfo("UTC"))
    assert not report.failed, report.messages


def login(client, username: str) -> None:
    response = client.post("/callback/login",
                           data={"username": username, "password": f"{username}-pw"})
    assert response.status_code == 302


def page(client, tab: str = "open") -> str:
    response = client.get(f"/callback/?tab={tab}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def counts(html: str) -> dict[str, int]:
    return {key: int(value) for key, value in
            re.findall(r'id="count-([a-z-]+)">(\d+)<', html)}


def row(html: str, entry_id: int) -> str:
    match = re.search(rf'<tr id="entry-{entry_id}".*?</tr>', html, re.S)
    assert match, f"no row entry-{entry_id}"
    return match.group(0)


def stored_view(username: str) -> dict:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.username == username)).one().view


def group_id(name: str) -> int:
    return db.session.scalars(select(Group.id).where(Group.name == name)).one()


def support_entry(e164: str) -> Entry:
    return db.session.scalars(select(Entry).join(Group).where(
        Group.name == "support", Entry.number_e164 == e164)).one()


def test_defaults_are_light_normal_summarized_with_group(client, run_a):
    login(client, "anna")
    html = page(client)
    assert '<html lang="en" data-skin="light">' in html
    assert 'aria-pressed="true"' in re.search(r'name="summarize".*?>', html, re.S).group(0)
    assert '<th scope="col">Group</th>' in html and "First call" in html
    assert "100 %" in html


def test_skin_and_font_persist_for_the_next_login(client, app, run_a):
    login(client, "anna")
    assert client.post(VIEW, data={"skin": "dark", "tab": "done"}).headers["Location"] \
        == "/callback/?tab=done&page=1"
    client.post(VIEW, data={"font": "bigger"})
    client.post(VIEW, data={"font": "bigger"})
    assert stored_view("anna")["skin"] == "dark" and stored_view("anna")["font_step"] == 2
    client.post("/callback/logout")
    other = app.test_client()  # another browser: no cookie of the first one comes along
    login(other, "anna")
    html = page(other)
    assert 'data-skin="dark"' in html and 'style="--font-size: 18px"' in html
    assert "120 %" in html
    other.post("/callback/logout")
    ben = app.test_client()  # another user keeps their own
    login(ben, "ben")
    assert '<html lang="en" data-skin="light">' in page(ben)


def test_font_steps_stop_at_three_each_way(client, run_a):
    login(client, "anna")
    for _ in range(5):
        client.post(VIEW, data={"font": "bigger"})
    assert stored_view("anna")["font_step"] == 3
    html = page(client)
    assert re.search(r'name="font" value="bigger"\s+disabled', html)
    for _ in range(8):
        client.post(VIEW, data={"font": "smaller"})
    assert stored_view("anna")["font_step"] == -3
    assert 'style="--font-size: 12px"' in page(client)
    client.post(VIEW, data={"font": "reset"})
    assert stored_view("anna")["font_step"] == 0
    assert "style=\"--font-size" not in page(client)


def test_htmx_font_press_answers_the_toolbar_only(client, run_a):
    login(client, "anna")
    response = client.post(VIEW, data={"font": "smaller", "tab": "open"},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert html.startswith('<div id="view-toolbar"')
    assert 'data-font-size="14px"' in html and "<table" not in html


@pytest.mark.parametrize("data", [
    {"colour": "red"}, {"skin": "blue"}, {"font": "huge"}, {"summarize": "maybe"},
    {"show_group": "1"}, {"groups": "abc"}, {}, {"skin": "dark", "font_step": "3"},
], ids=["unknown-key", "skin", "font", "summarize", "show-group", "groups", "nothing",
        "unknown-with-known"])
def test_unknown_keys_and_values_are_refused(client, run_a, data):
    login(client, "anna")
    response = client.post(VIEW, data=data)
    assert response.status_code == 400
    assert stored_view("anna") in ({}, None)


def test_needs_a_login(client, run_a):
    response = client.post(VIEW, data={"skin": "dark"})
    assert response.status_code == 302 and "/callback/login" in response.headers["Location"]


def test_group_choice_narrows_the_lists(client, run_a):
    login(client, "clara")  # sales and hotline
    assert counts(page(client)) == {"open": 3, "attempts": 0, "done": 1, "not-reached": 0}
    client.post(VIEW, data={"groups": ["", str(group_id("hotline"))]})
    html = page(client)
    assert counts(html) == {"open": 0, "attempts": 0, "done": 1, "not-reached": 0}
    assert "Groups: hotline" in html
    client.post(VIEW, data={"groups": ["", str(group_id("sales"))]})
    assert counts(page(client)) == {"open": 3, "attempts": 0, "done": 0, "not-reached": 0}
    # Nothing ticked is all of them again.
    client.post(VIEW, data={"groups": [""]})
    assert stored_view("clara")["groups"] == []
    assert counts(page(client)) == {"open": 3, "attempts": 0, "done": 1, "not-reached": 0}


def test_group_choice_cannot_widen_beyond_the_users_groups(client, run_a):
    login(client, "anna")
    response = client.post(VIEW, data={"groups": ["", str(group_id("sales"))]})
    assert response.status_code == 400
    # Even a stored choice of someone else's group (say the admin took anna out of sales
    # since) shows nothing of it.
    anna = db.session.scalars(select(User).where(User.username == "anna")).one()
    anna.view = {"groups": [group_id("sales")]}
    db.session.commit()
    html = page(client)
    assert counts(html) == {"open": 2, "attempts": 0, "done": 2, "not-reached": 0}
    assert "030 1110004" not in html


def test_admin_may_narrow_to_any_group(client, run_a):
    login(client, "admin")
    assert counts(page(client))["open"] == 5
    client.post(VIEW, data={"groups": ["", str(group_id("support"))]})
    assert counts(page(client)) == {"open": 2, "attempts": 0, "done": 2, "not-reached": 0}
    every = [str(g) for g in db.session.scalars(select(Group.id))]
    client.post(VIEW, data={"groups": ["", *every]})
    assert stored_view("admin")["groups"] == []  # all of them, new groups included


def test_show_group_off_removes_the_column(client, run_a):
    login(client, "anna")
    response = client.post(VIEW, data={"show_group": "false", "tab": "open"},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.startswith('<section id="entries"')
    assert '<div id="view-toolbar"' in html and 'id="tabs"' in html  # out of band
    assert "col-group" not in html and '<th scope="col">Group</th>' not in html
    assert 'colspan="7"' not in html  # there are rows, no "nothing here"
    page_html = page(client)
    assert "col-group" not in page_html and "<th scope=\"col\">Group</th>" not in page_html
    assert page_html.count('<tr id="entry-') == 2
    client.post(VIEW, data={"show_group": "true"})
    assert "col-group" in page(client)


def test_an_actions_row_follows_the_users_columns(client, run_a):
    """The row rendered outside a page (an action's answer, the live push) has the same cells."""
    login(client, "anna")
    client.post(VIEW, data={"show_group": "false"})
    target = support_entry("+49301110017")
    response = client.post(f"/callback/entries/{target.id}/done", data={"tab": "open"},
                           headers={"HX-Request": "true"})
    html = row(response.get_data(as_text=True), target.id)
    assert "col-group" not in html and "col-time" in html


def repeat_s07b(path: Path) -> Path:
    """S07b (abandoned in the support queue after 1 s) again at 07:30, as a second call."""
    template = (RUN_A / "cdr-csv" / "Master.csv").read_text().splitlines()[19]
    path.write_text(template.replace("1795328034.24", "1795331400.90")
                    .replace("06:13:54", "07:30:00").replace("06:13:55", "07:30:01") + "\n")
    return path


def test_summarize_off_lists_each_call_in_the_one_row(client, run_a, tmp_path):
    report = import_files([repeat_s07b(tmp_path / "Master.csv")], ZoneInfo("UTC"))
    assert not report.failed, report.messages
    target = support_entry("+49301110017")
    assert target.count == 2
    login(client, "anna")
    summarized = row(page(client), target.id)
    assert "<ol class=\"calls\">" not in summarized and ">2</td>" in summarized
    client.post(VIEW, data={"summarize": "false"})
    html = page(client)
    assert html.count(f'<tr id="entry-{target.id}"') == 1
    assert '<th scope="col" colspan="2">Each call</th>' in html
    calls = re.search(r'<ol class="calls">(.*?)</ol>', row(html, target.id), re.S).group(1)
    items = re.findall(r"<li>.*?</li>", calls, re.S)
    assert len(items) == 2
    assert '<time datetime="2026-11-22T06:13:54+00:00"' in items[0]
    assert '<time datetime="2026-11-22T07:30:00+00:00"' in items[1]
    assert all("caller hung up" in item and "rang 1 s" in item for item in items)
    assert "First call" not in html


def test_the_view_needs_the_csrf_token_when_enabled(tmp_path, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    app = make_app(tmp_path, "sqlite://", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
        client = app.test_client()
        html = client.get("/callback/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        client.post("/callback/login", data={"username": "anna", "password": "anna-pw",
                                             "csrf_token": token})
        assert client.post(VIEW, data={"skin": "dark"}).status_code == 400
        assert stored_view("anna") in ({}, None)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page(client)).group(1)
        assert client.post(VIEW, data={"skin": "dark", "csrf_token": token}).status_code == 302
        assert stored_view("anna")["skin"] == "dark"
        db.session.remove()
        db.drop_all()
