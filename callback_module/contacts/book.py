"""The address book in the database: import files, find a caller's contact, give its vCard.

Others call :func:`lookup` / :func:`lookup_many` (E.164 in, Contact out) and :func:`vcard_of`.
An import commits, names the entries of the contacts' numbers, and sends ``entries_changed``
(source "import") so open lists show the names at once.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..i18n import N_
from ..models import Contact, ContactNumber, Entry, Settings
from ..numbers import to_e164
from ..parsers.problems import ParseProblem
from ..signals import entries_changed
from . import ContactRecord, parse_file, to_vcard

log = logging.getLogger("callback.contacts")
CHUNK = 500
_VERSION_3 = re.compile(r"^VERSION:3\.0\s*$", re.I | re.M)

# A path or an open binary file; an upload's FileStorage reads like one and names its file.
Source = str | os.PathLike[str] | IO[bytes]


@dataclass
class ImportReport:
    files: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_numbers: int = 0  # numbers in the files that are no phone number (e.g. "Zentrale")
    problems: list[ParseProblem] = field(default_factory=list)
    entry_ids: set[int] = field(default_factory=set)  # entries that now show a contact's name
    failed: bool = False  # a file could not be read, or gave nothing but problems


def import_contacts(sources: Iterable[Source]) -> ImportReport:
    """Read .vcf and .csv files into the address book; the same file twice changes nothing."""
    region = Settings.load().default_region
    report = ImportReport()
    now = datetime.now(UTC)
    numbers: set[str] = set()
    for source in sources:
        name, data = _read(source, report)
        if data is None:
            continue
        report.files.append(name)
        parsed = parse_file(data, name, region)
        for problem in parsed.problems:
            problem.log()
        report.problems += parsed.problems
        report.failed |= bool(parsed.problems) and not parsed.contacts
        numbers |= _store(parsed.contacts, name, report, now)
    db.session.flush()
    report.entry_ids = _name_entries(numbers, now)
    db.session.commit()
    log.info("contacts imported from %s: %d added, %d updated, %d unchanged, %d numbers "
             "skipped, %d problems, %d entries renamed", ", ".join(report.files), report.added,
             report.updated, report.unchanged, report.skipped_numbers, len(report.problems),
             len(report.entry_ids))
    if report.entry_ids:
        entries_changed.send(current_app._get_current_object(), entry_ids=report.entry_ids,
                             source="import")
    return report


def _read(source: Source, report: ImportReport) -> tuple[str, bytes | str | None]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            return path.name, path.read_bytes()
        except OSError as exc:
            report.problems.append(ParseProblem(path.name, 0, N_(
                "the file cannot be read: %(error)s", error=exc.strerror or str(exc))))
            report.failed = True
            return path.name, None
    name = getattr(source, "filename", None) or Path(getattr(source, "name", "") or "upload").name
    return name, source.read()


def _store(records: list[ContactRecord], source: str, report: ImportReport,
           now: datetime) -> set[str]:
    """Add or update the contacts by uid; return the E.164 numbers they have."""
    existing: dict[str, Contact] = {}
    uids = sorted({r.uid for r in records})
    for i in range(0, len(uids), CHUNK):
        existing.update((c.uid, c) for c in db.session.scalars(
            select(Contact).where(Contact.uid.in_(uids[i:i + CHUNK]))
            .options(selectinload(Contact.numbers))))
    numbers: set[str] = set()
    for record in records:
        report.skipped_numbers += len(record.unusable)
        numbers |= {n.e164 for n in record.numbers}
        contact = existing.get(record.uid)
        if contact is None:
            contact = existing[record.uid] = Contact(uid=record.uid)
            db.session.add(contact)
            report.added += 1
        elif _fields(contact) == _fields_of(record, source):
            report.unchanged += 1
            continue
        else:
            report.updated += 1
        contact.name, contact.organization, contact.email = (
            record.name, record.organization, record.email)
        contact.note, contact.source, contact.vcard = record.note or None, source, record.vcard
        contact.updated_at = now
        contact.numbers = [ContactNumber(number_e164=n.e164, number=n.raw, kind=n.kind)
                           for n in record.numbers]
    return numbers


def _fields(contact: Contact) -> tuple:
    return (contact.name, contact.organization, contact.email, contact.note or "",
            contact.source, contact.vcard,
            tuple((n.number_e164, n.number, n.kind) for n in contact.numbers))


def _fields_of(record: ContactRecord, source: str) -> tuple:
    return (record.name, record.organization, record.email, record.note, source, record.vcard,
            tuple((n.e164, n.raw, n.kind) for n in record.numbers))


def _name_entries(numbers: set[str], now: datetime) -> set[int]:
    """Give the entries of these numbers their contact's name; return the changed ids."""
    contacts = lookup_many(numbers)
    changed: set[int] = set()
    known = sorted(contacts)
    for i in range(0, len(known), CHUNK):
        for entry in db.session.scalars(
                select(Entry).where(Entry.number_e164.in_(known[i:i + CHUNK]))):
            name = contacts[entry.number_e164].name
            if name and entry.name != name:
                entry.name = name
                entry.revision = (entry.revision or 0) + 1
                entry.updated_at = now
                changed.add(entry.id)
    return changed


def lookup(e164: str) -> Contact | None:
    """The contact with this E.164 number, or None."""
    return lookup_many([e164]).get(e164)


def lookup_many(e164s: Iterable[str]) -> dict[str, Contact]:
    """The contact of each of these numbers that has one; one query (per 500 numbers).

    When several contacts share a number (a company's switchboard), the first imported wins.
    """
    wanted = sorted({n for n in e164s if n})
    found: dict[str, Contact] = {}
    for i in range(0, len(wanted), CHUNK):
        rows = db.session.execute(
            select(ContactNumber.number_e164, Contact).join(Contact)
            .where(ContactNumber.number_e164.in_(wanted[i:i + CHUNK])).order_by(Contact.id))
        for number, contact in rows:
            found.setdefault(number, contact)
    return found


def vcard_of(contact: Contact) -> str:
    """The contact as vCard 3.0: as imported when it was 3.0, else written from its fields."""
    if contact.vcard and _VERSION_3.search(contact.vcard):
        return contact.vcard
    return to_vcard(contact.name, organization=contact.organization, email=contact.email,
                    note=contact.note or "", uid=contact.uid,
                    numbers=[(n.number_e164, n.kind) for n in contact.numbers])


def as_json(contact: Contact) -> dict:
    return {"id": contact.id, "uid": contact.uid, "name": contact.name,
            "organization": contact.organization, "email": contact.email,
            "note": contact.note or "", "source": contact.source,
            "numbers": [{"number": n.number, "e164": n.number_e164, "kind": n.kind}
                        for n in contact.numbers],
            "updated_at": contact.updated_at.isoformat()}


def search(text: str = "", region: str = "DE") -> Select:
    """Contacts by name, organization, e-mail or number (any way it is written), by name."""
    query = select(Contact).options(selectinload(Contact.numbers)).order_by(
        func.lower(Contact.name), Contact.id)
    text = text.strip()
    if not text:
        return query
    conditions = [column.icontains(text, autoescape=True)
                  for column in (Contact.name, Contact.organization, Contact.email)]
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 3:
        # A national 030… is +4930… in the book: match without the leading zeros too.
        number = ContactNumber.number_e164.contains(digits.lstrip("0") or digits)
        e164 = to_e164(text, region)
        conditions.append(Contact.numbers.any(
            or_(number, ContactNumber.number_e164 == e164) if e164 else number))
    return query.where(or_(*conditions))


def delete_all_contacts() -> int:
    """Empty the address book; entries named from it show the PBX's caller ID again."""
    from ..policy_loader import load_policy
    from ..store import recompute  # the store asks this module for names: import it late

    contacts = lookup_many(db.session.scalars(select(ContactNumber.number_e164).distinct()))
    named = [e for e in db.session.scalars(select(Entry).where(
        Entry.number_e164.in_(select(ContactNumber.number_e164))))
        if e.name == contacts[e.number_e164].name]
    since: dict[str, datetime] = {}
    for entry in named:
        entry.name = ""
        since[entry.party_key] = min(since.get(entry.party_key, entry.first_call_at),
                                     entry.first_call_at)
    count = db.session.scalar(select(func.count()).select_from(Contact)) or 0
    db.session.execute(delete(ContactNumber))
    db.session.execute(delete(Contact))
    changed = {e.id for e in named}
    if since:  # the rebuild writes the PBX's caller-id names back where the calls have one
        changed |= recompute(since, load_policy())
    db.session.commit()
    log.info("address book emptied: %d contacts deleted, %d entries renamed", count,
             len(changed))
    if changed:
        entries_changed.send(current_app._get_current_object(), entry_ids=changed,
                             source="import")
    return count
