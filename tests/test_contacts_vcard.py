"""vCard files as Outlook, Apple and vCard 4.0 writers make them; broken cards; the way back."""

from __future__ import annotations

from pathlib import Path

import pytest

from callback_module.contacts import parse_file, to_vcard
from callback_module.contacts.vcard import parse_vcards

DATA = Path(__file__).resolve().parent / "data" / "contacts"


def read(name: str):
    return parse_file((DATA / name).read_bytes(), name, "DE")


def numbers(contact) -> list[tuple[str, str]]:
    return [(n.e164, n.kind) for n in contact.numbers]


def test_outlook_21_quoted_printable_in_cp1252():
    parsed = read("outlook_21.vcf")
    assert parsed.problems == []
    juergen, petra = parsed.contacts
    assert juergen.name == "Jürgen Müller"
    assert juergen.organization == "Müller & Söhne GmbH, Vertrieb"
    assert juergen.email == "juergen.mueller@example.de"
    assert numbers(juergen) == [("+49301110001", "work"), ("+491711234567", "cell"),
                                ("+49301110099", "fax")]
    # The soft line break (a trailing "=") joins the note; its commas are no separators in 2.1.
    assert juergen.note == ("Rückruf bitte vormittags, Durchwahl im Sekretariat.\r\n"
                            "Zweite Zeile der Notiz mit äöü.")
    assert numbers(petra) == [("+49301110007", "home")]
    assert petra.unusable == ("Zentrale",)
    assert juergen.uid.startswith("sha1:") and juergen.uid != petra.uid


def test_quoted_printable_without_charset_from_old_outlook():
    card = (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Wei\xdf;Hans\r\n"
            b"FN;ENCODING=QUOTED-PRINTABLE:Hans Wei=DF\r\nTEL;HOME:030 1110003\r\nEND:VCARD\r\n")
    parsed = parse_file(card, "alt.vcf", "DE")
    assert [c.name for c in parsed.contacts] == ["Hans Weiß"]


def test_apple_30_export():
    parsed = read("apple_30.vcf")
    assert parsed.problems == []
    anna, company = parsed.contacts
    assert (anna.name, anna.organization, anna.email) == (
        "Anna Apfel", "Obsthof Apfel KG", "anna@obsthof-apfel.example")
    assert numbers(anna) == [("+49301110004", "cell"), ("+49301110005", "work")]
    assert anna.uid == "7B3E2C1A-5D4F-4E6A-9C8B-1A2B3C4D5E6F"
    assert anna.note == ("Kundin seit 2019, bevorzugt Rückruf am Nachmittag. Eine lange Notiz, "
                         "die über mehrere Zeilen gefaltet wurde.")
    assert (company.name, numbers(company)) == ("Hausverwaltung Nord", [("+49301110008", "work")])


def test_vcard_40_tel_uris():
    (clara,) = read("v40.vcf").contacts
    assert clara.name == "Dr. Clara Vier"
    assert numbers(clara) == [("+491715550001", "cell"), ("+49301110006", "work")]
    assert clara.email == "clara.vier@example.org"  # PREF=1 over the one listed later
    assert clara.uid == "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"


def test_a_broken_card_is_reported_and_the_others_read():
    parsed = read("broken.vcf")
    assert [c.name for c in parsed.contacts] == ["Erste Karte", "Dritte Karte"]
    assert [(p.source, p.line_no) for p in parsed.problems] == [("broken.vcf", 9),
                                                                ("broken.vcf", 16)]
    assert "card 2 is not readable" in parsed.problems[0].reason
    assert parsed.problems[1].reason == "card 4 has no END:VCARD (the file may be cut short)"
    assert parsed.problems[1].reason.template.startswith("card %(num)d")  # translatable


def test_a_card_without_end_before_the_next_card():
    text = ("BEGIN:VCARD\nVERSION:3.0\nFN:Eins\nTEL:0301110001\n"
            "BEGIN:VCARD\nVERSION:3.0\nFN:Zwei\nTEL:0301110002\nEND:VCARD\n")
    parsed = parse_vcards(text, "x.vcf", "DE")
    assert [c.name for c in parsed.contacts] == ["Zwei"]
    assert [p.line_no for p in parsed.problems] == [1]


def test_a_card_with_neither_name_nor_number_is_reported():
    parsed = parse_vcards("BEGIN:VCARD\nVERSION:3.0\nNOTE:nichts\nEND:VCARD\n", "x.vcf", "DE")
    assert parsed.contacts == [] and len(parsed.problems) == 1


def test_told_by_content_whatever_the_name_and_bom():
    data = "\ufeffBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bom\r\nTEL:030 1110003\r\nEND:VCARD\r\n"
    parsed = parse_file(data.encode("utf-8"), "export.txt", "DE")
    assert [(c.name, numbers(c)) for c in parsed.contacts] == [("Bom", [("+49301110003", "")])]


def test_same_file_same_uids_and_twins_stay_two():
    assert [c.uid for c in read("outlook_21.vcf").contacts] == [
        c.uid for c in read("outlook_21.vcf").contacts]
    twins = "BEGIN:VCARD\nVERSION:3.0\nFN:Max\nTEL:{}\nEND:VCARD\n"
    parsed = parse_vcards(twins.format("0301110001") + twins.format("0301110002"), "t", "DE")
    assert len({c.uid for c in parsed.contacts}) == 2


def test_an_edited_number_keeps_the_uid():
    card = "BEGIN:VCARD\nVERSION:2.1\nFN:Max Muster\nTEL:{}\nEND:VCARD\n"
    before = parse_vcards(card.format("0301110001"), "a.vcf", "DE").contacts[0]
    after = parse_vcards(card.format("0301110009"), "a.vcf", "DE").contacts[0]
    assert before.uid == after.uid


@pytest.mark.parametrize("name", ["outlook_21.vcf", "apple_30.vcf", "v40.vcf", "broken.vcf"])
def test_serialize_then_parse_gives_the_same_contact(name):
    for contact in read(name).contacts:
        text = to_vcard(contact.name, organization=contact.organization, email=contact.email,
                        note=contact.note, uid=contact.uid,
                        numbers=[(n.e164, n.kind) for n in contact.numbers])
        assert "VERSION:3.0" in text
        (back,) = parse_file(text, "back.vcf", "DE").contacts
        assert (back.name, back.organization, back.email, back.uid, numbers(back)) == (
            contact.name, contact.organization, contact.email, contact.uid, numbers(contact))
        assert back.note == contact.note.replace("\r\n", "\n")


def test_special_characters_survive_the_way_back():
    text = to_vcard("Müller, Jürgen; Dr.", organization="A; B, C", email="j@example.de",
                    note="Zeile 1\nZeile 2, mit; allem \\ drin",
                    numbers=[("+49301110003", "work")])
    (back,) = parse_file(text, "x.vcf", "DE").contacts
    assert (back.name, back.organization, back.note) == (
        "Müller, Jürgen; Dr.", "A; B, C", "Zeile 1\nZeile 2, mit; allem \\ drin")
