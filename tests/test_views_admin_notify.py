"""The admin's notifications page: every setting, the checks, the password kept secret, a test
mail through a real SMTP server (aiosmtpd on 127.0.0.1), and the recent notifications."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from html import unescape

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from markupsafe import escape
from smtp_server import free_port, smtp_server  # noqa: F401  (smtp_server: the fixture)
from sqlalchemy import select

from callback_module.extensions import db
from callback_module.models import Group, Notification, NotifySettings, User
from callback_module.notify.settings import MAIL_SETTINGS, NOTIFY_SETTINGS, defaults

from conftest import add_fixture_profile

URL = "/callback/admin/notifications"
TEST_MAIL = f"{URL}/test-mail"
HTMX = {"HX-Request": "true"}
PASSWORD = "Pa55-word-never-shown"
AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def people(app):
    add_fixture_profile(1)
    admin = db.session.scalars(select(User).where(User.username == "admin")).one()
    admin.email = "admin@example.org"
    db.session.commit()


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"callback", PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


def login(client, username: str) -> None:
    response = client.post("/callback/login",
                           data={"username": username, "password": f"{username}-pw"})
    assert response.status_code == 302


def stored(section: str) -> dict:
    db.session.expire_all()
    return NotifySettings.load().values(section)


def store(section: str, **values) -> None:
    NotifySettings.load().update(section, values)
    db.session.commit()


def form_data(**changes) -> dict:
    """The form as the browser sends it: the stored values (the password blank), ``changes``
    by field name (``notifications-hold_seconds``)."""
    data = {}
    for section in ("notifications", "mail"):
        for key, value in stored(section).items():
            name = f"{section}-{key}"
            if isinstance(value, bool):
                if value:
                    data[name] = "y"  # an unticked checkbox is simply not sent
            elif isinstance(value, list):
                data[name] = "\n".join(value)
            else:
                data[name] = "" if key == "password" else str(value)
    data.update(changes)
    return data


def field_html(page: str, name: str) -> str:
    chunks = [c for c in page.split('<div class="field ')[1:] if f'name="{name}"' in c]
    assert len(chunks) == 1, name
    return chunks[0]


def notification(**values) -> Notification:
    row = Notification(**{"call_key": "call-1", "channel": "mail", "target": "user:1",
                          "party_key": "+49301110001", "rang_at": AT, "state": "pending",
                          "due_at": AT, "created_at": AT, **values})
    db.session.add(row)
    db.session.commit()
    return row


def test_agents_get_403(client, people):
    login(client, "anna")
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=form_data(**{"notifications-recipients": "all"})
                       ).status_code == 403
    assert client.post(TEST_MAIL, data={"test-to": "x@example.org"}).status_code == 403
    assert stored("notifications")["recipients"] == "none"


def test_needs_a_login(client, people):
    response = client.get(URL)
    assert response.status_code == 302 and "/callback/login" in response.headers["Location"]


def test_the_form_shows_every_key_in_its_section(client, people):
    login(client, "admin")
    html = client.get(URL).get_data(as_text=True)
    for section, table in (("notifications", NOTIFY_SETTINGS), ("mail", MAIL_SETTINGS)):
        for setting in table:
            assert setting.label in unescape(field_html(html, f"{section}-{setting.key}"))
    smtp = re.search(r'<fieldset[^>]*id="notify-smtp".*?</fieldset>', html, re.S).group(0)
    assert "Mail server (SMTP)" in smtp and 'name="mail-host"' in smtp
    assert 'name="notifications-host"' not in html
    for title in ("Recipients", "Mail content", "Exceptions", "Sending", "Webhooks"):
        assert f"<legend>{title}</legend>" in html
    assert "<textarea" in field_html(html, "notifications-excluded_numbers")
    nav = re.search(r'<nav class="topnav".*?</nav>', html, re.S).group(0)
    assert f'<a href="{URL}" aria-current="page">Notifications</a>' in nav


def test_saving_stores_every_value_and_logs_the_change(client, people, caplog):
    caplog.set_level(logging.INFO, logger="callback.admin")
    login(client, "admin")
    response = client.post(URL, data=form_data(**{
        "notifications-recipients": "all", "notifications-link_prefix": "sip:",
        "notifications-excluded_numbers": "030 1110009\r\n\r\n209\n",
        "notifications-hold_seconds": "30", "notifications-skip_internal": "",
        "mail-host": "mail.example.org", "mail-port": "465", "mail-security": "tls",
        "mail-username": "callback", "mail-password": PASSWORD,
        "mail-sender": "callback@example.org"}))
    assert response.status_code == 302 and response.headers["Location"] == URL
    notify, mail = stored("notifications"), stored("mail")
    assert (notify["recipients"], notify["link_prefix"], notify["hold_seconds"]) == (
        "all", "sip:", 30)
    assert notify["excluded_numbers"] == ["0301110009", "209"]
    assert notify["skip_internal"] is False
    assert (mail["host"], mail["port"], mail["security"], mail["password"]) == (
        "mail.example.org", 465, "tls", PASSWORD)
    assert "Notification settings saved." in client.get(URL).get_data(as_text=True)
    assert "notifications.recipients 'none' -> 'all'" in caplog.text
    assert "mail.password changed" in caplog.text and PASSWORD not in caplog.text


@pytest.mark.parametrize(("name", "value", "message"), [
    ("notifications-hold_seconds", "soon",
     "notifications.hold_seconds: must be a whole number, not 'soon'"),
    ("notifications-hold_seconds", "601",
     "notifications.hold_seconds: must be at most 600, not 601"),
    ("notifications-link_prefix", "verylongscheme:",
     "notifications.link_prefix: The link prefix may have at most 9 characters"),
    ("notifications-link_prefix", "tel", "must end with a colon"),
    ("notifications-excluded_numbers", "209\ndoor",
     "notifications.excluded_numbers: 'door' is not a phone number or extension"),
    ("notifications-recipients", "everyone", "notifications.recipients: must be one of"),
    ("mail-port", "0", "mail.port: must be at least 1, not 0"),
    ("mail-security", "ssl", "mail.security: must be one of none, starttls, tls"),
    ("mail-sender", "nobody", "mail.sender: must be an e-mail address"),
    ("mail-host", "mail example", "mail.host: must be a host name or address"),
], ids=["hold-not-a-number", "hold-too-long", "prefix-too-long", "prefix-no-colon",
        "excluded-not-a-number", "recipients", "port", "security", "sender", "host"])
def test_a_bad_value_is_refused_at_its_field_and_nothing_is_saved(client, people, name,
                                                                   value, message):
    login(client, "admin")
    # A good change and a new password along with the bad value: none of it is kept.
    data = form_data(**{"notifications-recipients": "first", "mail-password": PASSWORD})
    data[name] = value
    response = client.post(URL, data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert str(escape(message)) in field_html(html, name)
    assert 'aria-invalid="true"' in field_html(html, name)
    assert "Nothing was saved" in html
    assert stored("notifications") == defaults("notifications")
    assert stored("mail") == defaults("mail")
    assert PASSWORD not in html  # not even the one just typed comes back


def test_a_mail_server_needs_a_sender(client, people):
    login(client, "admin")
    response = client.post(URL, data=form_data(**{"mail-host": "mail.example.org"}))
    assert response.status_code == 422
    assert "mail.sender: is needed when a mail server is set" in field_html(
        response.get_data(as_text=True), "mail-sender")


def test_the_password_is_never_shown_and_an_empty_one_keeps_it(client, people):
    store("mail", host="mail.example.org", sender="callback@example.org", password=PASSWORD)
    login(client, "admin")
    html = client.get(URL).get_data(as_text=True)
    assert PASSWORD not in html
    password = field_html(html, "mail-password")
    assert 'type="password"' in password and 'value=""' in password
    assert "A password is stored: leave empty to keep it." in password
    response = client.post(URL, data=form_data(**{"mail-port": "2525", "mail-password": ""}))
    assert response.status_code == 302
    assert (stored("mail")["port"], stored("mail")["password"]) == (2525, PASSWORD)
    client.post(URL, data=form_data(**{"mail-password": "a-new-one"}))
    assert stored("mail")["password"] == "a-new-one"


def test_the_test_mail_form_starts_with_the_admins_address(client, people):
    login(client, "admin")
    html = client.get(URL).get_data(as_text=True)
    assert 'value="admin@example.org"' in field_html(html, "test-to")
    assert f'hx-post="{TEST_MAIL}"' in html and 'hx-include="#notify-smtp"' in html


def test_the_test_mail_reaches_a_real_smtp_server(client, people, smtp_server, caplog):
    caplog.set_level(logging.INFO, logger="callback.admin")
    inbox, port = smtp_server()
    store("mail", host="127.0.0.1", port=port, security="none", sender="callback@example.org")
    login(client, "admin")
    response = client.post(TEST_MAIL, data={"test-to": "ops@example.org"}, headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith('<div id="test-mail-status"')
    assert f"Test mail sent to ops@example.org via 127.0.0.1:{port}." in html
    assert "not saved yet" not in html
    [mail] = inbox.messages
    assert mail["To"] == "ops@example.org" and mail["From"] == "callback@example.org"
    assert mail["Subject"] == "Test mail from Callback"
    assert "test mail to ops@example.org by admin sent" in caplog.text


def test_the_test_mail_uses_the_settings_in_the_form_before_they_are_saved(
        client, people, smtp_server):
    inbox, port = smtp_server(authenticator=authenticator, auth_require_tls=False)
    store("mail", host="127.0.0.1", port=port, username="callback", password=PASSWORD,
          sender="old@example.org", timeout=20, security="none")
    login(client, "admin")
    response = client.post(TEST_MAIL, headers=HTMX, data=mail_form(port))
    html = response.get_data(as_text=True)
    assert "Test mail sent to ops@example.org" in html and "not saved yet" in html
    assert len(inbox.messages) == 1  # logged in with the stored password: the same server
    assert inbox.messages[0]["From"] == "callback@example.org"
    assert stored("mail")["sender"] == "old@example.org"  # a test stores nothing


def mail_form(port: int, **changes) -> dict:
    """The test mail's post with the mail server fields, as htmx sends them along."""
    return {"test-to": "ops@example.org", "mail-host": "127.0.0.1", "mail-port": str(port),
            "mail-security": "none", "mail-username": "callback", "mail-password": "",
            "mail-sender": "callback@example.org", "mail-timeout": "5", **changes}


@pytest.fixture
def two_servers(smtp_server):
    """The stored mail server, and another one the admin types in; every login tried at
    either is kept as (port, user, password)."""
    logins = []

    def recording(which: str):
        def check(server, session, envelope, mechanism, auth_data):
            logins.append((which, auth_data.login.decode(), auth_data.password.decode()))
            return authenticator(server, session, envelope, mechanism, auth_data)
        return check

    servers = [smtp_server(authenticator=recording(which), auth_require_tls=False)
               for which in ("stored", "other")]
    store("mail", host="127.0.0.1", port=servers[0][1], username="callback",
          password=PASSWORD, sender="callback@example.org", security="none")
    return servers, logins


@pytest.mark.parametrize("changes", [
    {"mail-port": "other"}, {"mail-host": "localhost"}, {"mail-username": "someone"},
], ids=["port", "host", "user"])
def test_another_server_is_not_sent_the_stored_password(client, people, two_servers, changes):
    (stored_inbox, stored_port), (other_inbox, other_port) = two_servers[0]
    logins = two_servers[1]
    if changes.get("mail-port") == "other":
        changes = {"mail-port": str(other_port)}
    login(client, "admin")
    html = client.post(TEST_MAIL, headers=HTMX,
                       data=mail_form(stored_port, **changes)).get_data(as_text=True)
    assert ("Enter the password again to test another server: the stored one is only sent to "
            "the server it was saved for.") in unescape(html)
    assert 'class="flash flash-error"' in html and "not saved yet" in html
    assert logins == [] and not stored_inbox.messages and not other_inbox.messages
    # Typed in again, it is the one tried there.
    html = client.post(TEST_MAIL, headers=HTMX, data=mail_form(
        stored_port, **changes, **{"mail-password": "typed-in"})).get_data(as_text=True)
    # (smtplib tries its next mechanism after a refused login: a set.)
    assert set(logins) == {
        ("other" if "mail-port" in changes else "stored",
         changes.get("mail-username", "callback"), "typed-in")}
    assert PASSWORD not in html and "typed-in" not in html


def test_another_server_without_a_login_gets_the_test_mail(client, people, two_servers):
    _stored, (other_inbox, other_port) = two_servers[0]
    login(client, "admin")
    html = client.post(TEST_MAIL, headers=HTMX, data=mail_form(
        other_port, **{"mail-username": ""})).get_data(as_text=True)
    assert f"Test mail sent to ops@example.org via 127.0.0.1:{other_port}." in html
    assert len(other_inbox.messages) == 1 and two_servers[1] == []


def test_the_password_hint_says_it_stays_with_its_server(client, people):
    store("mail", host="mail.example.org", sender="callback@example.org", password=PASSWORD)
    login(client, "admin")
    password = field_html(client.get(URL).get_data(as_text=True), "mail-password")
    assert ("A password is stored: leave empty to keep it. A test mail through another server "
            "or as another user needs it typed in again.") in password


def test_a_wrong_login_says_so_without_the_password(client, people, smtp_server):
    inbox, port = smtp_server(authenticator=authenticator, auth_require_tls=False)
    store("mail", host="127.0.0.1", port=port, security="none", sender="callback@example.org",
          username="callback", password="wrong-" + PASSWORD)
    login(client, "admin")
    html = client.post(TEST_MAIL, data={"test-to": "ops@example.org"},
                       headers=HTMX).get_data(as_text=True)
    assert "refused the login of callback" in html and 'class="flash flash-error"' in html
    assert PASSWORD not in html and not inbox.messages


def test_a_refused_port_says_so_in_words(client, people):
    port = free_port()  # nothing listens there
    store("mail", host="127.0.0.1", port=port, security="none", sender="callback@example.org")
    login(client, "admin")
    html = client.post(TEST_MAIL, data={"test-to": "ops@example.org"},
                       headers=HTMX).get_data(as_text=True)
    assert (f"The mail server 127.0.0.1:{port} refused the connection: is it running, and are "
            "the host and port right?") in html


def test_without_a_mail_server_or_address_the_test_says_what_is_missing(client, people):
    login(client, "admin")
    html = client.post(TEST_MAIL, data={"test-to": "ops@example.org"},
                       headers=HTMX).get_data(as_text=True)
    assert "Enter the SMTP server and the sender address first." in html
    response = client.post(TEST_MAIL, data={"test-to": "not-an-address"})
    assert response.status_code == 422  # without htmx: the whole page, the error at the field
    page = response.get_data(as_text=True)
    assert "Not an e-mail address." in field_html(page, "test-to")
    assert "Enter the e-mail address the test mail should go to." in page
    assert 'name="notifications-recipients"' in page


def test_recent_notifications_show_what_went_out_was_skipped_or_failed(client, people):
    anna = db.session.scalars(select(User).where(User.username == "anna")).one()
    support = db.session.scalars(select(Group).where(Group.name == "support")).one()
    skipped = notification(target=f"user:{anna.id}", user_id=anna.id, group_id=support.id,
                           state="skipped", rule="withheld", done_at=AT)
    failed = notification(call_key="call-2", channel="webhook", target=f"group:{support.id}",
                          group_id=support.id, state="failed", tries=10, done_at=AT,
                          last_error="chat.example.org answered HTTP 500 <oops>")
    waiting = notification(call_key="call-3", target=f"user:{anna.id}", user_id=anna.id)
    login(client, "admin")
    html = client.get(URL).get_data(as_text=True)
    row = re.search(rf'<tr id="notification-{skipped.id}">.*?</tr>', html, re.S).group(0)
    assert "Anna Agent" in row and "support" in row and "E-mail" in row
    assert "skipped" in row and "the number was withheld" in row
    assert "2026-11-22 12:00:00" in row and "030 1110001" in row
    row = re.search(rf'<tr id="notification-{failed.id}">.*?</tr>', html, re.S).group(0)
    assert "Webhook" in row and "failed" in row and '<td class="num">10</td>' in row
    assert "answered HTTP 500 &lt;oops&gt;" in row
    row = re.search(rf'<tr id="notification-{waiting.id}">.*?</tr>', html, re.S).group(0)
    assert "waiting" in row and "due" in row


@pytest.mark.parametrize("field, value", [("mail-host", "mail.elsewhere.example"),
                                          ("mail-port", "2526"), ("mail-username", "mallory"),
                                          ("mail-security", "none")])
def test_saving_another_server_needs_the_password_again(client, people, field, value):
    """The next real mail would hand the stored password to the new server (or, with
    security off, send it in clear): saving that without typing it again is refused."""
    store("mail", host="127.0.0.1", port=2525, username="callback", password=PASSWORD,
          sender="callback@example.org", security="starttls")
    login(client, "admin")
    data = form_data(**{field: value})
    response = client.post(URL, data=data)
    assert response.status_code == 422
    assert "Enter the password again" in unescape(response.get_data(as_text=True))
    assert stored("mail")["host"] == "127.0.0.1" and stored("mail")["port"] == 2525
    data["mail-password"] = "a-new-one"
    assert client.post(URL, data=data).status_code == 302
    assert stored("mail")["password"] == "a-new-one"
