"""What both parsers make of a card or a row: a frozen ContactRecord with E.164 numbers.

Pure: no Flask, no database. The book stores the records; the parsers only read files.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..numbers import to_e164
from ..parsers.problems import ParseProblem

# Words in vCard TYPE parameters and in CSV headers (English, German) that tell a number's kind.
_KIND_WORDS = (
    ("cell", ("cell", "mobile", "mobil", "iphone", "handy", "mobiltelefon")),
    ("fax", ("fax",)),
    ("pager", ("pager",)),
    ("home", ("home", "privat", "private", "personal")),
    ("work", ("work", "business", "geschäftlich", "company", "firma", "büro", "main", "office")),
)
# As long as Entry.name: the lists show the contact's name in that column.
NAME_LENGTH = 120
_NOT_A_NUMBER = re.compile(
    r"^(tel|callto|sip):|;.*$|\s*(x|ext\.?|extension|durchwahl)\s*[=:.]?\s*\d+$", re.I)


@dataclass(frozen=True)
class NumberRecord:
    raw: str
    e164: str
    kind: str = ""


@dataclass(frozen=True)
class ContactRecord:
    """One contact as read; ``unusable``: the numbers that are no phone number we can match."""

    uid: str
    name: str
    organization: str = ""
    email: str = ""
    note: str = ""
    numbers: tuple[NumberRecord, ...] = ()
    vcard: str = ""
    unusable: tuple[str, ...] = ()


@dataclass
class ParsedFile:
    contacts: list[ContactRecord] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)


def kind_of(words: Iterable[str]) -> str:
    """work, cell, home, fax, pager or "" from TYPE values or header words."""
    lowered = " ".join(words).lower()
    for kind, hints in _KIND_WORDS:
        if any(hint in lowered for hint in hints):
            return kind
    return ""


def read_numbers(pairs: Iterable[tuple[str, str]],
                 region: str) -> tuple[tuple[NumberRecord, ...], tuple[str, ...]]:
    """(raw, kind) pairs as NumberRecords, each E.164 number once; the rest as unusable."""
    numbers: list[NumberRecord] = []
    unusable: list[str] = []
    seen: set[str] = set()
    for raw, kind in pairs:
        raw = raw.strip()
        if not raw:
            continue
        # vCard 4.0 writes numbers as tel: URIs; address books append extensions we cannot dial.
        e164 = to_e164(_NOT_A_NUMBER.sub("", raw), region)
        if e164 is None:
            unusable.append(raw)
        elif e164 not in seen:
            seen.add(e164)
            numbers.append(NumberRecord(raw[:80], e164, kind))
    return tuple(numbers), tuple(unusable)


def best_name(*candidates: str) -> str:
    """The first candidate with text in it, spaces tidied."""
    for candidate in candidates:
        text = " ".join((candidate or "").split())
        if text:
            return text
    return ""


class Identities:
    """Uids for contacts that bring none: the same person in the same file gets the same uid.

    Keyed on name, organization and e-mail, so that a re-export with a changed number updates
    the contact; a second contact with the same three in one file falls back to its content.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def uid(self, name: str, organization: str, email: str, content: str) -> str:
        key = _digest("\x1f".join(s.strip().lower() for s in (name, organization, email)))
        if key in self._seen:
            key = _digest(content)
        self._seen.add(key)
        return "sha1:" + key


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def decode_text(data: bytes | str) -> str:
    """Files from Windows come in cp1252 or UTF-16, the rest in UTF-8; a BOM is dropped."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")
