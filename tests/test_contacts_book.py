"""The address book in the database: imports, look-ups in E.164, names in the lists, vCards."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from callback_module.contacts import book, parse_file
from callback_module.extensions import db
from callback_module.models import Contact, ContactNumber, Entry, Group
from callback_module.numbers import to_e164
from callback_module.signals import entries_changed

from conftest import add_fixture_profile
from test_views_lists import import_run_a

DATA = Path(__file__).resolve().parent / "data" / "contacts"
SAMPLES = ["outlook_21.vcf", "apple_30.vcf", "v40.vcf", "google.csv", "outlook_de.csv"]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def names(group: str) -> dict[str, str]:
    return dict(db.session.execute(select(Entry.number_e164, Entry.name).join(Group).where(
        Group.name == group, Entry.number_e164.is_not(None))).all())


@pytest.fixture
def profile(app):
    add_fixture_profile(1)


def test_importing_the_samples_then_again_changes_nothing(profile):
    report = book.import_contacts([DATA / name for name in SAMPLES])
    assert (report.added, report.updated, report.unchanged) == (12, 0, 0)
    assert report.skipped_numbers == 2  # "Zentrale", "kein Anschluss"
    assert [(p.source, p.line_no) for p in report.problems] == [("outlook_de.csv", 4)]
    assert report.files == SAMPLES and not report.failed
    contacts, numbers = count(Contact), count(ContactNumber)
    again = book.import_contacts([DATA / name for name in SAMPLES])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 12)
    assert (count(Contact), count(ContactNumber)) == (contacts, numbers)


def test_a_changed_file_updates_its_contacts(profile):
    book.import_contacts([io.BytesIO(b"Name,Phone\nMax Muster,030 1110001\n")])
    report = book.import_contacts([io.BytesIO(b"Name,Phone\nMax Muster,030 1110009\n")])
    assert (report.added, report.updated) == (0, 1)
    (contact,) = db.session.scalars(select(Contact))
    assert [n.number_e164 for n in contact.numbers] == ["+49301110009"]
    assert book.lookup("+49301110001") is None


@pytest.mark.parametrize("written", ["0301110003", "+49301110003", "0049301110003",
                                     "030 111 000 3", "+49 (0)30 1110003"])
def test_every_way_of_writing_a_number_finds_one_contact(profile, written):
    book.import_contacts([io.BytesIO(f"Name;Telefon\nGrete Groß;{written}\n".encode())])
    for caller in ("0301110003", "+49301110003", "0049301110003"):
        contact = book.lookup(to_e164(caller, "DE"))
        assert contact is not None and contact.name == "Grete Groß"


def test_lookup_many_is_one_query(profile):
    book.import_contacts([DATA / name for name in SAMPLES])
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found = book.lookup_many(["+49301110001", "+49301110004", "+49301110003", "+1555"])
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 1
    assert {k: c.name for k, c in found.items()} == {
        "+49301110001": "Jürgen Müller", "+49301110004": "Anna Apfel",
        "+49301110003": "Grete Groß"}


def test_an_import_names_the_entries_and_tells_the_lists(profile):
    import_run_a()
    assert names("support")["+49301110001"] == "Mueller"  # the PBX's caller ID
    sent = []
    with entries_changed.connected_to(lambda app, **kw: sent.append(kw)):
        report = book.import_contacts([DATA / "outlook_21.vcf", DATA / "outlook_de.csv"])
    db.session.expire_all()
    assert names("support")["+49301110001"] == "Jürgen Müller"
    assert names("support")["+49301110003"] == names("sales")["+49301110003"] == "Grete Groß"
    assert names("sales")["+49301110007"] == "Petra Schulz"
    renamed = set(db.session.scalars(select(Entry.id).where(Entry.number_e164.in_(
        ["+49301110001", "+49301110003", "+49301110007"]))))
    assert sent == [{"entry_ids": renamed, "source": "import"}] and report.entry_ids == renamed
    with entries_changed.connected_to(lambda app, **kw: sent.append(kw)):
        book.import_contacts([DATA / "outlook_21.vcf"])
    assert len(sent) == 1  # nothing changed, nothing sent


def test_new_entries_take_the_address_books_name_over_the_caller_id(profile):
    book.import_contacts([DATA / "outlook_21.vcf"])
    import_run_a()
    assert names("support")["+49301110001"] == "Jürgen Müller"
    assert names("support")["+49301110017"] == "Kurz2"  # not in the book: as the PBX sent it


def test_emptying_the_book_brings_the_caller_id_back(profile):
    import_run_a()
    book.import_contacts([DATA / "outlook_21.vcf", DATA / "outlook_de.csv"])
    sent = []
    with entries_changed.connected_to(lambda app, **kw: sent.append(kw)):
        assert book.delete_all_contacts() == 5
    db.session.expire_all()
    assert count(Contact) == count(ContactNumber) == 0
    assert names("support")["+49301110001"] == "Mueller"
    assert names("support")["+49301110003"] == "Fischer"
    assert sent and "+49301110001" in {db.session.get(Entry, i).number_e164
                                       for i in sent[0]["entry_ids"]}


@pytest.mark.parametrize("name", SAMPLES)
def test_vcard_of_reads_back_to_the_same_contact(profile, name):
    book.import_contacts([DATA / name])
    for contact in db.session.scalars(select(Contact)):
        text = book.vcard_of(contact)
        assert "VERSION:3.0" in text
        (back,) = parse_file(text, "back.vcf", "DE").contacts
        assert (back.name, back.organization, back.email) == (
            contact.name, contact.organization, contact.email)
        assert [n.e164 for n in back.numbers] == [n.number_e164 for n in contact.numbers]


def test_an_apple_card_is_given_as_imported(profile):
    book.import_contacts([DATA / "apple_30.vcf"])
    contact = book.lookup("+49301110004")
    assert book.vcard_of(contact) == contact.vcard and "X-ABLabel" in contact.vcard


def test_an_unreadable_file_is_reported(profile, tmp_path):
    report = book.import_contacts([tmp_path / "missing.vcf", DATA / "v40.vcf"])
    assert report.failed and report.added == 1
    assert (report.problems[0].source, report.problems[0].line_no) == ("missing.vcf", 0)


def test_search_by_name_company_and_number(profile):
    book.import_contacts([DATA / name for name in SAMPLES])

    def found(text: str) -> list[str]:
        return [c.name for c in db.session.scalars(book.search(text, "DE"))]

    assert found("müller") == ["Jürgen Müller"]
    assert found("obsthof") == ["Anna Apfel"]
    assert found("030 1110004") == found("+49301110004") == found("1110004") == ["Anna Apfel"]
    assert found("%") == []
    assert len(found("")) == 12


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["callback", "contacts", *args], catch_exceptions=False)
    return invoke


def test_cli_import_and_list(profile, cli):
    result = cli("import", str(DATA / "broken.vcf"), str(DATA / "google.csv"))
    assert result.exit_code == 0, result.output
    assert "6 contacts added" in result.output and "1 numbers skipped" in result.output
    assert "skipped broken.vcf:9: card 2 is not readable" in result.output
    listed = json.loads(cli("list", "--json").output)
    assert [c["name"] for c in listed][:2] == ["Bernd Brot", "Dritte Karte"]
    assert listed[0]["numbers"][0] == {"number": "+49 171 5550010", "e164": "+491715550010",
                                       "kind": "cell"}
    plain = cli("list", "--search", "Frida").output
    assert plain.startswith("Frida Funk") and "frida@example.org" in plain


def test_cli_import_of_a_file_with_nothing_in_it_fails(profile, cli, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("foo;bar\n1;2\n")
    assert cli("import", str(path)).exit_code == 1
