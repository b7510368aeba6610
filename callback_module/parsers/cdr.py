"""CDR rows as :class:`Leg` objects: cdr_csv's Master.csv, cdr_custom files and CDR table exports.

Lines come in as ``(line_no, text)`` pairs, already decoded (see :mod:`.follower`). One CSV
record per line: Asterisk's CDR writers never put a newline inside a field.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

from ..records import Leg
from .problems import ParseProblem

BASE_COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
                "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
                "disposition", "amaflags")
NEW_COLUMNS = ("peeraccount", "linkedid", "sequence")
KNOWN = frozenset((*BASE_COLUMNS, "uniqueid", "userfield", *NEW_COLUMNS, "calldate", "did"))

_DATETIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?")
_EPOCH = re.compile(r"\d{9,}(\.\d+)?")
# Uniqueids are epoch.counter, prefixed "systemname-" when asterisk.conf sets systemname.
_UNIQUEID = re.compile(r"([\w.-]+-)?\d{9,}\.\d+")
_CDR_VAR = re.compile(r"\$\{CDR\((\w+)")


class BadRow(ValueError):
    """A row that cannot become a leg; the message is the reason shown to the admin."""


@dataclass(frozen=True)
class CdrLayout:
    """Which column holds what. ``auto``: headerless cdr_csv, re-read from each row's length,
    because toggling loguniqueid/newcdrcolumns in cdr.conf leaves Master.csv with mixed rows."""

    columns: tuple[str, ...]
    header: bool = False
    auto: bool = False

    @classmethod
    def from_fields(cls, fields: str | Iterable[str], *, header: bool = False) -> CdrLayout:
        """A layout from cdr_custom's ``fields =`` list (also a legacy ``${CDR(x)}`` template or
        cdr_sqlite3_custom's ``columns =``). Raises ValueError if start or end cannot be had."""
        if isinstance(fields, str):
            text = re.sub(r"^\s*(fields|columns)\s*=", "", fields.strip())
            names = _CDR_VAR.findall(text) or next(csv.reader([text]), [])
        else:
            names = list(fields)
        columns = tuple(name.strip().strip('"').lower() for name in names)
        if not {"start", "calldate"} & set(columns):
            raise ValueError("the CDR columns must include start (or calldate)")
        if not {"end", "duration"} & set(columns):
            raise ValueError("the CDR columns must include end or duration")
        return cls(columns, header=header)

    @property
    def name(self) -> str:
        if self.auto:
            return "cdr_csv"
        return "CDR with header row" if self.header else f"{len(self.columns)}-column CDR"


def csv_columns(row: list[str]) -> tuple[str, ...] | None:
    """cdr_csv's columns for a headerless row, or None if its length is not 16 to 21."""
    extra = len(row) - len(BASE_COLUMNS)
    if extra < 0 or extra > 5:
        return None
    if extra in (1, 4):
        # Only one of loguniqueid/loguserfield is on: tell them apart by what the value looks like.
        optional: tuple[str, ...] = (
            ("uniqueid",) if _UNIQUEID.fullmatch(row[16]) else ("userfield",))
    else:
        optional = ("uniqueid", "userfield")[:extra if extra < 3 else extra - 3]
    return BASE_COLUMNS + optional + (NEW_COLUMNS if extra >= 3 else ())


def split_line(text: str) -> list[str]:
    """One CSV record; raises BadRow on quoting that Asterisk would never write."""
    if "\x00" in text:
        raise BadRow("contains NUL bytes (damaged file?)")
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error as exc:
        raise BadRow(f"bad quoting: {exc}") from None


def detect_cdr_layout(sample_lines: Iterable[str]) -> CdrLayout | None:
    """The layout of a CDR file from its first lines, or None if none of them is a CDR row or
    header. Lines that fit nothing are passed over: a crash can leave a damaged first line."""
    for text in sample_lines:
        try:
            row = split_line(text)
        except BadRow:
            continue
        names = [cell.strip().lower() for cell in row]
        if {"disposition", "src"} <= set(names) and {"start", "calldate"} & set(names):
            try:
                return CdrLayout.from_fields(names, header=True)
            except ValueError:
                return None
        columns = csv_columns(row)
        if columns and _looks_like_cdr(row):
            return CdrLayout(columns, auto=True)
    return None


def _looks_like_cdr(row: list[str]) -> bool:
    times = (row[9], row[11]) + ((row[10],) if row[10] else ())
    return (all(_DATETIME.match(t.strip()) for t in times)
            and all(n.strip().isdigit() for n in (row[12], row[13])))


def parse_cdr(lines: Iterable[tuple[int, str]], layout: CdrLayout, tz: tzinfo,
              source: str) -> Iterator[Leg | ParseProblem]:
    """Legs of the lines, in order, and a ParseProblem for each line that is not a CDR row.

    Times are the PBX's local time (``tz``), or epoch seconds if a cdr_custom template used
    ``${CDR(start,u)}``; legs carry aware UTC times.
    """
    for line_no, text in lines:
        if not text.strip():
            continue
        row: list[str] = []
        try:
            row = split_line(text)
            if layout.header and [c.strip().lower() for c in row] == list(layout.columns):
                continue  # the header itself, or a repeated one from concatenated exports
            yield _leg(row, _columns_for(row, layout), tz)
        except BadRow as exc:
            reason = str(exc)
            if layout.auto and 16 <= len(row) <= 21 and len(row) != len(layout.columns):
                reason += (f" ({len(row)} columns where the file starts with "
                           f"{len(layout.columns)}: cut short?)")
            yield ParseProblem(source, line_no, reason)


def _columns_for(row: list[str], layout: CdrLayout) -> dict[str, int]:
    columns = csv_columns(row) if layout.auto else layout.columns
    if columns is None:
        raise BadRow(f"{len(row)} columns, but cdr_csv writes 16 to 21")
    if len(row) != len(columns):
        raise BadRow(f"{len(row)} columns, expected {len(columns)} ({layout.name})")
    return _index(columns)


@lru_cache(maxsize=64)
def _index(columns: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(columns) if name in KNOWN}


def _leg(row: list[str], index: dict[str, int], tz: tzinfo) -> Leg:
    def text(name: str) -> str:
        i = index.get(name)
        return row[i] if i is not None else ""

    start = to_utc(text("start") or text("calldate"), tz, "start")
    if start is None:
        raise BadRow("start time is empty")
    duration = _int(text("duration"), "duration") or 0
    billsec = _int(text("billsec"), "billsec") or 0
    end = to_utc(text("end"), tz, "end") or start + timedelta(seconds=duration)
    if "answer" in index:
        answer = to_utc(text("answer"), tz, "answer")
    else:
        # FreePBX's cdr table keeps only calldate (= start); billsec counts back from the end.
        # An ANSWERED row with billsec 0 was still answered (S09's Hangup() row).
        answered = billsec > 0 or text("disposition").strip() == "ANSWERED"
        answer = end - timedelta(seconds=billsec) if answered else None
    uniqueid, linkedid = text("uniqueid"), text("linkedid")
    channel, dstchannel = text("channel"), text("dstchannel")
    sequence = _int(text("sequence"), "sequence")
    if uniqueid and sequence is not None:
        key = f"{uniqueid}/{sequence}"
    else:
        key = f"{uniqueid}/{channel}/{dstchannel}/{start.isoformat()}"
    return Leg(
        call_key=linkedid or uniqueid or f"{channel}@{start.isoformat()}", key=key,
        start=start, end=end, answer=answer, src=text("src"), clid=text("clid"),
        dst=text("dst"), dcontext=text("dcontext"), channel=channel, dstchannel=dstchannel,
        lastapp=text("lastapp"), lastdata=text("lastdata"), duration=duration, billsec=billsec,
        disposition=text("disposition").strip(), uniqueid=uniqueid, linkedid=linkedid,
        sequence=sequence, did=text("did"))


def to_utc(text: str, tz: tzinfo, what: str = "time") -> datetime | None:
    """A PBX time as aware UTC; empty gives None. Local times in a repeated DST hour take the
    first occurrence: Asterisk writes no UTC offset, so nothing tells them apart."""
    text = text.strip()
    if not text:
        return None
    if _EPOCH.fullmatch(text):
        return datetime.fromtimestamp(float(text), UTC)
    if not _DATETIME.match(text):
        raise BadRow(f"{what} {text!r} is not a date and time")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadRow(f"{what} {text!r} is not a valid date and time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _int(text: str, what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise BadRow(f"{what} {text!r} is not a whole number") from None
