"""CSV address books in, ContactRecords out: Outlook (English, German), Google and hand-made.

The header row names the columns; the delimiter (, ; or tab) is the one the header uses most.
A row that cannot be read is reported with its line and skipped; reading goes on after it, so
one stray quote does not swallow the rest of the file.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

from ..i18n import N_
from ..parsers.problems import ParseProblem
from .records import (
    NAME_LENGTH,
    ContactRecord,
    Identities,
    ParsedFile,
    best_name,
    kind_of,
    read_numbers,
)
from .vcard import to_vcard

_ROLES = {
    "name": {"name", "full name", "fullname", "display name", "anzeigename", "vollständiger name",
             "kontakt", "contact", "contact name"},
    "first": {"first name", "given name", "vorname"},
    "middle": {"middle name", "additional name", "weitere vornamen", "zweiter vorname"},
    "last": {"last name", "family name", "surname", "nachname"},
    "organization": {"company", "company name", "firma", "organization", "organisation",
                     "organization name", "organization 1 - name", "unternehmen"},
    "note": {"notes", "note", "notizen", "notiz", "bemerkung", "bemerkungen", "comments"},
}
_EMAIL = re.compile(r"^e-?mail(\s*\d+)?(\s*[-:]?\s*(value|address|adresse))?$")
_PHONE = re.compile(r"phone|telefon|mobil|handy|cell|fax|isdn|pager|^tel\b")
# The type columns next to the values (Google "Phone 1 - Label", Outlook "E-Mail-Typ").
_NOT_PHONE = re.compile(r"telex|type$|typ$|label$")
_GOOGLE_VALUE = re.compile(r"^(phone \d+) - value$")


@dataclass
class Columns:
    roles: dict[str, int] = field(default_factory=dict)
    emails: list[int] = field(default_factory=list)
    phones: list[tuple[int, str, int | None]] = field(default_factory=list)  # index, kind, type

    @property
    def usable(self) -> bool:
        return bool(self.phones) or any(k in self.roles for k in ("name", "first", "last"))


def _header_key(text: str) -> str:
    return " ".join(text.strip().strip('"').replace("_", " ").lower().split())


def read_header(header: list[str]) -> Columns:
    keys = [_header_key(h) for h in header]
    columns = Columns()
    for i, key in enumerate(keys):
        role = next((r for r, names in _ROLES.items() if key in names), None)
        if role:
            columns.roles.setdefault(role, i)
        elif _EMAIL.match(key):
            columns.emails.append(i)
        elif _PHONE.search(key) and not _NOT_PHONE.search(key):
            google = _GOOGLE_VALUE.match(key)
            type_column = next((keys.index(f"{google.group(1)} - {t}") for t in ("label", "type")
                                if google and f"{google.group(1)} - {t}" in keys), None)
            columns.phones.append((i, kind_of([key]), type_column))
    return columns


def sniff_delimiter(header_line: str) -> str:
    return max((",", ";", "\t"), key=header_line.count)


def parse_csv(text: str, source: str, region: str) -> ParsedFile:
    """Every readable row of a CSV address book; a ParseProblem for each row that is not."""
    parsed = ParsedFile()
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return parsed
    delimiter = sniff_delimiter(lines[first])
    header = next(csv.reader([lines[first]], delimiter=delimiter))
    columns = read_header(header)
    if not columns.usable:
        parsed.problems.append(ParseProblem(source, first + 1, N_(
            "the first line names no name or phone column: is it the header of an address book?")))
        return parsed
    identities = Identities()
    position = first + 1
    while position < len(lines):
        reader = csv.reader(lines[position:], delimiter=delimiter, strict=True)
        start = position + 1
        try:
            for row in reader:
                _row(row, start, header, columns, source, region, identities, parsed)
                start = position + reader.line_num + 1
        except csv.Error as exc:
            parsed.problems.append(ParseProblem(source, start, N_(
                "line not readable as CSV: %(error)s", error=str(exc))))
            position = start  # the line after the broken row's first one
            continue
        break
    return parsed


def _row(row: list[str], line_no: int, header: list[str], columns: Columns, source: str,
         region: str, identities: Identities, parsed: ParsedFile) -> None:
    if not any(cell.strip() for cell in row):
        return
    if len(row) > len(header) and any(cell.strip() for cell in row[len(header):]):
        parsed.problems.append(ParseProblem(source, line_no, N_(
            "%(num)d fields where the header has %(expected)d", num=len(row),
            expected=len(header))))
        return
    record = _record(row, columns, region, identities)
    if not record.name and not record.numbers:
        parsed.problems.append(ParseProblem(source, line_no, N_(
            "neither a name nor a phone number")))
        return
    parsed.contacts.append(record)


def _record(row: list[str], columns: Columns, region: str,
            identities: Identities) -> ContactRecord:
    def cell(index: int | None) -> str:
        return row[index].strip() if index is not None and index < len(row) else ""

    def role(name: str) -> str:
        return cell(columns.roles.get(name))

    pairs = []
    for index, kind, type_column in columns.phones:
        # Google puts several numbers of one label into one cell, joined by " ::: ".
        for value in cell(index).split(":::"):
            pairs.append((value, kind_of([cell(type_column)]) or kind))
    numbers, unusable = read_numbers(pairs, region)
    organization = role("organization")
    email = next((cell(i).split(":::")[0].strip() for i in columns.emails if cell(i)), "")
    person = " ".join(p for p in (role("first"), role("middle"), role("last")) if p)
    name = best_name(role("name"), person, organization, email,
                     numbers[0].raw if numbers else "")[:NAME_LENGTH]
    uid = identities.uid(name, organization, email, "\x1f".join(row))
    note = role("note")
    vcard = to_vcard(name, organization=organization, email=email, note=note, uid=uid,
                     numbers=[(n.e164, n.kind) for n in numbers])
    return ContactRecord(uid=uid, name=name, organization=organization[:200],
                         email=email[:254], note=note, numbers=numbers, vcard=vcard,
                         unusable=unusable)
