"""The lists page: what each user sees of the recorded run A, the tabs, paging and the actions."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from callback_module.extensions import db
from callback_module.file_import import import_files
from callback_module.models import Entry, Group, TimelineEvent
from callback_module.views import lists as lists_view

from conftest import FIXTURES, add_fixture_profile, make_app

RUN_A = FIXTURES / "runA_unanswered_yes"
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the recorded calls are of that morning


def import_run_a(*paths: Path) -> None:
    report = import_files(list(paths) or [RUN_A / "cdr-csv" / "Master.csv"], ZoneInfo("UTC"))
    assert not report.failed, report.messages


@pytest.fixture
def run_a(app, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    add_fixture_profile(1)
    import_run_a()


def login(client, username: str) -> None:
    response = client.post("/callback/login",
                           data={"username": username, "password": f"{username}-pw"})
    assert response.status_code == 302


def entry(group: str, e164: str | None) -> Entry:
    query = select(Entry).join(Group).where(Group.name == group)
    query = query.where(Entry.number_e164 == e164) if e164 else query.where(
        Entry.party_key.startswith("anonymous:"))
    return db.session.scalars(query).one()


def row(html: str, entry_id: int) -> str:
    match = re.search(rf'<tr id="entry-{entry_id}".*?</tr>', html, re.S)
    assert match, f"no row entry-{entry_id}"
    return match.group(0)


def counts(html: str) -> dict[str, int]:
    return {key: int(value) for key, value in
            re.findall(r'id="count-([a-z-]+)">(\d+)<', html)}


def page(client, tab: str = "open", **headers) -> str:
    response = client.get(f"/callback/?tab={tab}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_anna_sees_support_only(client, run_a):
    login(client, "anna")
    html = page(client, "open")
    assert counts(html) == {"open": 2, "attempts": 0, "done": 2, "not-reached": 0}
    assert "030 1110017" in html
    assert "Anonymous" in html
    for sales_number in ("030 1110004", "030 1110007", "030 1110005"):
        assert sales_number not in html
    assert "Groups: support" in html


def test_done_row_shows_the_attempts_with_who_and_when(client, run_a):
    login(client, "anna")
    done = row(page(client, "done"), entry("support", "+49301110001").id)
    assert 'href="tel:+49301110001"' in done and "030 1110001" in done
    assert done.count("<li>") == 3
    assert done.count("Ben Agent (202)") == 3
    assert '<time datetime="2026-11-22T06:11:06+00:00"' in done  # first call, PBX zone UTC
    assert "reached by 202" in done
    assert "Reopen" in done and "Not reached" not in done


def test_times_are_shown_in_the_pbx_zone(client, run_a):
    db.session.execute(db.text("UPDATE callback_settings SET timezone = 'Europe/Berlin'"))
    db.session.commit()
    login(client, "anna")
    done = row(page(client, "done"), entry("support", "+49301110001").id)
    assert ">07:11</time>" in done


def test_anonymous_caller_has_no_call_link(client, run_a):
    login(client, "anna")
    anonymous = row(page(client, "open"), entry("support", None).id)
    assert "Anonymous" in anonymous and "tel:" not in anonymous
    assert "Done" in anonymous  # it can still be closed by hand


def test_clara_sees_sales_and_hotline(client, run_a):
    login(client, "clara")
    html = page(client, "open")
    assert counts(html) == {"open": 3, "attempts": 0, "done": 1, "not-reached": 0}
    for number in ("030 1110004", "030 1110007", "030 1110003"):
        assert number in html
    assert "030 1110017" not in html and "Anonymous" not in html
    assert "030 1110005" in page(client, "done")


def test_admin_sees_every_group(client, run_a):
    login(client, "admin")
    assert counts(page(client, "open")) == {"open": 5, "attempts": 0, "done": 3,
                                            "not-reached": 0}


def test_agent_in_no_group_sees_nothing(client, run_a):
    login(client, "eva")
    html = page(client, "open")
    assert counts(html) == {"open": 0, "attempts": 0, "done": 0, "not-reached": 0}
    assert "You are in no group yet" in html


def test_unknown_tab_falls_back_to_open(client, run_a):
    login(client, "anna")
    assert 'aria-current="page"' in re.search(r'id="tab-open".*?>', page(client, "bogus"),
                                              re.S).group(0)


def test_htmx_gets_the_table_and_oob_counters(client, run_a):
    login(client, "anna")
    response = client.get("/callback/?tab=done", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in html
    assert html.startswith('<section id="entries"')
    assert '<nav id="tabs" class="tabs" aria-label="Lists" hx-swap-oob="true">' in html
    full = client.get("/callback/?tab=done")
    assert "HX-Request" in full.headers["Vary"]
    assert "<html" in full.get_data(as_text=True)


def test_history_restore_gets_the_whole_page(client, run_a):
    login(client, "anna")
    html = page(client, "done", **{"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in html


def test_done_by_htmx_returns_the_row_and_oob_counters(client, run_a):
    login(client, "anna")
    target = entry("support", "+49301110017")
    response = client.post(f"/callback/entries/{target.id}/done", data={"tab": "open"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith(f'<tr id="entry-{target.id}"')
    assert "Moved to Done" in html and "Reopen" in html
    assert 'hx-swap-oob="true"' in html
    assert counts(html) == {"open": 1, "attempts": 0, "done": 3, "not-reached": 0}
    db.session.expire_all()
    assert db.session.get(Entry, target.id).state == "done"
    assert row(page(client, "done"), target.id)


def test_not_reached_without_htmx_redirects_back(client, run_a):
    login(client, "anna")
    target = entry("support", "+49301110017")
    response = client.post(f"/callback/entries/{target.id}/not_reached",
                           data={"tab": "open", "page": "1"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/callback/?tab=open&page=1"
    html = page(client, "not_reached")
    assert counts(html)["not-reached"] == 1
    assert row(html, target.id)
    assert f'id="entry-{target.id}"' not in page(client, "open")


def test_reopen_moves_a_done_entry_back_to_open(client, run_a):
    login(client, "anna")
    target = entry("support", "+49301110003")
    assert target.state == "done"
    response = client.post(f"/callback/entries/{target.id}/reopen", data={"tab": "done"},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "Moved to Attempts" in html  # it has one attempt, so it reopens under Attempts
    assert counts(html)["done"] == 1
    db.session.expire_all()
    assert db.session.get(Entry, target.id).state == "attempts"
    assert row(page(client, "attempts"), target.id)


def test_refused_action_answers_409_with_a_message(client, run_a):
    login(client, "anna")
    target = entry("support", "+49301110001")
    response = client.post(f"/callback/entries/{target.id}/done", data={"tab": "done"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert row(html, target.id)
    assert '<div id="flash" class="flash-area" aria-live="polite" hx-swap-oob="true">' in html
    assert "This entry is already closed." in html


def test_refused_action_without_htmx_flashes(client, run_a):
    login(client, "anna")
    target = entry("support", "+49301110001")
    client.post(f"/callback/entries/{target.id}/done", data={"tab": "done"})
    assert "This entry is already closed." in page(client, "done")


def timeline_count() -> int:
    return db.session.scalar(select(func.count()).select_from(TimelineEvent))


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["page", "htmx"])
def test_non_member_gets_403_and_nothing_changes(client, run_a, headers):
    login(client, "anna")
    sales = entry("sales", "+49301110007")
    before = timeline_count()
    response = client.post(f"/callback/entries/{sales.id}/done", data={"tab": "open"},
                           headers=headers)
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Entry, sales.id).state == "open"
    assert timeline_count() == before


def test_admin_may_act_on_any_group(client, run_a):
    login(client, "admin")
    sales = entry("sales", "+49301110007")
    assert client.post(f"/callback/entries/{sales.id}/done").status_code == 302
    db.session.expire_all()
    assert db.session.get(Entry, sales.id).state == "done"


def test_unknown_entry_is_404(client, run_a):
    login(client, "anna")
    assert client.post("/callback/entries/9999/done").status_code == 404


def test_actions_need_a_login(client, run_a):
    target = entry("support", "+49301110017")
    response = client.post(f"/callback/entries/{target.id}/done")
    assert response.status_code == 302 and "/callback/login" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Entry, target.id).state == "open"


def many_missed_calls(path: Path, count: int) -> Path:
    """Master.csv rows like S07b (abandoned in the support queue), each from its own caller."""
    template = (RUN_A / "cdr-csv" / "Master.csv").read_text().splitlines()[19]
    lines = []
    for i in range(count):
        minute, second = divmod(i, 50)
        lines.append(template.replace("+49301110017", f"+4930222{i:04d}")
                     .replace("1795328034.24", f"1795329000.{i}")
                     .replace("06:13:54", f"07:{minute:02d}:{second:02d}")
                     .replace("06:13:55", f"07:{minute:02d}:{second + 1:02d}"))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_long_lists_are_paged_without_a_cap(client, run_a, tmp_path):
    import_run_a(many_missed_calls(tmp_path / "Master.csv", 120))
    login(client, "anna")
    first = page(client, "open")
    assert counts(first)["open"] == 122
    assert first.count('<tr id="entry-') == 50
    assert "Page 1 of 3 · 122 entries" in first
    third = client.get("/callback/?tab=open&page=3").get_data(as_text=True)
    assert third.count('<tr id="entry-') == 22
    assert 'rel="prev"' in third and 'rel="next"' not in third
    beyond = client.get("/callback/?tab=open&page=99").get_data(as_text=True)
    assert "Page 3 of 3" in beyond
    shown = set()
    for number in (1, 2, 3):
        html = client.get(f"/callback/?tab=open&page={number}").get_data(as_text=True)
        shown |= set(re.findall(r'<tr id="entry-(\d+)"', html))
    assert len(shown) == 122


def test_period_hides_older_calls(client, run_a, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: datetime(2026, 12, 20, tzinfo=UTC))
    login(client, "anna")
    assert counts(page(client, "open")) == {"open": 0, "attempts": 0, "done": 0,
                                            "not-reached": 0}


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_actions_need_the_csrf_token_when_enabled(tmp_path, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    app = make_app(tmp_path, "sqlite://", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
        import_run_a()
        client = app.test_client()
        login_page = client.get("/callback/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
        client.post("/callback/login", data={"username": "anna", "password": "anna-pw",
                                             "csrf_token": token.group(1)})
        first, second = entry("support", "+49301110017"), entry("support", None)
        url = f"/callback/entries/{first.id}/done"
        assert client.post(url, data={"tab": "open"}).status_code == 400
        db.session.expire_all()
        assert db.session.get(Entry, first.id).state == "open"
        html = page(client, "open")
        assert client.post(url, data={"tab": "open", "csrf_token": csrf_token(html)}
                           ).status_code == 302
        # htmx sends the token in a header, from the body's hx-headers.
        header = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', html).group(1)
        response = client.post(f"/callback/entries/{second.id}/done", data={"tab": "open"},
                               headers={"HX-Request": "true", "X-CSRFToken": header})
        assert response.status_code == 200
        db.session.expire_all()
        assert db.session.get(Entry, first.id).state == "done"
        assert db.session.get(Entry, second.id).state == "done"
        db.session.remove()
        db.drop_all()
