"""Signing in and out, the login rate limit, safe redirects, and what a missing login gets."""

from __future__ import annotations

import re

import pytest
from flask_login import login_required

from callback_module.extensions import db
from callback_module.views.auth import LoginLimiter, safe_next

from conftest import add_fixture_profile, make_app


@pytest.fixture
def people(app):
    add_fixture_profile(1)


def login(client, username: str, password: str | None = None, **kwargs):
    return client.post("/callback/login", data={"username": username,
                                                "password": password or f"{username}-pw"},
                       **kwargs)


def test_pages_need_a_login(client, people):
    response = client.get("/callback/?tab=done")
    assert response.status_code == 302
    assert response.headers["Location"] == "/callback/login?next=/callback/?tab%3Ddone"


def test_htmx_request_without_login_sends_the_whole_page_to_login(client, people):
    response = client.get("/callback/?tab=done", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/callback/?tab=done"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/callback/login?next=")


def test_api_without_login_gets_401_json(tmp_path):
    app = make_app(tmp_path, "sqlite://")
    app.add_url_rule("/callback/api/probe", "probe", login_required(lambda: "secret"))
    with app.app_context():
        db.create_all()
        response = app.test_client().get("/callback/api/probe")
        assert response.status_code == 401
        assert response.get_json() == {"error": "login required"}
        db.drop_all()


def test_login_page_shows_the_form(client, people):
    html = client.get("/callback/login").get_data(as_text=True)
    assert 'name="username"' in html and 'name="password"' in html


def test_login_ok_goes_to_next(client, people):
    response = login(client, "anna", query_string={"next": "/callback/?tab=done"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/callback/?tab=done"
    page = client.get("/callback/").get_data(as_text=True)
    assert "Anna Agent" in page


def test_login_is_case_insensitive_on_the_username(client, people):
    assert login(client, "Anna", "anna-pw").status_code == 302


def test_wrong_password_is_refused(client, people):
    response = login(client, "anna", "nope")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert client.get("/callback/").status_code == 302


def test_unknown_user_gets_the_same_message(client, people):
    response = login(client, "mallory", "x")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_five_failures_block_that_username_and_address(client, people):
    for _ in range(5):
        assert login(client, "anna", "guess").status_code == 401
    blocked = login(client, "anna")  # even the right password
    assert blocked.status_code == 429
    assert "Too many attempts, wait a few minutes." in blocked.get_data(as_text=True)
    assert client.get("/callback/").status_code == 302
    # Another user, or the same user from another address, is not blocked.
    assert login(client, "ben").status_code == 302
    other = client.application.test_client()
    assert login(other, "anna", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302


def test_success_resets_the_failures(client, people):
    for _ in range(4):
        login(client, "anna", "guess")
    assert login(client, "anna").status_code == 302
    client.post("/callback/logout")
    for _ in range(4):
        assert login(client, "anna", "guess").status_code == 401
    assert login(client, "anna").status_code == 302


def test_limiter_forgets_failures_after_the_window():
    now = [1000.0]
    limiter = LoginLimiter(5, 300, clock=lambda: now[0])
    key = ("anna", "127.0.0.1")
    for _ in range(5):
        limiter.failed(key)
    assert limiter.blocked(key)
    now[0] += 299
    assert limiter.blocked(key)
    now[0] += 2
    assert not limiter.blocked(key)


def test_logout_signs_out(client, people):
    login(client, "anna")
    response = client.post("/callback/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/callback/login"
    assert client.get("/callback/").status_code == 302
    assert "You are signed out." in client.get("/callback/login").get_data(as_text=True)


def test_logout_needs_post(client, people):
    login(client, "anna")
    assert client.get("/callback/logout").status_code == 405
    assert client.get("/callback/").status_code == 200


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
    "http:/evil.example", "", None,
])
def test_next_must_stay_on_this_site(app, target):
    with app.test_request_context():
        assert safe_next(target) == "/callback/"


def test_next_keeps_a_local_path(app):
    with app.test_request_context():
        assert safe_next("/callback/?tab=done&page=2") == "/callback/?tab=done&page=2"


def test_login_ignores_a_foreign_next(client, people):
    response = login(client, "anna", query_string={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/callback/"


def test_signed_in_user_visiting_login_goes_on(client, people):
    login(client, "anna")
    response = client.get("/callback/login")
    assert response.status_code == 302 and response.headers["Location"] == "/callback/"


def test_login_needs_the_csrf_token_when_enabled(tmp_path):
    app = make_app(tmp_path, "sqlite://", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
        client = app.test_client()
        assert login(client, "anna").status_code == 400
        page = client.get("/callback/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/callback/login", data={
            "username": "anna", "password": "anna-pw", "csrf_token": token})
        assert response.status_code == 302
        db.session.remove()
        db.drop_all()
