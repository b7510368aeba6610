"""``callback import``: Asterisk files in, entries out, through the same path as the sync.

A file is read in steps (so a year of Master.csv does not need to fit in memory), each step
committed with the counts of the run; importing the same file again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from flask import current_app

from .connectors.base import Batch
from .connectors.files import detect_kind, first_lines, parse_lines
from .extensions import db
from .models import SyncRun
from .parsers.follower import read_new
from .parsers.sniff import SniffError
from .signals import entries_changed
from .sync import store_batch


@dataclass
class ImportReport:
    run: SyncRun
    messages: list[str] = field(default_factory=list)
    failed: bool = False


def import_files(paths: list[Path], tz: tzinfo, columns: str | None = None,
                 step_bytes: int = 2_000_000) -> ImportReport:
    run = SyncRun(trigger="import", connector="asterisk_files", started_at=datetime.now(UTC))
    db.session.add(run)
    db.session.commit()
    report = ImportReport(run)
    changed: set[int] = set()
    for path in paths:
        sample = first_lines(str(path))
        try:
            kind = detect_kind(sample, columns, path.name)
        except SniffError as exc:
            report.messages.append(f"skipped {exc}")
            report.failed = True
            continue
        position = None
        while True:
            lines, position = read_new(path, position, max_bytes=step_bytes)
            if not lines:
                break
            parsed = parse_lines(lines, kind, tz, path.name, columns, sample)
            batch = Batch(legs=parsed.legs, queue_events=parsed.queue_events,
                          problems=parsed.problems, lines_read=len(lines))
            changed |= store_batch(batch, run)
            report.messages += [f"skipped {p}" for p in parsed.problems]
            db.session.commit()
        # The last line may lack its newline when a file was copied out of a live system.
        tail = _unterminated_tail(path, position)
        if tail:
            parsed = parse_lines([tail], kind, tz, path.name, columns, sample)
            changed |= store_batch(Batch(legs=parsed.legs, queue_events=parsed.queue_events,
                                         problems=parsed.problems, lines_read=1), run)
            db.session.commit()
    run.state = "failed" if report.failed else "ok"
    run.finished_at = datetime.now(UTC)
    db.session.commit()
    if changed:
        entries_changed.send(current_app._get_current_object(), entry_ids=changed,
                             source="import")
    return report


def _unterminated_tail(path: Path, position: dict | None) -> tuple[int, str] | None:
    offset = (position or {}).get("offset", 0)
    with open(path, "rb") as handle:
        handle.seek(offset)
        rest = handle.read()
    if not rest.strip():
        return None
    from .parsers.follower import decode_line

    return ((position or {}).get("line_no", 0) + 1, decode_line(rest))
