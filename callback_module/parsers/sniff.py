"""Which call-data format a file holds, decided from its first lines (not its name: admins
copy and rename exports freely)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from .cdr import BadRow, CdrLayout, detect_cdr_layout, split_line
from .queue_log import queue_log_header

# epoch|callid|queue|agent|event - the event name is never empty.
_QUEUE_LOG = re.compile(r"\d+\|[^|]*\|[^|]*\|[^|]*\|[^|\s]")


class FileKind(StrEnum):
    QUEUE_LOG = "queue_log"  # the pipe-separated file
    QUEUE_LOG_CSV = "queue_log_csv"  # export of the realtime queue_log table, header row
    CDR_HEADER = "cdr_header"  # export of a CDR table (Asterisk or FreePBX), header row
    CDR_CSV = "cdr_csv"  # cdr_csv's Master.csv, no header, 16 to 21 columns
    CDR_CUSTOM = "cdr_custom"  # cdr_custom, columns as configured in cdr_custom.conf

    @property
    def is_cdr(self) -> bool:
        return self.value.startswith("cdr_")


class SniffError(ValueError):
    """The file is none of the known formats; the message names the file and its first line."""


def sniff(sample_lines: Iterable[str], columns: str | None = None, *,
          source: str = "file") -> FileKind:
    """The kind of the file whose first lines are ``sample_lines``.

    ``columns`` is cdr_custom's ``fields =`` list when the admin gave one: then the file must
    have that many columns. Raises :class:`SniffError` when nothing fits, or when the sample
    has no line yet (an empty file cannot be recognised; wait for data before sniffing).
    """
    lines = [line for line in sample_lines if line.strip()]
    if not lines:
        raise SniffError(f"{source}: empty, nothing to recognise yet")
    first = lines[0]
    if columns:
        return _check_custom(first, columns, source)
    for line in lines:  # the first line that fits decides; a damaged one is passed over
        if _QUEUE_LOG.match(line):
            return FileKind.QUEUE_LOG
        if queue_log_header(line) is not None:
            return FileKind.QUEUE_LOG_CSV
        layout = detect_cdr_layout([line])
        if layout is not None:
            return FileKind.CDR_HEADER if layout.header else FileKind.CDR_CSV
    raise SniffError(f"{source}: not a CDR CSV or queue_log file (first line: {_show(first)})")


def _check_custom(first: str, columns: str, source: str) -> FileKind:
    try:
        layout = CdrLayout.from_fields(columns)
    except ValueError as exc:
        raise SniffError(f"{source}: {exc} (columns: {columns})") from None
    try:
        found = len(split_line(first))
    except BadRow as exc:
        raise SniffError(f"{source}: first line is not CSV, {exc} "
                         f"(first line: {_show(first)})") from None
    if found != len(layout.columns):
        raise SniffError(f"{source}: first line has {found} columns, but the configured "
                         f"columns name {len(layout.columns)} (first line: {_show(first)})")
    return FileKind.CDR_CUSTOM


def _show(line: str, limit: int = 80) -> str:
    line = line.rstrip("\r\n")
    return line if len(line) <= limit else line[:limit] + "…"
