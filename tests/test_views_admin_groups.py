"""Admin pages for groups: list, create, edit, delete, and what a change does to the lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from callback_module.extensions import db
from callback_module.file_import import import_files
from callback_module.models import Entry, Group, Notification, User
from callback_module.views import lists as lists_view

from conftest import FIXTURES, add_fixture_profile

RUN_A = FIXTURES / "runA_unanswered_yes"
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GROUPS = "/callback/admin/groups"


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


def group(name: str) -> Group:
    db.session.expire_all()
    return db.session.scalars(select(Group).where(Group.name == name)).one()


def support_entry(e164: str) -> Entry:
    db.session.expire_all()
    return db.session.scalars(select(Entry).join(Group).where(
        Group.name == "support", Entry.number_e164 == e164)).one()


def counts(html: str) -> dict[str, int]:
    return {key: int(value) for key, value in
            re.findall(r'id="count-([a-z-]+)">(\d+)<', html)}


def field_html(page: str, key: str) -> str:
    chunks = [c for c in page.split('<div class="field ')[1:] if f'name="{key}"' in c]
    assert len(chunks) == 1, key
    return chunks[0]


def form(**changes) -> dict[str, str]:
    data = {"name": "billing", "type": "queue", "pbx_id": "billing", "members": "205, 206",
            "target_minutes": "15"}
    data.update(changes)
    return data


def group_urls(group_id: int) -> list[str]:
    return [GROUPS, f"{GROUPS}/new", f"{GROUPS}/{group_id}", f"{GROUPS}/{group_id}/delete"]


def test_agents_get_403_on_every_group_url(client, run_a):
    login(client, "anna")
    support = group("support")
    for url in group_urls(support.id):
        assert client.get(url).status_code == 403, url
    for url in group_urls(support.id)[1:]:
        assert client.post(url, data=form(name="support", members="")).status_code == 403, url
    assert group("support").extensions == ["201", "202"]


def test_needs_a_login(client, run_a):
    response = client.get(GROUPS)
    assert response.status_code == 302 and "/callback/login" in response.headers["Location"]


def test_admin_nav_links_to_every_admin_page(client, run_a):
    login(client, "admin")
    html = client.get(GROUPS).get_data(as_text=True)
    nav = re.search(r'<nav class="topnav".*?</nav>', html, re.S).group(0)
    for url in ("/callback/admin/settings", GROUPS, "/callback/admin/users",
                "/callback/admin/log"):
        assert f'href="{url}"' in nav
    assert f'<a href="{GROUPS}" aria-current="page">Groups</a>' in nav


def test_list_shows_each_group_with_members_and_counts(client, run_a):
    login(client, "admin")
    html = client.get(GROUPS).get_data(as_text=True)
    support = re.search(rf'<tr id="group-{group("support").id}">.*?</tr>', html, re.S).group(0)
    assert "support" in support and "Queue" in support and "201, 202" in support
    assert re.findall(r'<td class="num">([^<]*)</td>', support) == ["—", "2", "2"]
    hotline = re.search(rf'<tr id="group-{group("hotline").id}">.*?</tr>', html, re.S).group(0)
    assert "Hunt group" in hotline and "4930555300" in hotline


def test_create_a_group(client, run_a):
    login(client, "admin")
    assert "New group" in client.get(f"{GROUPS}/new").get_data(as_text=True)
    response = client.post(f"{GROUPS}/new", data=form(members="205 206,207;205"))
    assert response.status_code == 302 and response.headers["Location"] == GROUPS
    billing = group("billing")
    assert (billing.type, billing.pbx_id, billing.target_minutes) == ("queue", "billing", 15)
    assert billing.extensions == ["205", "206", "207"]
    assert "Group billing created." in client.get(GROUPS).get_data(as_text=True)


@pytest.mark.parametrize(("changes", "key", "message"), [
    ({"name": "Support"}, "name", "Another group is already called that."),
    ({"name": ""}, "name", "This field is required."),
    ({"pbx_id": "4930555200"}, "pbx_id", "The group sales already has this PBX identifier."),
    ({"members": "205, 2 06x!"}, "members", "Not an extension: 06x!"),
    ({"target_minutes": "10081"}, "target_minutes", "Number must be between 0 and 10080."),
    ({"target_minutes": "-1"}, "target_minutes", "Number must be between 0 and 10080."),
    ({"target_minutes": "soon"}, "target_minutes", "Not a valid integer value."),
    ({"type": "conference"}, "type", "Not a valid choice."),
], ids=["duplicate-name", "empty-name", "duplicate-pbx-id", "bad-member", "target-too-big",
        "target-negative", "target-not-a-number", "type"])
def test_bad_input_is_refused_with_the_message_at_the_field(client, run_a, changes, key,
                                                            message):
    login(client, "admin")
    response = client.post(f"{GROUPS}/new", data=form(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in field_html(html, key)
    assert 'aria-invalid="true"' in field_html(html, key)
    assert db.session.scalar(select(func.count()).select_from(Group)) == 3


def test_edit_keeps_its_own_name(client, run_a):
    login(client, "admin")
    support = group("support")
    page = client.get(f"{GROUPS}/{support.id}").get_data(as_text=True)
    assert 'value="201, 202"' in field_html(page, "members")
    response = client.post(f"{GROUPS}/{support.id}", data=form(
        name="support", pbx_id="support", members="201, 202", target_minutes="30"))
    assert response.status_code == 302
    assert group("support").target_minutes == 30


def test_removing_a_member_reopens_what_only_they_called_back(client, run_a):
    """S06's three attempts to S01's caller were by 202: without 202 they count no more."""
    s01 = support_entry("+49301110001")
    assert (s01.state, len(s01.attempts)) == ("done", 3)
    login(client, "admin")
    support = group("support")
    response = client.post(f"{GROUPS}/{support.id}", data=form(
        name="support", pbx_id="support", members="201", target_minutes="0"))
    assert response.status_code == 302
    s01 = support_entry("+49301110001")
    assert (s01.state, len(s01.attempts)) == ("open", 0)
    client.post("/callback/logout")
    login(client, "anna")
    html = client.get("/callback/?tab=open").get_data(as_text=True)
    assert counts(html) == {"open": 3, "attempts": 0, "done": 1, "not-reached": 0}
    assert f'id="entry-{s01.id}"' in html and "030 1110001" in html
    # And back: 202 a member again, the entry is done again.
    client.post("/callback/logout")
    login(client, "admin")
    client.post(f"{GROUPS}/{support.id}", data=form(
        name="support", pbx_id="support", members="201 202", target_minutes="0"))
    assert support_entry("+49301110001").state == "done"


def test_delete_asks_first_then_removes_the_group_and_its_entries(client, run_a):
    login(client, "admin")
    sales = group("sales")
    confirm = client.get(f"{GROUPS}/{sales.id}/delete")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Delete group sales?" in html
    assert "Its 3 entries and their timeline are deleted." in html
    assert f'action="{GROUPS}/{sales.id}/delete"' in html and 'method="post"' in html
    assert db.session.scalar(select(func.count()).select_from(Entry)
                             .where(Entry.group_id == sales.id)) == 3
    response = client.post(f"{GROUPS}/{sales.id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == GROUPS
    db.session.expire_all()
    assert db.session.get(Group, sales.id) is None
    assert db.session.scalar(select(func.count()).select_from(Entry)
                             .where(Entry.group_id == sales.id)) == 0
    clara = db.session.scalars(select(User).where(User.username == "clara")).one()
    assert [g.name for g in clara.groups] == ["hotline"]
    listing = client.get(GROUPS).get_data(as_text=True)
    assert "Group sales deleted." in listing and f'id="group-{sales.id}"' not in listing
    assert counts(client.get("/callback/").get_data(as_text=True))["open"] == 2


def test_unknown_group_is_404(client, run_a):
    login(client, "admin")
    assert client.get(f"{GROUPS}/999").status_code == 404
    assert client.post(f"{GROUPS}/999/delete").status_code == 404


# The group's webhook: its URL, checked at the field, and how its last delivery went.

def webhook_row(support: Group, **values) -> Notification:
    row = Notification(**{"call_key": f"call-{values.get('tries', 0)}-{values['state']}",
                          "channel": "webhook", "target": f"group:{support.id}",
                          "group_id": support.id, "party_key": "+49301110001", "rang_at": NOON,
                          "due_at": NOON, "created_at": NOON, **values})
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize("url", ["ftp://chat.example.org/hook", "chat.example.org/hook",
                                 "https://chat.example.org/a hook"],
                         ids=["not-http", "no-scheme", "space"])
def test_a_bad_webhook_url_is_refused_at_the_field(client, run_a, url):
    login(client, "admin")
    support = group("support")
    response = client.post(f"{GROUPS}/{support.id}", data=form(
        name="support", pbx_id="support", members="201, 202", webhook_url=url))
    assert response.status_code == 422
    html = field_html(response.get_data(as_text=True), "webhook_url")
    assert "Webhook URL: must be" in html and 'aria-invalid="true"' in html
    assert group("support").webhook_url == ""


def test_the_webhook_url_is_stored_and_not_logged(client, run_a, caplog):
    caplog.set_level("INFO", logger="callback.admin")
    login(client, "admin")
    support = group("support")
    url = "https://chat.example.org/hooks/Secret-Token-123"
    response = client.post(f"{GROUPS}/{support.id}", data=form(
        name="support", pbx_id="support", members="201, 202", webhook_url=f"  {url} "))
    assert response.status_code == 302
    assert group("support").webhook_url == url
    assert "webhook changed" in caplog.text and "Secret-Token" not in caplog.text
    page = client.get(f"{GROUPS}/{support.id}").get_data(as_text=True)
    assert f'value="{url}"' in field_html(page, "webhook_url")
    assert "Last webhook delivery:" in page and "never used" in page


def test_the_last_webhook_delivery_shows_on_the_form_and_in_the_list(client, run_a):
    support = group("support")
    support.webhook_url = "https://chat.example.org/hook"
    db.session.commit()
    login(client, "admin")
    sent = datetime(2026, 11, 22, 12, 0, 5, tzinfo=UTC)
    webhook_row(support, state="sent", tries=1, done_at=sent)
    for page in (f"{GROUPS}/{support.id}", GROUPS):
        assert "sent at 2026-11-22 12:00:05" in client.get(page).get_data(as_text=True)
    # Skipped ones and those not tried yet say nothing about the receiver: the last stays.
    webhook_row(support, state="skipped", rule="answered_meanwhile", done_at=sent)
    webhook_row(support, state="pending")
    assert "sent at 2026-11-22 12:00:05" in client.get(GROUPS).get_data(as_text=True)
    webhook_row(support, state="pending", tries=2,
                last_error="chat.example.org refused the connection")
    html = client.get(f"{GROUPS}/{support.id}").get_data(as_text=True)
    assert "retrying (tries 2): chat.example.org refused the connection" in html
    webhook_row(support, state="failed", tries=10, done_at=sent,
                last_error="chat.example.org answered HTTP 500 Internal Server Error")
    listing = client.get(GROUPS).get_data(as_text=True)
    row = re.search(rf'<tr id="group-{support.id}">.*?</tr>', listing, re.S).group(0)
    assert "failed: chat.example.org answered HTTP 500 Internal Server Error" in row
    sales = re.search(rf'<tr id="group-{group("sales").id}">.*?</tr>', listing, re.S).group(0)
    assert "never used" not in sales and "none" in sales  # no webhook set at all
