"""The PBX connector's admin page: type and settings, secrets never shown, the connection test."""

from __future__ import annotations

import html
import logging
import re
import socket
import uuid
from datetime import UTC, datetime

import pytest
from flask_babel import refresh
from pbx_database import MYSQL_ADMIN_URL, free_port
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from callback_module.connectors.registry import connector_names, get_connector_class
from callback_module.extensions import db
from callback_module.models import ConnectorConfig, Cursor, User

from conftest import add_fixture_profile, login_with_csrf, make_app, service_missing

URL = "/callback/admin/connector"
TEST_URL = "/callback/admin/connector/test"
HTMX = {"HX-Request": "true"}
AMI_SECRET = "s3cret-AMI-9"


@pytest.fixture
def people(app):
    add_fixture_profile(1)


def login(client, username: str) -> None:
    response = client.post("/callback/login",
                           data={"username": username, "password": f"{username}-pw"})
    assert response.status_code == 302


def stored() -> tuple[str, dict]:
    db.session.expire_all()
    row = ConnectorConfig.load()
    return row.type, dict(row.config or {})


def store(kind: str, **config) -> None:
    row = ConnectorConfig.load()
    row.type, row.config = kind, {k: v for k, v in config.items() if k != "type"}
    db.session.commit()


def ami(**changes) -> dict[str, str]:
    data = {"type": "asterisk_ami", "host": "127.0.0.1", "port": "5038", "username": "callback",
            "secret": AMI_SECRET, "originate_channel": "Local/{extension}@from-internal",
            "originate_context": "from-internal", "cdr_url": ""}
    data.update(changes)
    return data


def field_html(page: str, key: str) -> str:
    """The markup of one field, up to where the next field starts."""
    chunks = [c for c in page.split('<div class="field ')[1:] if f'name="{key}"' in c]
    assert len(chunks) == 1, key
    return chunks[0]


def words(response) -> str:
    """The page's text as read: entities such as &#39; back as characters, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def status_box(response) -> str:
    """The test result's box as it reads: its text, without the markup."""
    found = re.search(r'<div id="connector-status".*?</div>', response.get_data(as_text=True),
                      re.S)
    assert found, response.get_data(as_text=True)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", found.group(0)))).strip()


# Who may see it

def test_needs_a_login(client, people):
    response = client.get(URL)
    assert response.status_code == 302 and "/callback/login" in response.headers["Location"]


def test_agents_get_403_and_change_nothing(client, people):
    login(client, "anna")
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}?type=asterisk_ami", headers=HTMX).status_code == 403
    assert client.post(URL, data=ami()).status_code == 403
    assert client.post(TEST_URL, data=ami()).status_code == 403
    assert stored() == ("demo", {})
    assert URL not in client.get("/callback/").get_data(as_text=True)


def test_the_admin_nav_links_to_it(client, people):
    login(client, "admin")
    page = client.get(URL).get_data(as_text=True)
    nav = re.search(r'<nav class="topnav".*?</nav>', page, re.S).group(0)
    assert f'<a href="{URL}" aria-current="page">PBX connector</a>' in nav


# The form

@pytest.mark.parametrize("kind", connector_names())
def test_the_admin_sees_the_fields_of_each_type(client, people, kind):
    login(client, "admin")
    cls = get_connector_class(kind)
    page = client.get(f"{URL}?type={kind}").get_data(as_text=True)
    assert f'<option selected value="{kind}">{cls.label}</option>' in page
    for spec in cls.fields:
        assert f">{html.escape(spec.label)}</label>" in field_html(page, spec.name)
    # The type select swaps only the fields in (htmx), and clears an old test result.
    fragment = client.get(f"{URL}?type={kind}", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert body.lstrip().startswith('<div id="connector-fields"') and "<html" not in body
    assert all(f'name="{spec.name}"' in body for spec in cls.fields)
    assert '<div id="connector-status" class="connector-status" aria-live="polite" ' \
           'hx-swap-oob="true">' in body


def test_the_page_reads_in_german(client, people):
    db.session.scalars(select(User).where(User.username == "admin")).one().language = "de"
    store("asterisk_ami", **ami())
    login(client, "admin")
    refresh()  # Flask-Babel keeps the locale in the app context, which outlives the requests
    page = client.get(URL).get_data(as_text=True)
    assert "<h1>Anbindung der Telefonanlage</h1>" in page
    assert ">AMI-Passwort</label>" in field_html(page, "secret")
    assert ("Leer lassen, um das gespeicherte Passwort zu behalten; es wird nur mit dem Server "
            "verwendet, für den es gespeichert wurde.") in field_html(page, "secret")
    assert "Verbindung testen" in page and "Anbindung speichern" in page


def test_the_test_button_posts_the_form_by_htmx_or_without_it(client, people):
    login(client, "admin")
    page = client.get(URL).get_data(as_text=True)
    assert f'formaction="{TEST_URL}" hx-post="{TEST_URL}"' in page
    assert 'hx-target="#connector-status"' in page
    assert f'hx-get="{URL}"' in field_html(page, "type")


def test_the_stored_settings_fill_the_form(client, people):
    store("freepbx_cdr", cdr_url="mysql+pymysql://cb@pbx/asteriskcdrdb", lookback_minutes=90)
    login(client, "admin")
    page = client.get(URL).get_data(as_text=True)
    assert '<option selected value="freepbx_cdr">' in page
    assert 'value="mysql+pymysql://cb@pbx/asteriskcdrdb"' in field_html(page, "cdr_url")
    assert 'value="90"' in field_html(page, "lookback_minutes")
    assert 'value="7"' in field_html(page, "backfill_days")  # the connector's default


def test_saving_stores_the_type_and_never_shows_the_secret(client, people, caplog):
    caplog.set_level(logging.INFO, logger="callback.admin")
    login(client, "admin")
    response = client.post(URL, data=ami(port="5039"))
    assert response.status_code == 302 and response.headers["Location"] == URL
    kind, config = stored()
    assert kind == "asterisk_ami"
    assert config["secret"] == AMI_SECRET and config["port"] == 5039
    page = client.get(URL).get_data(as_text=True)
    assert "Connector settings saved." in page
    assert AMI_SECRET not in page
    secret = field_html(page, "secret")
    assert 'type="password" value=""' in secret and "keep the stored secret" in secret
    assert "required" not in secret  # one is stored: leaving it empty is fine now
    assert "connector changed by admin: type demo -> asterisk_ami" in caplog.text
    assert "secret changed" in caplog.text and AMI_SECRET not in caplog.text


def test_an_empty_secret_keeps_the_stored_one_for_the_same_server(client, people):
    store("asterisk_ami", **{**ami(), "port": 5038})
    login(client, "admin")
    # Host, port and user are the AMI's; the backfill database is not where the secret goes.
    response = client.post(URL, data=ami(secret="", host=" 127.0.0.1 ",
                                         originate_context="from-callback",
                                         cdr_url="mysql+pymysql://cb@db.example.org/cdr"))
    assert response.status_code == 302
    config = stored()[1]
    assert config["secret"] == AMI_SECRET and config["originate_context"] == "from-callback"
    page = client.get(URL).get_data(as_text=True)
    assert "Connector settings saved." in page and "was not kept" not in page


@pytest.mark.parametrize("changes", [
    {"host": "pbx.example.org"}, {"port": "5039"}, {"username": "someone"},
], ids=["host", "port", "user"])
def test_another_ami_server_needs_the_secret_again(client, people, changes):
    store("asterisk_ami", **{**ami(), "port": 5038})
    login(client, "admin")
    response = client.post(URL, data=ami(secret="", **changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ("Enter the secret again to use another server: the stored one is only sent to the "
            "server it was saved for.") in words(response)
    assert 'aria-invalid="true"' in field_html(page, "secret")
    assert "Nothing was saved" in page and AMI_SECRET not in page
    assert stored()[1]["secret"] == AMI_SECRET
    assert all(stored()[1][key] != value for key, value in changes.items())
    # Typed in again, it is saved with the new server.
    assert client.post(URL, data=ami(secret="new-" + AMI_SECRET, **changes)).status_code == 302
    assert stored()[1]["secret"] == "new-" + AMI_SECRET


FREEPBX_URL = "mysql+pymysql://cb@pbx/asteriskcdrdb"
DB_PASSWORD = "db-Pw-never-elsewhere"


@pytest.mark.parametrize("cdr_url", [
    "mysql+pymysql://cb@evil.example.org/asteriskcdrdb",
    "mysql+pymysql://cb@pbx:3307/asteriskcdrdb",
    "mysql+pymysql://root@pbx/asteriskcdrdb",
    "postgresql+psycopg://cb@pbx/asteriskcdrdb",
], ids=["host", "port", "user", "driver"])
def test_another_database_server_does_not_get_the_stored_password(client, people, cdr_url):
    store("freepbx_cdr", cdr_url=FREEPBX_URL, password=DB_PASSWORD)
    login(client, "admin")
    response = client.post(URL, data=freepbx(cdr_url))
    # Saved, as the new server may need no password; it says so, and the old one is gone.
    assert response.status_code == 302
    assert stored()[1]["cdr_url"] == cdr_url and stored()[1]["password"] == ""
    page = client.get(URL)
    assert "Connector settings saved." in words(page)
    assert ('<p class="flash flash-warning" role="status">Database password: the stored value '
            'was not kept, as the server changed; enter it again if the new server needs '
            'one.</p>') in words(page)


@pytest.mark.parametrize("cdr_url", [
    FREEPBX_URL, f" {FREEPBX_URL} ",
], ids=["same", "spaces"])
def test_the_same_database_server_keeps_the_stored_password(client, people, cdr_url):
    store("freepbx_cdr", cdr_url=FREEPBX_URL, password=DB_PASSWORD)
    login(client, "admin")
    assert client.post(URL, data=freepbx(cdr_url, table="cdr2")).status_code == 302
    config = stored()[1]
    assert (config["password"], config["table"]) == (DB_PASSWORD, "cdr2")
    assert "was not kept" not in words(client.get(URL))


def test_a_required_secret_is_asked_for_when_none_is_stored(client, people):
    login(client, "admin")
    response = client.post(URL, data=ami(secret=""))
    assert response.status_code == 422
    assert "This field is required." in field_html(response.get_data(as_text=True), "secret")
    assert stored() == ("demo", {})


@pytest.mark.parametrize(("changes", "key", "message"), [
    ({"port": "soon"}, "port", "Not a valid integer value."),
    ({"port": "50.38"}, "port", "Not a valid integer value."),
    ({"host": " "}, "host", "This field is required."),
    ({"type": "asterisk_sip"}, "type", "Not a valid choice."),
], ids=["port-not-a-number", "port-not-whole", "host-empty", "unknown-type"])
def test_bad_input_gives_the_message_at_the_field_and_saves_nothing(client, people, changes,
                                                                     key, message):
    store("demo", seed=3)
    login(client, "admin")
    response = client.post(URL, data=ami(**changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in field_html(page, key) and 'aria-invalid="true"' in field_html(page, key)
    assert "Nothing was saved" in page and AMI_SECRET not in page
    assert stored() == ("demo", {"seed": 3})


def test_an_empty_int_stores_the_default(client, people):
    login(client, "admin")
    assert client.post(URL, data=ami(port="")).status_code == 302
    assert stored()[1]["port"] == 5038


def test_a_password_in_a_url_is_masked_and_kept(client, people):
    store("freepbx_cdr", cdr_url="mysql+pymysql://cb:url-pw-7@pbx/asteriskcdrdb")
    login(client, "admin")
    page = client.get(URL).get_data(as_text=True)
    assert "url-pw-7" not in page
    assert 'value="mysql+pymysql://cb:***@pbx/asteriskcdrdb"' in page
    form = {"type": "freepbx_cdr", "cdr_url": "mysql+pymysql://cb:***@pbx/asteriskcdrdb",
            "password": "", "table": "cdr", "queue_log_table": "queue_log",
            "lookback_minutes": "120", "backfill_days": "3"}
    assert client.post(URL, data=form).status_code == 302
    assert stored()[1]["cdr_url"] == "mysql+pymysql://cb:url-pw-7@pbx/asteriskcdrdb"
    assert stored()[1]["backfill_days"] == 3


def test_saving_leaves_the_cursors_alone(client, people):
    db.session.add(Cursor(name="demo", value={"cdr": 12}, updated_at=datetime.now(UTC)))
    db.session.commit()
    login(client, "admin")
    assert client.post(URL, data=ami()).status_code == 302
    db.session.expire_all()
    assert [(c.name, c.value) for c in db.session.scalars(select(Cursor))] == [
        ("demo", {"cdr": 12})]


@pytest.fixture
def csrf_client(tmp_path):
    app = make_app(tmp_path, "sqlite://", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
        yield app.test_client()
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_saving_needs_the_csrf_token(csrf_client):
    login_with_csrf(csrf_client, "admin")
    assert csrf_client.post(URL, data=ami()).status_code == 400
    assert csrf_client.post(TEST_URL, data=ami(), headers=HTMX).status_code == 400
    assert stored() == ("demo", {})
    page = csrf_client.get(URL).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert csrf_client.post(URL, data=ami(csrf_token=token)).status_code == 302
    assert stored()[0] == "asterisk_ami"


# The connection test

def freepbx(cdr_url: str, **changes) -> dict[str, str]:
    data = {"type": "freepbx_cdr", "cdr_url": cdr_url, "password": "", "table": "cdr",
            "queue_log_table": "queue_log", "lookback_minutes": "120", "backfill_days": "7"}
    data.update(changes)
    return data


@pytest.mark.parametrize(("kind", "said"), [
    ("asterisk_ami", "Cannot use the AMI: connection refused by 127.0.0.1:{port}"),
    ("freepbx_cdr", "Connection refused by 127.0.0.1:{port}: is the database server running"),
])
def test_a_closed_port_is_refused_in_words_and_nothing_is_saved(client, people, kind, said):
    port = free_port()
    login(client, "admin")
    data = ami(port=str(port)) if kind == "asterisk_ami" else freepbx(
        f"mysql+pymysql://callback@127.0.0.1:{port}/asteriskcdrdb")
    response = client.post(TEST_URL, data=data, headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="connector-status"') and "<html" not in body
    assert "Connection failed:" in status_box(response)
    assert said.format(port=port) in status_box(response)
    assert stored() == ("demo", {})


def test_without_htmx_the_test_shows_the_page_with_the_form_as_typed(client, people):
    port = free_port()
    login(client, "admin")
    response = client.post(TEST_URL, data=ami(port=str(port), host="127.0.0.1"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>PBX connector</h1>" in page and f'value="{port}"' in field_html(page, "port")
    assert f"connection refused by 127.0.0.1:{port}" in status_box(response)
    assert AMI_SECRET not in page
    assert stored() == ("demo", {})


def test_the_demo_pbx_always_works(client, people):
    login(client, "admin")
    response = client.post(TEST_URL, data={"type": "demo", "seed": "7", "rate_per_hour": "60",
                                           "backfill_minutes": "0"}, headers=HTMX)
    assert "Connection works: The demo PBX is simulated" in status_box(response)
    assert '<p class="flash flash-success" role="status">' in response.get_data(as_text=True)


def test_a_bad_field_is_shown_at_the_field_before_testing(client, people):
    login(client, "admin")
    response = client.post(TEST_URL, data=ami(port="soon"), headers=HTMX)
    # 200: htmx swaps no 4xx; the fields come along out of band with their errors.
    assert response.status_code == 200
    assert "Correct the marked fields, then test again." in status_box(response)
    body = response.get_data(as_text=True)
    assert '<div id="connector-fields" class="field-grid" hx-swap-oob="true">' in body
    assert "Not a valid integer value." in field_html(body, "port")
    assert client.post(TEST_URL, data=ami(port="soon")).status_code == 422


def test_the_result_is_in_the_admins_language(client, people):
    db.session.scalars(select(User).where(User.username == "admin")).one().language = "de"
    db.session.commit()
    port = free_port()
    login(client, "admin")
    refresh()  # Flask-Babel keeps the locale in the app context, which outlives the requests
    response = client.post(TEST_URL, headers=HTMX, data=freepbx(
        f"mysql+pymysql://callback@127.0.0.1:{port}/asteriskcdrdb"))
    assert f"Verbindung abgelehnt von 127.0.0.1:{port}: Läuft der Datenbankserver" in (
        status_box(response))
    assert "Connection refused" not in status_box(response)


@pytest.fixture
def mariadb_without_cdr():
    """A database with no tables, and a user with a password who may read it; both dropped."""
    name, user = f"callback_conn_{uuid.uuid4().hex[:10]}", f"cbconn_{uuid.uuid4().hex[:8]}"
    admin = create_engine(MYSQL_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as exc:
        admin.dispose()
        service_missing("MariaDB on 127.0.0.1:3306", exc)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'conn-Pw-4'"))
            conn.execute(text(f"GRANT SELECT ON {name}.* TO '{user}'@'%'"))
        yield f"mysql+pymysql://{user}@127.0.0.1:3306/{name}", user
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def test_a_database_without_the_cdr_table_says_so(client, people, mariadb_without_cdr):
    url, _user = mariadb_without_cdr
    login(client, "admin")
    response = client.post(TEST_URL, data=freepbx(url, password="conn-Pw-4"), headers=HTMX)
    assert "Connection failed: No table 'cdr' in the CDR database" in status_box(response)


def test_a_wrong_password_says_so(client, people, mariadb_without_cdr):
    url, user = mariadb_without_cdr
    login(client, "admin")
    response = client.post(TEST_URL, data=freepbx(url, password="not-the-Pw"), headers=HTMX)
    assert (f"Connection failed: Access denied for user '{user}' on 127.0.0.1:3306: wrong "
            "user name or password") in status_box(response)
    assert "not-the-Pw" not in response.get_data(as_text=True)


def test_an_empty_password_is_tested_with_the_stored_one(client, people, mariadb_without_cdr):
    url, _user = mariadb_without_cdr
    login(client, "admin")
    assert client.post(URL, data=freepbx(url, password="conn-Pw-4")).status_code == 302
    response = client.post(TEST_URL, data=freepbx(url), headers=HTMX)
    # Signed in with the stored password: what is missing now is only the table.
    assert "No table 'cdr'" in status_box(response)
    assert "conn-Pw-4" not in response.get_data(as_text=True)


# The connection test sends a stored secret only to the server it was saved for

@pytest.fixture
def tested(monkeypatch):
    """The settings each connection test ran with; the test itself always "works"."""
    from callback_module.connectors.base import Status

    configs = []

    def check_status(self):
        configs.append(dict(self.config))
        return Status(True, "Checked.")

    for kind in ("asterisk_ami", "freepbx_cdr"):
        monkeypatch.setattr(get_connector_class(kind), "check_status", check_status)
    return configs


def test_the_stored_ami_secret_is_tested_with_its_own_server(client, people, tested):
    store("asterisk_ami", **{**ami(), "port": 5038})
    login(client, "admin")
    response = client.post(TEST_URL, headers=HTMX, data=ami(secret="",
                                                            originate_context="x"))
    assert status_box(response) == "Connection works: Checked."
    assert [c["secret"] for c in tested] == [AMI_SECRET]
    assert AMI_SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize("changes", [
    {"host": "pbx.example.org"}, {"port": "5039"}, {"username": "someone"},
], ids=["host", "port", "user"])
def test_another_ami_server_is_not_tested_without_the_secret(client, people, tested, changes):
    store("asterisk_ami", **{**ami(), "port": 5038})
    login(client, "admin")
    response = client.post(TEST_URL, headers=HTMX, data=ami(secret="", **changes))
    assert response.status_code == 200  # htmx swaps no 4xx: the fields come out of band
    assert status_box(response) == "Connection failed: Correct the marked fields, then test again."
    body = response.get_data(as_text=True)
    secret = field_html(body, "secret")
    assert "Enter the secret again to test another server." in secret
    assert 'aria-invalid="true"' in secret and AMI_SECRET not in body
    assert tested == []
    assert client.post(TEST_URL, data=ami(secret="", **changes)).status_code == 422
    # With the secret typed in, the other server is tested with it.
    client.post(TEST_URL, headers=HTMX, data=ami(secret="typed-in", **changes))
    assert [c["secret"] for c in tested] == ["typed-in"]


def test_nothing_connects_to_another_ami_server_with_an_empty_secret(client, people):
    store("asterisk_ami", **{**ami(), "port": 5038})
    login(client, "admin")
    with socket.socket() as other:  # a server the admin typed in: it must hear nothing
        other.bind(("127.0.0.1", 0))
        other.listen()
        other.setblocking(False)
        port = other.getsockname()[1]
        client.post(TEST_URL, headers=HTMX, data=ami(secret="", port=str(port)))
        with pytest.raises(BlockingIOError):
            other.accept()
    assert stored()[1]["port"] == 5038


def test_another_database_server_is_tested_without_the_stored_password(client, people,
                                                                        tested):
    store("freepbx_cdr", cdr_url=FREEPBX_URL, password=DB_PASSWORD)
    login(client, "admin")
    response = client.post(TEST_URL, headers=HTMX,
                           data=freepbx("mysql+pymysql://cb@evil.example.org/asteriskcdrdb"))
    assert status_box(response) == (
        "Connection works: Checked. (Tested without the stored value of Database password: "
        "it belongs to another server.)")
    assert [c["password"] for c in tested] == [""]
    client.post(TEST_URL, headers=HTMX, data=freepbx(FREEPBX_URL, table="cdr2"))
    assert [c["password"] for c in tested] == ["", DB_PASSWORD]
    assert stored()[1] == {"cdr_url": FREEPBX_URL, "password": DB_PASSWORD}
