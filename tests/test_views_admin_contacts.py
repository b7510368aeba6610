"""The address book page: upload, the report in words, the list and its search, delete all."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import func, select

from callback_module.extensions import db
from callback_module.models import Contact
from callback_module.views import admin_contacts
from callback_module.views import lists as lists_view

from conftest import add_fixture_profile, login_with_csrf, make_app
from test_views_lists import NOON, entry, import_run_a, login, row

DATA = Path(__file__).resolve().parent / "data" / "contacts"
URL = "/callback/admin/contacts"
IMPORT_URL = URL + "/import"


@pytest.fixture
def people(app):
    add_fixture_profile(1)


def upload(client, name: str, data: bytes | None = None, **fields):
    content = data if data is not None else (DATA / name).read_bytes()
    return client.post(IMPORT_URL, data={"file": (io.BytesIO(content), name), **fields},
                       content_type="multipart/form-data")


def contacts() -> int:
    return db.session.scalar(select(func.count()).select_from(Contact))


def test_needs_a_login(client, people):
    response = client.get(URL)
    assert response.status_code == 302 and "/callback/login" in response.headers["Location"]


@pytest.mark.parametrize("method, url", [("get", URL), ("post", IMPORT_URL),
                                         ("post", URL + "/delete")])
def test_agents_get_403(client, people, method, url):
    login(client, "anna")
    data = {"file": (io.BytesIO(b"Name,Phone\nX,0301110001\n"), "x.csv")}
    response = getattr(client, method)(url, data=data if method == "post" else None)
    assert response.status_code == 403 and contacts() == 0


def test_admins_find_the_page_in_the_top_bar(client, people):
    login(client, "admin")
    page = client.get(URL).get_data(as_text=True)
    assert f'href="{URL}" aria-current="page"' in page
    assert "The address book is empty" in page
    assert 'enctype="multipart/form-data"' in page


def test_upload_shows_the_report_and_the_contacts(client, people):
    login(client, "admin")
    response = upload(client, "outlook_de.csv")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    report = re.search(r'<section class="card" id="contacts-report".*?</section>', page, re.S)
    text = " ".join(re.sub(r"<[^>]+>", " ", report.group(0)).split())
    assert "Imported from outlook_de.csv" in text and "3 contacts added" in text
    assert "1 card or row was skipped" in text
    assert "outlook_de.csv, line 4: 21 fields where the header has 19" in text
    joerg = db.session.scalars(select(Contact).where(Contact.name == "Jörg Weiß")).one()
    html = re.search(rf'<tr id="contact-{joerg.id}">.*?</tr>', page, re.S).group(0)
    assert "Weiß &amp; Söhne" in html and "joerg.weiss@example.de" in html
    assert "0172 1112223" in html and "(mobile)" in html  # national form: the home region


def test_uploading_twice_updates_and_never_doubles(client, people):
    login(client, "admin")
    upload(client, "apple_30.vcf")
    page = upload(client, "apple_30.vcf").get_data(as_text=True)
    assert "2 contacts unchanged" in page and contacts() == 2


def test_a_broken_card_is_told_in_words(client, people):
    login(client, "admin")
    page = upload(client, "broken.vcf").get_data(as_text=True)
    assert "broken.vcf, line 9: card 2 is not readable" in page
    assert "broken.vcf, line 16: card 4 has no END:VCARD" in page
    assert contacts() == 2


@pytest.mark.parametrize("name, data, status, message", [
    ("photo.jpg", b"\xff\xd8", 422, "Only vCard (.vcf) and CSV files can be read."),
    ("", b"", 422, "Choose a .vcf or .csv file."),
    ("nothing.csv", b"foo;bar\n1;2\n", 422, "names no name or phone column"),
], ids=["not-an-address-book", "no-file", "no-header"])
def test_what_cannot_be_imported(client, people, name, data, status, message):
    login(client, "admin")
    response = upload(client, name, data)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert contacts() == 0


def test_a_file_over_the_limit_is_refused(client, people, monkeypatch):
    monkeypatch.setattr(admin_contacts, "MAX_UPLOAD_MB", 0)
    login(client, "admin")
    response = upload(client, "big.vcf", b"BEGIN:VCARD\r\n" + b"x" * 70_000)
    assert response.status_code == 413
    assert "The file is larger than 0 MB." in response.get_data(as_text=True)
    assert contacts() == 0


def test_search_and_pages(client, people, monkeypatch):
    monkeypatch.setattr(admin_contacts, "PER_PAGE", 2)
    login(client, "admin")
    upload(client, "google.csv")
    first = client.get(URL).get_data(as_text=True)
    assert "Page 1 of 2 · 4 contacts" in first and "Bernd Brot" in first
    assert "Zoë Ünal" in client.get(URL + "?page=2").get_data(as_text=True)
    found = client.get(URL + "?q=0157 5550040", headers={"HX-Request": "true"})
    html = found.get_data(as_text=True)
    assert html.startswith('<section class="card card-flush" id="contacts">')
    assert "Zoë Ünal" in html and "Bernd Brot" not in html
    assert "No contact matches" in client.get(URL + "?q=nobody").get_data(as_text=True)


def test_delete_all_asks_first(client, people):
    login(client, "admin")
    upload(client, "v40.vcf")
    assert "Delete all 1 contacts?" in client.get(URL + "/delete").get_data(as_text=True)
    assert contacts() == 1
    response = client.post(URL + "/delete", follow_redirects=True)
    assert "The address book is empty now (1 contacts deleted)." in response.get_data(
        as_text=True)
    assert contacts() == 0


def test_the_list_shows_the_contacts_name_for_a_caller(client, people, monkeypatch):
    monkeypatch.setattr(lists_view, "_now", lambda: NOON)
    import_run_a()
    login(client, "admin")
    upload(client, "outlook_de.csv")
    login(client, "anna")
    support = entry("support", "+49301110003")
    assert support.name == "Grete Groß"
    html = client.get("/callback/?tab=done").get_data(as_text=True)
    assert "Grete Groß" in row(html, support.id)


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


def test_uploading_needs_the_csrf_token(csrf_client):
    login_with_csrf(csrf_client, "admin")
    # The test's one app context outlives the requests; a browser's next request starts clean.
    g.pop("csrf_valid", None)
    assert upload(csrf_client, "v40.vcf").status_code == 400 and contacts() == 0
    page = csrf_client.get(URL).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert upload(csrf_client, "v40.vcf", csrf_token=token).status_code == 200
    assert contacts() == 1
    assert csrf_client.post(URL + "/delete").status_code == 400 and contacts() == 1
