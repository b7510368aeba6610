"""The user's own account page: the missed-call mails opt-in and the language, CSRF-protected."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from callback_module.extensions import db
from callback_module.models import NotifySettings, User

from conftest import add_fixture_profile, login_with_csrf, make_app

URL = "/callback/account"


@pytest.fixture
def people(app):
    add_fixture_profile(1)
    anna = user("anna")
    anna.email = "anna@example.org"
    db.session.commit()


def login(client, username: str) -> None:
    response = client.post("/callback/login",
                           data={"username": username, "password": f"{username}-pw"})
    assert response.status_code == 302


def user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.username == username)).one()


def choices() -> dict[str, tuple]:
    return {u.username: (u.notify_missed, u.language)
            for u in db.session.scalars(select(User))}


def test_needs_a_login(client, people):
    response = client.get(URL)
    assert response.status_code == 302 and "/callback/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["anna", "admin"])
def test_everyone_finds_it_in_the_top_bar(client, people, username):
    login(client, username)
    html = client.get("/callback/").get_data(as_text=True)
    topbar = re.search(r'<header class="topbar">.*?</header>', html, re.S).group(0)
    assert f'href="{URL}"' in topbar
    page = client.get(URL).get_data(as_text=True)
    assert f'href="{URL}" aria-current="page"' in page


def test_shows_the_address_the_mails_go_to(client, people):
    login(client, "anna")
    html = client.get(URL).get_data(as_text=True)
    assert 'value="anna@example.org" readonly' in html
    assert "Ask an admin to change it." in html
    assert 'name="notify_missed"' in html and "E-mail me about calls I missed" in html


def test_without_an_address_it_says_to_ask_an_admin(client, people):
    login(client, "ben")
    html = client.get(URL).get_data(as_text=True)
    assert "You have no e-mail address yet" in html and "Ask an admin to add one." in html
    assert "readonly" not in html


def test_opting_in_and_out_and_the_language_persist_for_this_user_only(client, people):
    before = choices()
    login(client, "anna")
    response = client.post(URL, data={"notify_missed": "y", "language": "de"})
    assert response.status_code == 302 and response.headers["Location"] == URL
    after = choices()
    assert after["anna"] == (True, "de")
    assert {k: v for k, v in after.items() if k != "anna"} == \
        {k: v for k, v in before.items() if k != "anna"}
    page = client.get(URL).get_data(as_text=True)
    assert '<html lang="de"' in page  # the pages follow the choice at once
    assert re.search(r'<input[^>]*checked[^>]*name="notify_missed"', page)
    assert re.search(r'<option selected value="de">', page)
    # An unticked checkbox is not sent at all: that is opting out.
    assert client.post(URL, data={"language": ""}).status_code == 302
    assert choices()["anna"] == (False, "")


def test_an_unknown_language_is_refused(client, people):
    login(client, "anna")
    response = client.post(URL, data={"notify_missed": "y", "language": "fr"})
    assert response.status_code == 422
    assert "Not a valid choice." in response.get_data(as_text=True)
    assert choices()["anna"] == (False, "")


def test_says_when_the_admin_has_mails_switched_off(client, people):
    login(client, "anna")
    client.post(URL, data={"notify_missed": "y", "language": ""})
    assert "switched missed-call mails off" in client.get(URL).get_data(as_text=True)
    NotifySettings.load().update("notifications", {"recipients": "all"})
    db.session.commit()
    assert "switched missed-call mails off" not in client.get(URL).get_data(as_text=True)


def test_a_post_needs_the_csrf_token(tmp_path):
    app = make_app(tmp_path, "sqlite://", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
        client = app.test_client()
        login_with_csrf(client, "anna")
        assert client.post(URL, data={"notify_missed": "y", "language": "de"}).status_code == 400
        assert choices()["anna"] == (False, "")
        page = client.get(URL).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(URL, data={"notify_missed": "y", "language": "de",
                                          "csrf_token": token})
        assert response.status_code == 302
        assert choices()["anna"] == (True, "de")
        assert choices()["ben"] == (False, "")
        db.session.remove()
        db.drop_all()
