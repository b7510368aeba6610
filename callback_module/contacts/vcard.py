"""vCard files (2.1, 3.0, 4.0; several cards each) in, ContactRecords out; and one contact back
out as vCard 3.0, the version every mail client and phone reads.

vobject unfolds the lines (quoted-printable soft breaks of old Outlook exports included), parses
parameters and decodes quoted-printable in the card's charset, and writes cards. Its property
decoding is not used: it keeps only the text before the first unescaped comma of FN and NOTE,
and vCard 2.1 does not escape commas. The file is split into cards here, so one broken card is
reported with its number and line and the others are still read.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator

import vobject
from vobject.base import ContentLine, getLogicalLines, textLineToContentLine
from vobject.vcard import Name

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

_BEGIN = re.compile(r"^\s*BEGIN\s*:\s*VCARD\s*$", re.I)
_END = re.compile(r"^\s*END\s*:\s*VCARD\s*$", re.I)
_ESCAPE = re.compile(r"\\(.)", re.S)
_UNESCAPED_SEMICOLON = re.compile(r"(?<!\\);")


def looks_like_vcard(text: str) -> bool:
    return any(_BEGIN.match(line) for line in text[:4096].splitlines()[:20])


def split_cards(text: str) -> Iterator[tuple[int, str | None]]:
    """(first line, card text) per card; text None for a card cut off before END:VCARD."""
    start, lines = 0, None
    for line_no, line in enumerate(text.splitlines(), 1):
        if _BEGIN.match(line):
            if lines is not None:
                yield start, None
            start, lines = line_no, [line]
        elif lines is not None:
            lines.append(line)
            if _END.match(line):
                yield start, "\r\n".join(lines) + "\r\n"
                lines = None
    if lines is not None:
        yield start, None


def parse_vcards(text: str, source: str, region: str) -> ParsedFile:
    """Every readable card of a .vcf file; a ParseProblem for each card that is not."""
    parsed = ParsedFile()
    identities = Identities()
    for number, (line_no, card_text) in enumerate(split_cards(text), 1):
        if card_text is None:
            parsed.problems.append(ParseProblem(source, line_no, N_(
                "card %(num)d has no END:VCARD (the file may be cut short)", num=number)))
            continue
        try:
            record = _record(_content_lines(card_text), card_text, region, identities)
        # vobject raises more than its own errors on odd input (unknown charsets, bad QP).
        except Exception as exc:
            at = line_no + max((getattr(exc, "lineNumber", None) or 1) - 1, 0)
            parsed.problems.append(ParseProblem(source, at, N_(
                "card %(num)d is not readable: %(error)s", num=number,
                error=getattr(exc, "msg", None) or str(exc) or type(exc).__name__)))
            continue
        if not record.name and not record.numbers:
            parsed.problems.append(ParseProblem(source, line_no, N_(
                "card %(num)d has neither a name nor a phone number", num=number)))
            continue
        parsed.contacts.append(record)
    return parsed


def _content_lines(card_text: str) -> dict[str, list[ContentLine]]:
    lines: dict[str, list[ContentLine]] = {}
    for text, line_no in getLogicalLines(io.StringIO(card_text), allowQP=True):
        try:
            line = textLineToContentLine(text, line_no)
        except UnicodeDecodeError:
            # Outlook before 2007 wrote quoted-printable in its Windows code page, no CHARSET.
            line = textLineToContentLine(text.replace(";", ";CHARSET=Windows-1252;", 1), line_no)
        lines.setdefault(line.name, []).append(line)
    return lines


def _record(lines: dict[str, list[ContentLine]], card_text: str, region: str,
            identities: Identities) -> ContactRecord:
    organization = ", ".join(p for p in _parts(lines, "ORG") if p)
    email = _preferred_email(lines.get("EMAIL", []))
    tels = [(_unescape(tel.value), kind_of(_types(tel))) for tel in lines.get("TEL", [])]
    numbers, unusable = read_numbers(tels, region)
    family, given, additional, prefix, suffix = [*_parts(lines, "N"), "", "", "", "", ""][:5]
    name = best_name(_text(lines, "FN"), " ".join((prefix, given, additional, family, suffix)),
                     organization, email, numbers[0].raw if numbers else "")
    uid = _text(lines, "UID")[:200]
    return ContactRecord(
        uid=uid or identities.uid(name, organization, email, card_text), name=name[:NAME_LENGTH],
        organization=organization[:200], email=email[:254], note=_text(lines, "NOTE"),
        numbers=numbers, vcard=card_text, unusable=unusable)


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _text(lines: dict[str, list[ContentLine]], key: str) -> str:
    found = lines.get(key)
    return _unescape(str(found[0].value)).strip() if found else ""


def _parts(lines: dict[str, list[ContentLine]], key: str) -> list[str]:
    """A structured value (N, ORG): its parts split at the semicolons that are not escaped."""
    found = lines.get(key)
    if not found:
        return []
    return [_unescape(p).strip() for p in _UNESCAPED_SEMICOLON.split(str(found[0].value))]


def _types(line: ContentLine) -> list[str]:
    """TYPE=a,b (3.0, 4.0: possibly quoted as one value) and bare ;WORK;VOICE (2.1)."""
    values = [v for value in line.params.get("TYPE", []) for v in value.split(",")]
    return values + list(line.singletonparams)


def _preferred_email(lines: list[ContentLine]) -> str:
    preferred = [e for e in lines
                 if "pref" in " ".join(_types(e)).lower() or e.params.get("PREF")]
    for line in preferred + lines:
        if _unescape(str(line.value)).strip():
            return _unescape(str(line.value)).strip()
    return ""


def to_vcard(name: str, *, organization: str = "", email: str = "", note: str = "",
             uid: str = "", numbers: Iterable[tuple[str, str]] = ()) -> str:
    """One contact as a vCard 3.0 text; ``numbers``: (number, kind) pairs, E.164 preferred."""
    card = vobject.vCard()
    card.add("fn").value = name
    card.add("n").value = _split_name(name, organization)
    if organization:
        card.add("org").value = [organization]
    for number, kind in numbers:
        tel = card.add("tel")
        tel.value = number
        tel.type_paramlist = [kind.upper() or "VOICE"]
    if email:
        card.add("email").value = email
        card.email.type_param = "INTERNET"
    if note:
        card.add("note").value = note
    if uid:
        card.add("uid").value = uid
    return card.serialize()


def _split_name(name: str, organization: str) -> Name:
    # N is required in 3.0; a company's own card has no person's name to split.
    if not name or name == organization:
        return Name()
    given, _, family = name.rpartition(" ")
    return Name(family=family, given=given)
