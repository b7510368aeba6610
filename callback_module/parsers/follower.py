"""Follow a growing log file (Master.csv, queue_log) across polls and log rotations.

The cursor is ``{"inode", "offset", "line_no"}``: JSON-able, so the sync can store it. Only
complete lines are consumed, because Asterisk may be half-way through writing the last one.

Bytes are decoded per line: UTF-8, else latin-1. Asterisk writes caller names as the carrier
sent them, so a latin-1 clid next to UTF-8 rows is real data, not damage; latin-1 maps every
byte, so such a row is kept (with its odd characters) instead of being lost. Lines that are
really broken (NUL padding after a crash, cut quoting) are left for the parsers to report.

Rotation by rename is followed by inode. Asterisk's queue_log stays open until ``logger
reload``, so logrotate must run that (Asterisk's own logrotate script does); lines written to
the renamed file after we moved on to the new one would be missed.
"""

from __future__ import annotations

import os
from typing import Any

Lines = list[tuple[int, str]]
_BOM = b"\xef\xbb\xbf"


def read_new(path: str | os.PathLike[str], cursor: dict[str, Any] | None,
             *, max_bytes: int | None = None) -> tuple[Lines, dict[str, Any]]:
    """Complete lines added since ``cursor`` (1-based line numbers) and the cursor after them.

    If the file was rotated (new inode), the rest of the old file comes first, when it is still
    in the same directory under any name (``Master.csv.1``, ``queue_log.0``), then the new file
    from its start; line numbers restart at 1 there. If the file shrank, or the byte before the
    offset is no longer a line end (copytruncate, then regrown), it is read again from the
    start. A missing file gives no lines and the cursor unchanged. ``max_bytes`` bounds one
    read (softly: at least one line), so a first import of a big file can go in steps.
    """
    cursor = dict(cursor or {})
    try:
        f = open(path, "rb")  # noqa: SIM115 - fstat must describe the file actually opened
    except FileNotFoundError:
        return [], cursor
    with f:
        st = os.fstat(f.fileno())
        inode = cursor.get("inode")
        offset, line_no = cursor.get("offset", 0), cursor.get("line_no", 0)
        lines: Lines = []
        if inode is not None and inode != st.st_ino:
            old = _find_by_inode(os.path.dirname(os.path.abspath(path)), inode)
            if old is not None:
                with open(old, "rb") as old_file:
                    # The rotated file is never visited again, so a cut last line is taken too
                    # (the parser reports it) rather than silently dropped.
                    lines, offset, line_no, done = _read(old_file, offset, line_no, max_bytes,
                                                         final=True)
                if not done:  # max_bytes reached: finish the old file first
                    return lines, {"inode": inode, "offset": offset, "line_no": line_no}
            offset, line_no = 0, 0
        elif inode is None or not _continues(f, offset, st.st_size):
            offset, line_no = 0, 0
        new_lines, offset, line_no, _ = _read(f, offset, line_no, max_bytes)
    return lines + new_lines, {"inode": st.st_ino, "offset": offset, "line_no": line_no}


def _continues(f: Any, offset: int, size: int) -> bool:
    if offset == 0:
        return True
    if size < offset:
        return False
    f.seek(offset - 1)
    return f.read(1) == b"\n"


def read_lines(path: str | os.PathLike[str]) -> Lines:
    """All lines of a finished file (an export to import), including a last one without \\n."""
    with open(path, "rb") as f:
        return _read(f, 0, 0, None, final=True)[0]


def decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _find_by_inode(directory: str, inode: int) -> str | None:
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.inode() == inode and entry.is_file(follow_symlinks=False):
                    return entry.path
    except OSError:
        pass
    return None


def _read(f: Any, offset: int, line_no: int, max_bytes: int | None,
          final: bool = False) -> tuple[Lines, int, int, bool]:
    """Lines from ``offset``: them, the offset and line_no after them, and whether EOF was hit.
    A last line without \\n is left for next time unless ``final``."""
    f.seek(offset)
    if max_bytes is None:
        data, at_eof = f.read(), True
    else:
        data = f.read(max_bytes)
        while b"\n" not in data and (chunk := f.read(max_bytes)):
            data += chunk  # a line longer than max_bytes: never get stuck on it
        at_eof = not f.read(1)
    if offset == 0 and data.startswith(_BOM):  # spreadsheet exports start with one
        data, offset = data[len(_BOM):], len(_BOM)
    end = len(data) if final and at_eof else data.rfind(b"\n") + 1
    lines = []
    chunks = data[:end].split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    for raw in chunks:
        line_no += 1
        lines.append((line_no, decode_line(raw.removesuffix(b"\r"))))
    return lines, offset + end, line_no, at_eof
