"""German and English: the user's language or the browser's, the catalog, and the text that the
pure modules (rules, settings, connectors) make in English and the pages show translated."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import Babel, force_locale, gettext, refresh
from sqlalchemy import select

import callback_module
from callback_module import PACKAGE_DIR
from callback_module.extensions import db
from callback_module.file_import import import_files
from callback_module.i18n import N_
from callback_module.language import closed_reason, translate
from callback_module.models import Entry, Group, User
from callback_module.rules.reasons import reason
from callback_module.views import lists as lists_view

from conftest import FIXTURES, add_fixture_profile

ROOT = Path(__file__).resolve().parents[1]
CATALOG = PACKAGE_DIR / "translations" / "de" / "LC_MESSAGES"
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}


class FreshLocaleClient(FlaskClient):
    """Each request works out its language anew, as on a server: the tests' app context
    outlives the requests, and Flask-Babel keeps the locale in it."""

    def open(self, *args, **kwargs):
        refresh()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshLocaleClient
    return app.test_client()


@pytest.fixture
def run_a(app, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    add_fixture_profile(1)
    report = import_files([FIXTURES / "runA_unanswered_yes" / "cdr-csv" / "Master.csv"],
                          ZoneInfo("UTC"))
    assert not report.failed, report.messages


def login(client, username: str, **headers) -> None:
    response = client.post("/callback/login", headers=headers,
                           data={"username": username, "password": f"{username}-pw"})
    assert response.status_code == 302


def get(client, url: str, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.username == username)).one()


def set_language(username: str, language: str) -> None:
    user(username).language = language
    db.session.commit()


# The pages

def test_a_german_browser_sees_the_lists_in_german(client, run_a):
    login(client, "anna", **GERMAN)
    html = get(client, "/callback/", **GERMAN)
    assert '<html lang="de"' in html
    assert "<h1>Verpasste Anrufe</h1>" in html
    for tab in ("Offen", "Versuche", "Erledigt", "Nicht erreicht"):
        assert f'<span class="tab-label">{tab}</span>' in html
    assert "Übernehmen" in html and "Zeitleiste" in html and "Abmelden" in html
    assert "Anrufe der letzten 7 Tage" in html and "Gruppen: support" in html
    assert "Missed calls" not in html and ">Claim<" not in html


def test_an_english_browser_sees_english(client, run_a):
    login(client, "anna")
    html = get(client, "/callback/", **{"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en"' in html and "<h1>Missed calls</h1>" in html


def test_the_users_language_wins_over_the_browsers(client, run_a):
    set_language("anna", "en")
    login(client, "anna", **GERMAN)
    html = get(client, "/callback/", **GERMAN)
    assert '<html lang="en"' in html and "<h1>Missed calls</h1>" in html
    assert "Verpasste Anrufe" not in html
    set_language("anna", "de")
    html = get(client, "/callback/", **{"Accept-Language": "en"})
    assert '<html lang="de"' in html and "<h1>Verpasste Anrufe</h1>" in html


def test_the_login_page_follows_the_browser(client, app):
    html = get(client, "/callback/login", **GERMAN)
    assert "<h1>Anmelden</h1>" in html and "Benutzername" in html and "Angemeldet bleiben" in html


def test_closed_reasons_show_in_german_and_the_api_keeps_english(client, run_a):
    login(client, "anna", **GERMAN)
    done = get(client, "/callback/?tab=done", **GERMAN)
    assert '<span class="reason">erreicht von 202</span>' in done
    assert "reached by 202" not in done
    target = db.session.scalars(select(Entry).join(Group).where(
        Group.name == "support", Entry.number_e164 == "+49301110001")).one()
    timeline = get(client, f"/callback/entries/{target.id}/timeline", **GERMAN)
    assert "Automatisch geschlossen (Erledigt): erreicht von 202" in timeline
    api = client.get("/callback/api/entries?state=done&period=all", headers=GERMAN).get_json()
    assert "reached by 202" in {e["closed_reason"] for e in api}


def test_a_closing_by_hand_shows_in_german(client, run_a):
    set_language("anna", "de")
    login(client, "anna")
    target = db.session.scalars(select(Entry).join(Group).where(
        Group.name == "support", Entry.state == "open",
        Entry.number_e164.is_not(None))).first()
    response = client.post(f"/callback/entries/{target.id}/done", data={"tab": "open"},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "Verschoben nach „Erledigt“" in html and "Wiedereröffnen" in html
    assert "als erledigt markiert von Anna Agent" in get(client, "/callback/?tab=done")
    assert db.session.get(Entry, target.id).closed_reason == "marked done by Anna Agent"


@pytest.mark.parametrize(("stored", "german"), [
    (reason("answered", who="201"), "angenommen von 201"),
    (reason("answered_in", who="201", group="support"), "angenommen von 201 in support"),
    (reason("voicemail_in", group="support"), "in support von der Mailbox angenommen"),
    (reason("wrong_number", who="202"), "falsche Nummer (laut 202)"),
    (reason("expired"), "abgelaufen"),
    (reason("not_reached", num=1), "nach 1 Versuch nicht erreicht"),
    (reason("not_reached", num=3), "nach 3 Versuchen nicht erreicht"),
    ("closed by an older version", "closed by an older version"),
    (None, ""),
])
def test_every_stored_reason_reads_in_german(app, stored, german):
    with app.test_request_context(), force_locale("de"):
        assert closed_reason(stored) == german


def test_english_pages_count_attempts_right(app):
    with app.test_request_context(), force_locale("en"):
        assert closed_reason("not reached after 1 attempts") == "not reached after 1 attempt"


def test_the_connectors_words_are_translated(app):
    message = N_("The demo PBX rings %(extension)s, then dials %(number)s.", extension="201",
                 number="0301110017")
    assert message == "The demo PBX rings 201, then dials 0301110017."  # the log's, the API's
    with app.test_request_context(), force_locale("de"):
        assert translate(message) == ("Die Demo-Telefonanlage ruft 201 an und wählt dann "
                                      "0301110017.")
        nested = N_("%(label)s cannot place calls.", label=N_("Demo PBX (simulated Asterisk)"))
        assert translate(nested) == ("Demo-Telefonanlage (simuliertes Asterisk) kann keine "
                                     "Anrufe einleiten.")
        assert translate("plain text stays") == "plain text stays"


# The settings form

def test_settings_form_in_german_with_a_german_message(client, run_a):
    set_language("admin", "de")
    login(client, "admin")
    html = get(client, "/callback/admin/settings")
    assert "<h1>Einstellungen</h1>" in html and "<legend>Allgemein</legend>" in html
    assert "Abfrageintervall (s)" in html and "Einstellungen speichern" in html
    assert '<option selected value="LAST_7_DAYS">Die letzten 7 Tage</option>' in html
    form = {"poll_interval": "0", "period": "LAST_7_DAYS", "group_types": ["queue"],
            "log_level": "INFO", "timezone": "UTC", "default_region": "DE",
            "min_inbound_talk": "0", "min_outbound_duration": "0", "not_reached_limit": "3",
            "max_entries_per_group": "0", "retention_days": "90"}
    response = client.post("/callback/admin/settings", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "poll_interval: muss mindestens 1 sein, nicht 0" in html
    assert "Es wurde nichts gespeichert" in html


# The language switch in the view toolbar

def test_the_toolbar_switches_the_language_and_keeps_it(client, run_a):
    login(client, "anna", **GERMAN)
    html = get(client, "/callback/", **GERMAN)
    assert re.search(r'<select id="view-language" name="language"[^>]*>\s*'
                     r'<option value="" selected>Sprache des Browsers</option>', html)
    response = client.post("/callback/view", headers=GERMAN,
                           data={"language": "en", "tab": "done", "page": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/callback/?tab=done&page=1")
    assert user("anna").language == "en"
    html = get(client, "/callback/?tab=done", **GERMAN)
    assert '<html lang="en"' in html and "reached by 202" in html
    assert '<option value="en" selected>English</option>' in html
    client.post("/callback/logout", headers=GERMAN)
    login(client, "anna", **GERMAN)
    assert "<h1>Missed calls</h1>" in get(client, "/callback/", **GERMAN)
    client.post("/callback/view", data={"language": ""}, headers=GERMAN)
    assert user("anna").language == ""
    assert "<h1>Verpasste Anrufe</h1>" in get(client, "/callback/", **GERMAN)


def test_a_switch_by_htmx_reloads_the_whole_page(client, run_a):
    login(client, "anna")
    response = client.post("/callback/view", data={"language": "de"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Refresh"] == "true"
    assert user("anna").language == "de"


@pytest.mark.parametrize("value", ["fr", "DE", "de-AT", "english"])
def test_an_unknown_language_is_refused(client, run_a, value):
    set_language("anna", "de")
    login(client, "anna")
    response = client.post("/callback/view", data={"language": value})
    assert response.status_code == 400 and "Unbekannte Sprache" in response.get_data(as_text=True)
    assert user("anna").language == "de"


# The catalog

def extracted_ids() -> set:
    """What `make translations` extracts from the sources now (babel.cfg, the Makefile's -k)."""
    mapping, options = parse_mapping_cfg(io.StringIO((ROOT / "babel.cfg").read_text()))
    makefile = (ROOT / "Makefile").read_text()
    extra = re.search(r"^BABEL_KEYWORDS := (.*)$", makefile, re.M).group(1).split("-k")
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords([k.strip() for k in extra if k.strip()])}
    return {message[2] if isinstance(message[2], str) else tuple(message[2])
            for message in extract_from_dir(ROOT, mapping, options, keywords=keywords)}


def test_the_german_catalog_is_complete_and_compiled():
    with (CATALOG / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="de")
    by_id = {m.id if isinstance(m.id, str) else tuple(m.id): m for m in catalog if m.id}
    sources = extracted_ids()
    assert sorted(map(str, sources - set(by_id))) == [], "run `make translations`"
    assert sorted(map(str, set(by_id) - sources)) == [], "run `make translations`: stale text"
    untranslated = [m.id for m in by_id.values() if m.fuzzy or not (
        m.string if isinstance(m.string, str) else all(m.string))]
    assert untranslated == [], "translate these in messages.po"
    assert [(m.id, errors) for m, errors in catalog.check()] == []
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert (CATALOG / "messages.mo").read_bytes() == compiled.getvalue(), \
        "messages.mo is older than messages.po: run `make translations`"


# A host app

def test_a_host_app_keeps_its_own_catalogs(tmp_path):
    host = Flask("host", instance_path=str(tmp_path / "instance"))
    host.config.update(SECRET_KEY="test", SQLALCHEMY_DATABASE_URI="sqlite://",
                       CALLBACK_LOG_FILE=str(tmp_path / "callback.log"),
                       BABEL_TRANSLATION_DIRECTORIES="translations;/srv/host/i18n")
    Babel(host)  # the host set up Flask-Babel before it mounted the module
    callback_module.init_app(host)
    ours = str(PACKAGE_DIR / "translations")
    assert host.config["BABEL_TRANSLATION_DIRECTORIES"] == f"translations;/srv/host/i18n;{ours}"
    directories = host.extensions["babel"].translation_directories
    assert directories[-1] == ours and "/srv/host/i18n" in directories
    with host.test_request_context(), force_locale("de"):
        assert gettext("Missed calls") == "Verpasste Anrufe"


def test_the_standalone_app_names_its_catalog_once(app):
    # Flask-Babel's default, "translations" beside the app, is the package's own directory here.
    assert app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations") == "translations"
    assert app.extensions["babel"].translation_directories == [
        str(PACKAGE_DIR / "translations")]
