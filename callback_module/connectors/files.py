"""Reading Asterisk's files: tell each file's kind from its content, parse, follow growth.

Shared by the Asterisk files connector, the demo PBX (which writes such files) and the
``import`` command, so all three go through the same parsers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from ..parsers.cdr import CdrLayout, detect_cdr_layout, parse_cdr
from ..parsers.follower import Lines, read_new
from ..parsers.problems import ParseProblem
from ..parsers.queue_log import parse_queue_log, parse_queue_log_csv, queue_log_header
from ..parsers.sniff import FileKind, SniffError, sniff
from ..records import Leg, QueueEvent
from .base import Batch

SNIFF_LINES = 20
STEP_BYTES = 4_000_000


@dataclass
class Parsed:
    legs: list[Leg] = field(default_factory=list)
    queue_events: list[QueueEvent] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)

    def add(self, item: Leg | QueueEvent | ParseProblem) -> None:
        if isinstance(item, Leg):
            self.legs.append(item)
        elif isinstance(item, QueueEvent):
            self.queue_events.append(item)
        else:
            self.problems.append(item)


def detect_kind(sample: list[str], columns: str | None, source: str) -> FileKind:
    """The file's kind; ``columns`` (cdr_custom's fields) applies only to CDR files."""
    try:
        kind = sniff(sample, None, source=source)
    except SniffError:
        if not columns:
            raise
        kind = None
    if columns and (kind is None or kind.is_cdr):
        return sniff(sample, columns, source=source)
    return kind


def parse_lines(lines: Lines, kind: FileKind, tz: tzinfo, source: str,
                columns: str | None = None, sample: list[str] | None = None) -> Parsed:
    """Parse lines of a file of ``kind``; ``sample`` is the file's first lines (its header)."""
    parsed = Parsed()
    if kind == FileKind.QUEUE_LOG:
        items = parse_queue_log(lines, source)
    elif kind == FileKind.QUEUE_LOG_CSV:
        header = next((h for line in sample or () if (h := queue_log_header(line))), None)
        items = parse_queue_log_csv(lines, tz, source, columns=header)
    else:
        items = parse_cdr(lines, layout_for(kind, columns, sample or []), tz, source)
    for item in items:
        parsed.add(item)
    return parsed


def layout_for(kind: FileKind, columns: str | None, sample: list[str]) -> CdrLayout:
    if kind == FileKind.CDR_CUSTOM:
        return CdrLayout.from_fields(columns or "")
    layout = detect_cdr_layout(sample)
    if layout is None:
        raise SniffError(f"no CDR layout for {kind}")
    return layout


def first_lines(path: str, count: int = SNIFF_LINES) -> list[str]:
    lines, _ = read_new(path, None, max_bytes=64_000)
    return [text for _, text in lines[:count]]


class FollowedFiles:
    """Files followed by offset and inode; each one's kind is fixed when it is first seen."""

    def __init__(self, files: list[tuple[str, str, str | None]], tz: tzinfo) -> None:
        self.files = files  # (cursor name, path, cdr_custom columns)
        self.tz = tz

    def read(self, cursor: dict[str, Any] | None) -> Batch:
        cursor = dict(cursor or {})
        batch = Batch(cursor=cursor)
        for name, path, columns in self.files:
            if not path:
                continue
            state = dict(cursor.get(name) or {})
            if "kind" not in state:
                sample = first_lines(path)
                if not sample:
                    continue  # no data yet: decide the kind once there is some
                state["kind"] = detect_kind(sample, columns, os.path.basename(path)).value
                state["sample"] = sample[:5]
            lines, position = read_new(path, state.get("position"), max_bytes=STEP_BYTES)
            parsed = parse_lines(lines, FileKind(state["kind"]), self.tz,
                                 os.path.basename(path), columns, state.get("sample"))
            batch.legs += parsed.legs
            batch.queue_events += parsed.queue_events
            batch.problems += parsed.problems
            batch.lines_read += len(lines)
            state["position"] = position
            cursor[name] = state
        batch.cursor = cursor
        return batch


__all__ = ["FollowedFiles", "Parsed", "detect_kind", "first_lines", "parse_lines"]
