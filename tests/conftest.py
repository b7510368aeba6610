"""Shared fixtures: a fresh app and database per test, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from callback_module import create_app
from callback_module.extensions import db
from callback_module.models import Group, Settings, User

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "asterisk"
if not FIXTURES.is_dir():  # a clone elsewhere: shared/ next to the project root
    FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "asterisk"
DATA = Path(__file__).resolve().parent / "data"
PG_ADMIN_URL = os.environ.get("CALLBACK_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def service_missing(what: str, error: Exception) -> None:
    """Skip on a machine without the service; under CI a missing service is a failure."""
    message = f"{what} is not reachable: {str(error).splitlines()[0]}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _no_ami_listener_outlives_its_test():
    """A listener left running would reconnect to whatever server next gets its port."""
    yield
    from callback_module.connectors.ami import connector as ami_connector

    for listener in list(ami_connector._listeners.values()):
        listener.stop(timeout=2)
    ami_connector._listeners.clear()


@pytest.fixture(scope="session")
def pg_database():
    """A PostgreSQL database of this test run's own, dropped at the end."""
    name = f"callback_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        service_missing("PostgreSQL on 127.0.0.1:5432", exc)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_app(tmp_path: Path, database_url: str, **config):
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "CALLBACK_LOG_FILE": str(tmp_path / "callback.log"),
    }
    settings.update(config)
    # The tests' own instance folder: the demo PBX writes its files there.
    return create_app(settings, instance_path=str(tmp_path / "instance"))


@pytest.fixture
def app(tmp_path):
    """An app on a fresh in-memory SQLite database with the schema created."""
    app = make_app(tmp_path, "sqlite://")
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_app(request, tmp_path):
    """The same test on SQLite (a file, as in production) and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_database")
    app = make_app(tmp_path, url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def login_with_csrf(client, username: str) -> None:
    """Log in as a browser does when CSRF protection is on: the token from the login form."""
    page = client.get("/callback/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/callback/login", data={"username": username,
                                                     "password": f"{username}-pw",
                                                     "csrf_token": token})
    assert response.status_code == 302, response.status_code


def add_fixture_profile(profile: int = 1, **settings) -> None:
    """The groups and users of fixtures/asterisk/EXPECTED.md, and profile 1 or 2's settings."""
    values = {"timezone": "UTC", "default_region": "DE", "period": "LAST_7_DAYS"}
    if profile == 2:
        values.update(resolve_other_groups=True, resolve_users=True,
                      count_non_member_attempts=True, show_internal=True,
                      mailbox_unanswered=False)
    values.update(settings)
    Settings.load().update(values)
    groups = {
        "support": Group(name="support", type="queue", pbx_id="support"),
        "sales": Group(name="sales", type="ringall", pbx_id="4930555200"),
        "hotline": Group(name="hotline", type="hunt", pbx_id="4930555300"),
    }
    groups["support"].set_extensions(["201", "202"])
    groups["sales"].set_extensions(["203", "204"])
    groups["hotline"].set_extensions(["203", "204"])
    db.session.add_all(groups.values())
    people = [("anna", "Anna Agent", "201", ["support"]), ("ben", "Ben Agent", "202", ["support"]),
              ("clara", "Clara Agent", "203", ["sales", "hotline"]),
              ("dave", "Dave Agent", "204", ["sales", "hotline"]),
              ("eva", "Eva NoGroup", "210", [])]
    for username, name, extension, member_of in people:
        user = User(username=username, name=name, extension=extension, role="agent",
                    groups=[groups[g] for g in member_of])
        user.set_password(f"{username}-pw")
        db.session.add(user)
    admin = User(username="admin", name="Admin", role="admin")
    admin.set_password("admin-pw")
    db.session.add(admin)
    db.session.commit()
