"""The admin settings form: every key, the settings file's checks and messages, admins only."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from sqlalchemy import select

from callback_module import logs
from callback_module.extensions import db
from callback_module.file_import import import_files
from callback_module.models import Entry, Group, Settings
from callback_module.settings_schema import SETTINGS, SettingsError, check_value

from conftest import FIXTURES, add_fixture_profile

URL = "/callback/admin/settings"


@pytest.fixture
def people(app):
    add_fixture_profile(1)
    yield
    logs.set_level("INFO")  # the logger is the process's: leave it as it was


def login(client, username: str) -> None:
    response = client.post("/callback/login",
                           data={"username": username, "password": f"{username}-pw"})
    assert response.status_code == 302


def form_data(**changes) -> dict:
    """The form as the browser sends it: the stored values, with ``changes``."""
    values = Settings.load().as_dict()
    values.update(changes)
    data = {}
    for key, value in values.items():
        if isinstance(value, bool):
            if value:
                data[key] = "y"  # an unticked checkbox is simply not sent
        elif isinstance(value, list):
            data[key] = value
        else:
            data[key] = str(value)
    return data


def field_html(page: str, key: str) -> str:
    """The markup of one field, up to where the next field starts."""
    chunks = [c for c in page.split('<div class="field ')[1:] if f'name="{key}"' in c]
    assert len(chunks) == 1, key
    return chunks[0]


def test_needs_a_login(client, people):
    response = client.get(URL)
    assert response.status_code == 302 and "/callback/login" in response.headers["Location"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_agents_get_403(client, people, method):
    login(client, "anna")
    before = Settings.load().as_dict()
    response = getattr(client, method)(URL, data=form_data(poll_interval=99)
                                       if method == "post" else None)
    assert response.status_code == 403
    db.session.expire_all()
    assert Settings.load().as_dict() == before


def test_agents_see_no_settings_link(client, people):
    login(client, "anna")
    assert URL not in client.get("/callback/").get_data(as_text=True)


def test_form_has_every_setting_named_like_its_key(client, people):
    login(client, "admin")
    page = client.get(URL).get_data(as_text=True)
    for setting in SETTINGS:
        assert f'name="{setting.key}"' in page, setting.key
    assert page.count('name="group_types" type="checkbox"') == 3
    assert "<select" in field_html(page, "period") and "<select" in field_html(page, "log_level")
    timezone = field_html(page, "timezone")
    assert 'type="text"' in timezone and 'value="UTC"' in timezone
    assert 'list="timezone-options"' in timezone and '<option value="Europe/Berlin">' in page


def test_shows_the_favourite_url(client, people):
    login(client, "admin")
    page = client.get(URL).get_data(as_text=True)
    assert 'value="http://localhost/callback/"' in page


def test_saves_valid_values(client, people):
    login(client, "admin")
    response = client.post(URL, data=form_data(
        poll_interval=30, period="TODAY", skip_sundays=True, group_types=["queue", "hunt"],
        timezone="Europe/Berlin", default_region="at", log_level="DEBUG",
        outside_line_prefix="0", description="Support and sales, Berlin office"))
    assert response.status_code == 302 and response.headers["Location"] == URL
    db.session.expire_all()
    saved = Settings.load()
    assert (saved.poll_interval, saved.period, saved.skip_sundays) == (30, "TODAY", True)
    assert saved.group_types == ["queue", "hunt"]
    assert (saved.timezone, saved.default_region) == ("Europe/Berlin", "AT")
    assert (saved.outside_line_prefix, saved.log_level) == ("0", "DEBUG")
    assert saved.description == "Support and sales, Berlin office"
    assert logging.getLogger("callback").level == logging.DEBUG
    assert "Settings saved." in client.get(URL).get_data(as_text=True)


def test_unticking_a_checkbox_saves_false(client, people):
    login(client, "admin")
    assert Settings.load().mailbox_unanswered is True
    client.post(URL, data=form_data(mailbox_unanswered=False))
    db.session.expire_all()
    assert Settings.load().mailbox_unanswered is False


def test_saving_rebuilds_the_entries(client, people):
    import_files([FIXTURES / "runA_unanswered_yes" / "cdr-csv" / "Master.csv"], ZoneInfo("UTC"))
    sales = select(Entry).join(Group).where(Group.name == "sales")
    assert len(db.session.scalars(sales).all()) == 3
    login(client, "admin")
    client.post(URL, data=form_data(group_types=["queue", "hunt"]))
    db.session.expire_all()
    assert db.session.scalars(sales).all() == []


def message(key: str, value) -> str:
    with pytest.raises(SettingsError) as caught:
        check_value(key, value)
    return str(escape(str(caught.value)))  # as Jinja escapes it


@pytest.mark.parametrize(("key", "sent", "checked"), [
    ("poll_interval", "0", 0),
    ("poll_interval", "abc", "abc"),
    ("timezone", "Mars/Base", "Mars/Base"),
    ("period", "FOREVER", "FOREVER"),
    ("default_region", "XX", "XX"),
    ("outside_line_prefix", "9x", "9x"),
    ("not_reached_limit", "101", 101),
    ("group_types", [], []),
], ids=lambda v: str(v))
def test_bad_value_shows_the_keys_message_and_saves_nothing(client, people, key, sent, checked):
    login(client, "admin")
    before = Settings.load().as_dict()
    response = client.post(URL, data=form_data(**{key: sent}, description="not saved either"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    expected = message(key, checked)
    assert expected.startswith(f"{key}: ")
    assert expected in field_html(page, key)  # next to its own field
    assert page.count('class="field-error"') == 1
    assert "Nothing was saved" in page
    db.session.expire_all()
    assert Settings.load().as_dict() == before


def test_several_bad_values_are_all_shown(client, people):
    login(client, "admin")
    page = client.post(URL, data=form_data(poll_interval="0", timezone="Mars/Base")
                       ).get_data(as_text=True)
    assert "poll_interval: must be at least 1, not 0" in field_html(page, "poll_interval")
    assert "timezone: &#39;Mars/Base&#39; is not an IANA time zone" in field_html(page, "timezone")
    assert 'aria-invalid="true"' in field_html(page, "timezone")
