"""Admin pages for users: list, create and reset (the password shown once), edit, delete."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from callback_module.extensions import db
from callback_module.models import Group, User

from conftest import add_fixture_profile

USERS = "/callback/admin/users"


@pytest.fixture
def people(app):
    add_fixture_profile(1)


def login(client, username: str, password: str | None = None) -> int:
    response = client.post("/callback/login", data={
        "username": username, "password": password or f"{username}-pw"})
    return response.status_code


def user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.username == username)).one()


def group_id(name: str) -> int:
    return db.session.scalars(select(Group.id).where(Group.name == name)).one()


def field_html(page: str, key: str) -> str:
    chunks = [c for c in page.split('<div class="field ')[1:] if f'name="{key}"' in c]
    assert len(chunks) == 1, key
    return chunks[0]


def shown_password(html: str) -> str:
    return re.search(r'id="new-password"[^>]*value="([^"]+)"', html).group(1)


def form(**changes) -> dict:
    data = {"username": "frank", "name": "Frank Agent", "extension": "205",
            "email": "frank@example.org", "role": "agent", "language": "de",
            "groups": [str(group_id("support")), str(group_id("sales"))]}
    data.update(changes)
    return data


def test_agents_get_403_on_every_user_url(client, people):
    assert login(client, "anna") == 302
    ben = user("ben")
    urls = [USERS, f"{USERS}/new", f"{USERS}/{ben.id}", f"{USERS}/{ben.id}/password",
            f"{USERS}/{ben.id}/delete"]
    for url in urls:
        assert client.get(url).status_code == 403, url
    for url in urls[1:]:
        assert client.post(url, data={"role": "admin", "password": "taken-over-1"}
                           ).status_code == 403, url
    assert user("ben").role == "agent" and user("ben").check_password("ben-pw")
    assert USERS not in client.get("/callback/").get_data(as_text=True)


def test_list_shows_every_user(client, people):
    login(client, "admin")
    html = client.get(USERS).get_data(as_text=True)
    clara = re.search(rf'<tr id="user-{user("clara").id}">.*?</tr>', html, re.S).group(0)
    assert "Clara Agent" in clara and "203" in clara and "hotline, sales" in clara
    me = re.search(rf'<tr id="user-{user("admin").id}">.*?</tr>', html, re.S).group(0)
    assert "Admin" in me and "/delete" not in me  # nobody deletes themselves


def test_create_shows_the_password_once_and_it_works(client, app, people):
    login(client, "admin")
    response = client.post(f"{USERS}/new", data=form())
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "User frank created" in html and "only time the password is shown" in html
    password = shown_password(html)
    assert re.fullmatch(r"[A-Za-z2-9]{4}(-[A-Za-z2-9]{4}){3}", password)
    frank = user("frank")
    assert (frank.name, frank.extension, frank.email) == ("Frank Agent", "205",
                                                         "frank@example.org")
    assert (frank.role, frank.language) == ("agent", "de")
    assert sorted(g.name for g in frank.groups) == ["sales", "support"]
    assert password not in frank.password_hash
    assert password not in client.get(USERS).get_data(as_text=True)
    client.post("/callback/logout")
    assert login(client, "frank", password) == 302
    assert "Groups:" in client.get("/callback/").get_data(as_text=True)


def test_a_given_password_is_used(client, people):
    login(client, "admin")
    html = client.post(f"{USERS}/new", data=form(password="correct horse")).get_data(
        as_text=True)
    assert shown_password(html) == "correct horse"
    assert user("frank").check_password("correct horse")


@pytest.mark.parametrize(("changes", "key", "message"), [
    ({"username": "Anna"}, "username", "This username is taken."),
    ({"username": ""}, "username", "This field is required."),
    ({"username": "frank smith"}, "username", "Letters, digits and . @ + - _ only."),
    ({"email": "frank@"}, "email", "Not an e-mail address."),
    ({"email": "frank example.org"}, "email", "Not an e-mail address."),
    ({"extension": "201"}, "extension", "anna already has this extension."),
    ({"extension": "2 05"}, "extension", "Digits (and * # + . - _) only"),
    ({"role": "root"}, "role", "Not a valid choice."),
    ({"language": "fr"}, "language", "Not a valid choice."),
    ({"groups": ["999"]}, "groups", "not a valid choice"),
    ({"password": "short"}, "password", "At least 8 characters"),
], ids=["taken", "empty-username", "username-space", "email-no-domain", "email-space",
        "extension-taken", "extension-space", "role", "language", "group", "short-password"])
def test_bad_input_is_refused_with_the_message_at_the_field(client, people, changes, key,
                                                            message):
    login(client, "admin")
    response = client.post(f"{USERS}/new", data=form(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in field_html(html, key)
    assert 'id="new-password"' not in html
    assert db.session.scalar(select(func.count()).select_from(User)) == 6


def test_edit_changes_role_groups_language_extension_email(client, people):
    login(client, "admin")
    anna = user("anna")
    page = client.get(f"{USERS}/{anna.id}").get_data(as_text=True)
    assert 'value="201"' in field_html(page, "extension")
    boxes = re.findall(r"<input[^>]*>", field_html(page, "groups"))
    assert [b for b in boxes if "checked" in b] == [
        b for b in boxes if f'value="{group_id("support")}"' in b]
    assert 'name="password"' not in page
    response = client.post(f"{USERS}/{anna.id}", data=form(
        username="anna", name="Anna Admin", extension="211", email="anna@example.org",
        role="admin", language="en", groups=[str(group_id("hotline"))]))
    assert response.status_code == 302 and response.headers["Location"] == USERS
    anna = user("anna")
    assert (anna.name, anna.extension, anna.email, anna.role, anna.language) == (
        "Anna Admin", "211", "anna@example.org", "admin", "en")
    assert [g.name for g in anna.groups] == ["hotline"]
    assert anna.check_password("anna-pw")  # editing leaves the password alone
    assert "User anna saved." in client.get(USERS).get_data(as_text=True)


def test_admins_set_the_missed_call_mails_when_provisioning(client, people):
    login(client, "admin")
    response = client.post(f"{USERS}/new", data=form(notify_missed="y"))
    assert response.status_code == 200 and user("frank").notify_missed is True
    frank = user("frank")
    page = client.get(f"{USERS}/{frank.id}").get_data(as_text=True)
    assert "checked" in field_html(page, "notify_missed")
    # Unticked on an edit (a browser sends nothing for it): off again.
    assert client.post(f"{USERS}/{frank.id}", data=form()).status_code == 302
    assert user("frank").notify_missed is False
    assert user("anna").notify_missed is False


def test_unticking_every_group_leaves_none(client, people):
    login(client, "admin")
    clara = user("clara")
    data = form(username="clara", extension="203")
    del data["groups"]
    assert client.post(f"{USERS}/{clara.id}", data=data).status_code == 302
    assert user("clara").groups == []


def test_admins_cannot_take_their_own_admin_role(client, people):
    login(client, "admin")
    me = user("admin")
    response = client.post(f"{USERS}/{me.id}", data=form(username="admin", extension="",
                                                         role="agent", groups=[]))
    assert response.status_code == 422
    assert "You cannot take away your own admin role." in field_html(
        response.get_data(as_text=True), "role")
    assert user("admin").role == "admin"


def test_reset_shows_a_new_password_once_and_it_works(client, people):
    login(client, "admin")
    ben = user("ben")
    assert "Reset the password of ben" in client.get(f"{USERS}/{ben.id}/password").get_data(
        as_text=True)
    response = client.post(f"{USERS}/{ben.id}/password", data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Password of ben reset" in html
    password = shown_password(html)
    assert response.headers["Cache-Control"] == "no-store"
    assert not user("ben").check_password("ben-pw")
    client.post("/callback/logout")
    assert login(client, "ben", "ben-pw") == 401
    assert login(client, "ben", password) == 302


def test_reset_refuses_a_short_password(client, people):
    login(client, "admin")
    ben = user("ben")
    response = client.post(f"{USERS}/{ben.id}/password", data={"password": "abc"})
    assert response.status_code == 422
    assert "At least 8 characters" in field_html(response.get_data(as_text=True), "password")
    assert user("ben").check_password("ben-pw")


def test_delete_asks_first_and_never_deletes_yourself(client, people):
    login(client, "admin")
    eva = user("eva")
    html = client.get(f"{USERS}/{eva.id}/delete").get_data(as_text=True)
    assert "Delete user eva?" in html and 'method="post"' in html
    response = client.post(f"{USERS}/{eva.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, eva.id) is None
    assert "User eva deleted." in client.get(USERS).get_data(as_text=True)
    me = user("admin")
    response = client.post(f"{USERS}/{me.id}/delete")
    assert response.status_code == 303
    assert db.session.get(User, me.id) is not None
    assert "You cannot delete yourself." in client.get(USERS).get_data(as_text=True)
