"""CSV address books: Google and German Outlook exports, header names, delimiters, encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from callback_module.contacts import parse_file
from callback_module.contacts.csv_import import parse_csv

DATA = Path(__file__).resolve().parent / "data" / "contacts"


def read(name: str):
    return parse_file((DATA / name).read_bytes(), name, "DE")


def numbers(contact) -> list[tuple[str, str]]:
    return [(n.e164, n.kind) for n in contact.numbers]


def test_google_export():
    parsed = read("google.csv")
    assert parsed.problems == []
    bernd, frida, works, zoe = parsed.contacts
    assert (bernd.name, bernd.organization, bernd.email) == (
        "Bernd Brot", "Bäckerei Brot", "bernd@baeckerei-brot.example")
    # Two numbers of one label share a cell, joined by " ::: ".
    assert numbers(bernd) == [("+491715550010", "cell"), ("+491715550011", "cell"),
                              ("+49301110020", "work")]
    assert bernd.note == "Liefert montags.\r\nBitte vor 10 Uhr anrufen."
    assert (frida.name, frida.numbers) == ("Frida Funk", ())
    assert (works.name, works.organization, numbers(works)) == (
        "Stadtwerke Berlin", "Stadtwerke Berlin", [("+498001110030", "work")])
    assert (zoe.name, numbers(zoe), zoe.unusable) == (
        "Zoë Ünal", [("+491575550040", "cell")], ("kein Anschluss",))


def test_german_outlook_export_with_semicolons_in_cp1252():
    parsed = read("outlook_de.csv")
    joerg, grete, praxis = parsed.contacts
    assert (joerg.name, joerg.organization, joerg.email, joerg.note) == (
        "Jörg Weiß", "Weiß & Söhne", "joerg.weiss@example.de", "Ruft gern zurück; bitte höflich.")
    assert numbers(joerg) == [("+492219999999", "fax"), ("+492211234567", "work"),
                              ("+491721112223", "cell")]
    assert (grete.name, numbers(grete)) == ("Grete Groß", [("+49301110003", "home")])
    assert (praxis.name, praxis.organization) == ("Ärztehaus Süd", "Ärztehaus Süd")
    # The shifted row is reported with its line; the rows after it are still read.
    assert [(p.source, p.line_no, str(p.reason)) for p in parsed.problems] == [
        ("outlook_de.csv", 4, "21 fields where the header has 19")]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_the_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["Name", "Phone", "E-Mail"]) + "\n" + delimiter.join(
        ["Eva Example", "030 1110003", "eva@example.org"]) + "\n"
    (eva,) = parse_csv(text, "x.csv", "DE").contacts
    assert (eva.name, numbers(eva), eva.email) == ("Eva Example", [("+49301110003", "")],
                                                   "eva@example.org")


@pytest.mark.parametrize("header, row, expected", [
    ("Full Name,Mobile,Company", "Ann Smith,+44 20 7946 0958,ACME",
     ("Ann Smith", "ACME", [("+442079460958", "cell")])),
    ("Anzeigename;Handy;E-Mail;Firma", "Udo Uhr;0151 2345678;u@x.de;Uhren AG",
     ("Udo Uhr", "Uhren AG", [("+491512345678", "cell")])),
    ("Vorname;Nachname;Telefon", "Ina;Igel;089 1234567",
     ("Ina Igel", "", [("+49891234567", "")])),
    ("name,phone,organization", "bo,0301110003,Org",
     ("bo", "Org", [("+49301110003", "")])),
], ids=["english", "german", "first-last", "lower-case"])
def test_common_header_names(header, row, expected):
    (contact,) = parse_csv(f"{header}\n{row}\n", "x.csv", "DE").contacts
    assert (contact.name, contact.organization, numbers(contact)) == expected


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-16"])
def test_bom_and_windows_encodings(encoding):
    data = "Name;Telefon\nJürgen Weiß;030 1110003\n".encode(encoding)
    (contact,) = parse_file(data, "x.csv", "DE").contacts
    assert contact.name == "Jürgen Weiß"


def test_a_stray_quote_does_not_swallow_the_rest():
    text = ('Name,Phone\nAnna,0301110001\n"Bernd,0301110002\nCarla,0301110003\n'
            'Dora,0301110004\n')
    parsed = parse_csv(text, "x.csv", "DE")
    assert [c.name for c in parsed.contacts] == ["Anna", "Carla", "Dora"]
    assert [p.line_no for p in parsed.problems] == [3]


def test_quoted_line_breaks_keep_the_line_numbers():
    text = 'Name,Phone,Notes\nA,0301110001,"eins\nzwei"\nB,0301110002,x,y\nC,0301110003,\n'
    parsed = parse_csv(text, "x.csv", "DE")
    assert [c.name for c in parsed.contacts] == ["A", "C"]
    assert [p.line_no for p in parsed.problems] == [4]


def test_a_file_without_an_address_book_header():
    parsed = parse_csv("foo,bar\n1,2\n", "x.csv", "DE")
    assert parsed.contacts == [] and [p.line_no for p in parsed.problems] == [1]


def test_a_row_without_name_or_number_is_reported():
    parsed = parse_csv("Name,Phone,Notes\n,,nur eine Notiz\n", "x.csv", "DE")
    assert parsed.contacts == [] and [p.line_no for p in parsed.problems] == [2]


def test_rows_get_stable_uids_and_a_vcard_that_reads_back():
    first, again = read("outlook_de.csv"), read("outlook_de.csv")
    assert [c.uid for c in first.contacts] == [c.uid for c in again.contacts]
    joerg = first.contacts[0]
    (back,) = parse_file(joerg.vcard, "back.vcf", "DE").contacts
    assert (back.uid, back.name, back.organization, back.email, numbers(back)) == (
        joerg.uid, joerg.name, joerg.organization, joerg.email, numbers(joerg))


def test_a_changed_number_keeps_the_uid():
    row = "Name,Phone,E-Mail\nMax Muster,{},max@example.org\n"
    before = parse_csv(row.format("0301110001"), "a.csv", "DE").contacts[0]
    after = parse_csv(row.format("0301110009"), "a.csv", "DE").contacts[0]
    assert before.uid == after.uid
