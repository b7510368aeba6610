"""Incremental reads of the cdr table (look-back window) and the queue_log table (by id).

Only SELECTs with explicit column names: FreePBX's column order varies between installs, and
the columns are looked up once per poll, so a table without linkedid, sequence or did still works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, Select, column, func, select, table, true
from sqlalchemy.engine import Inspector
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.expression import TableClause

from ..i18n import N_
from ..parsers.cdr import BadRow
from ..parsers.problems import ParseProblem
from ..records import Leg
from . import cdr_rows as rows
from .base import Batch, ConnectorError

MAX_NEW_ROWS = 5000  # per table and poll: a first backfill is read over several polls
FUTURE_SLACK = timedelta(days=1)  # a row dated in the future must not freeze the watermark
IN_CHUNK = 500  # uniqueids per IN (...) list
Hold = Callable[[list[Leg]], set[str]]


class PolledTable:
    def __init__(self, name: str, tz: tzinfo) -> None:
        self.name = name
        self.schema, _, self.table = name.rpartition(".")
        self.tz = tz

    def exists(self, inspector: Inspector) -> bool:
        return inspector.has_table(self.table, schema=self.schema or None)

    def _types(self, inspector: Inspector) -> dict[str, Any]:
        """The table's columns and their types, looked up once per poll."""
        if not self.exists(inspector):
            raise ConnectorError(N_("No table '%(table)s' in the CDR database (wrong table "
                                    "name, or the user may not see it).", table=self.name))
        return {c["name"]: c["type"] for c in inspector.get_columns(
            self.table, schema=self.schema or None)}

    def _columns(self, types: dict[str, Any], required: tuple[str, ...],
                 optional: tuple[str, ...]) -> tuple[TableClause, dict[str, str], dict[str, Any]]:
        picked = rows.pick_columns(self.name, types, required, optional)
        clause = table(self.table, *(column(n) for n in picked.values()),
                       schema=self.schema or None)
        return clause, picked, {ours: types[theirs] for ours, theirs in picked.items()}

    def _select(self, clause: TableClause, picked: dict[str, str]) -> Select:
        return select(*(clause.c[theirs].label(ours) for ours, theirs in picked.items()))


def _bound(value: datetime, kind: Any) -> Any:
    # A time kept as text ("2026-11-22 06:11:06.000000") compares as text on PostgreSQL.
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(kind, sqltypes.String) else value


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None  # MySQL's zero date, or garbage: not a time to count from


class CdrTable(PolledTable):
    def __init__(self, name: str, tz: tzinfo, lookback_minutes: int, backfill_days: int) -> None:
        super().__init__(name, tz)
        self.lookback = timedelta(minutes=lookback_minutes)
        self.backfill = timedelta(days=backfill_days)

    def _prepare(self, inspector: Inspector) -> tuple[TableClause, dict[str, str], dict, str]:
        types = self._types(inspector)
        time = rows.cdr_time_column(self.name, types)
        clause, picked, kinds = self._columns(types, (time, *rows.CDR_REQUIRED),
                                              rows.CDR_OPTIONAL)
        return clause, picked, kinds, time

    def newest(self, conn: Connection, inspector: Inspector) -> datetime | None:
        """The newest calldate as stored (PBX local time), or None for an empty table."""
        clause, picked, _, time = self._prepare(inspector)
        return _as_datetime(conn.scalar(select(func.max(clause.c[picked[time]]))))

    def read(self, conn: Connection, inspector: Inspector, state: dict[str, Any] | None,
             batch: Batch, hold: Hold | None = None) -> dict[str, Any]:
        """Add the rows not delivered before to ``batch``; returns this table's new cursor:
        ``{"watermark": newest calldate as stored, "seen": {calldate: [leg keys]}}``.

        ``hold`` names the calls among the new legs that are still going on (CEL): their rows
        are left for a later poll, unseen, so a call is judged once all its legs are in."""
        clause, picked, kinds, time = self._prepare(inspector)
        state = dict(state or {})
        seen: dict[str, list[str]] = {k: list(v) for k, v in (state.get("seen") or {}).items()}
        watermark = _as_datetime(state.get("watermark"))
        if watermark is not None:
            since: datetime | None = watermark - self.lookback
        else:
            newest = self.newest(conn, inspector)
            if newest is None:
                return {"watermark": None, "seen": {}}
            since = newest - self.backfill if self.backfill else None
        seen_keys = {key for keys in seen.values() for key in keys}
        taken = self._take(self._new_rows(conn, clause, picked, time, since, kinds[time],
                                          seen_keys), time, seen, seen_keys, batch, hold)
        if taken is not None:
            now = datetime.now(UTC) if taken.tzinfo else datetime.now(self.tz).replace(tzinfo=None)
            taken = min(taken, now + FUTURE_SLACK)
            watermark = taken if watermark is None else max(watermark, taken)
        if watermark is None:
            return {"watermark": None, "seen": {}}
        keep_from = watermark - self.lookback
        seen = {k: v for k, v in seen.items() if datetime.fromisoformat(k) >= keep_from}
        return {"watermark": watermark.isoformat(), "seen": seen}

    def read_range(self, conn: Connection, inspector: Inspector, since: datetime,
                   until: datetime, batch: Batch) -> None:
        """Add every row dated from ``since`` to ``until`` (aware) to ``batch``; no cursor."""
        clause, picked, kinds, time = self._prepare(inspector)
        column, kind = clause.c[picked[time]], kinds[time]
        # timestamptz compares instants; every other kind holds the PBX's local wall time.
        low, high = ((since, until) if getattr(kind, "timezone", False) else
                     (t.astimezone(self.tz).replace(tzinfo=None) for t in (since, until)))
        query = self._select(clause, picked).where(
            column >= _bound(low, kind), column <= _bound(high, kind)).order_by(column)
        self._take(conn.execute(query).mappings(), time, {}, set(), batch)

    def _new_rows(self, conn: Connection, clause: TableClause, picked: dict[str, str],
                  time: str, since: datetime | None, kind: Any,
                  seen_keys: set[str]) -> Iterator[Any]:
        """The window's rows, those not seen before first. With uniqueid and sequence, the
        window is read as keys only and whole rows are fetched by uniqueid (indexed in
        FreePBX): a poll then moves a few bytes per old row, not the whole row again."""
        order = [clause.c[picked[n]] for n in (time, "uniqueid", "sequence") if n in picked]
        # The first len(seen)+N rows hold at least N new ones: a backlog always moves on.
        limit = len(seen_keys) + MAX_NEW_ROWS
        after = clause.c[picked[time]] >= _bound(since, kind) if since is not None else true()
        if "sequence" not in picked:
            query = self._select(clause, picked).where(after).order_by(*order).limit(limit)
            yield from conn.execute(query).mappings()
            return
        keys = select(*(clause.c[picked[n]].label(n) for n in (time, "uniqueid", "sequence")))
        fresh = dict.fromkeys(
            row["uniqueid"] for row in conn.execute(keys.where(after).order_by(*order)
                                                   .limit(limit)).mappings()
            if rows.leg_key(row) not in seen_keys)
        uniqueids = list(fresh)
        for i in range(0, len(uniqueids), IN_CHUNK):
            chunk = uniqueids[i:i + IN_CHUNK]
            yield from conn.execute(self._select(clause, picked).where(
                after, clause.c[picked["uniqueid"]].in_(chunk)).order_by(*order)).mappings()

    def _take(self, result: Any, time: str, seen: dict[str, list[str]], seen_keys: set[str],
              batch: Batch, hold: Hold | None = None) -> datetime | None:
        """Add the rows not seen before to ``batch`` and ``seen``; the newest calldate taken."""
        newest = None
        fresh: list[tuple[datetime, str, Leg | None]] = []
        for row in result:
            if rows.leg_key(row) in seen_keys:
                continue  # most of the window, every poll: skip it before building a leg
            stored = _as_datetime(row[time])
            try:
                leg: Leg | None = rows.row_to_leg(row, self.tz)
                key = leg.key
            except (BadRow, ValueError, TypeError) as exc:
                leg, key = None, "!" + "/".join(str(row.get(n)) for n in ("uniqueid", "sequence",
                                                                           "channel", time))
                if key not in seen_keys:
                    batch.problems.append(ParseProblem(f"table {self.name}", 0,
                                                       f"uniqueid {row.get('uniqueid')}: {exc}"))
            if key in seen_keys or stored is None:
                continue
            seen_keys.add(key)
            fresh.append((stored, key, leg))
        going_on = hold([leg for _, _, leg in fresh if leg is not None]) if hold else set()
        for stored, key, leg in fresh:
            if leg is not None and leg.call_key in going_on:
                continue
            seen.setdefault(stored.isoformat(), []).append(key)
            if leg is not None:
                batch.legs.append(leg)
                batch.lines_read += 1
            newest = stored if newest is None else max(newest, stored)
        return newest


class QueueLogTable(PolledTable):
    def __init__(self, name: str, tz: tzinfo, backfill_days: int) -> None:
        super().__init__(name, tz)
        self.backfill = timedelta(days=backfill_days)

    def read(self, conn: Connection, inspector: Inspector, state: dict[str, Any] | None,
             batch: Batch) -> dict[str, Any]:
        """Add the rows after the cursor's id; returns ``{"last_id": highest id read}``."""
        clause, picked, kinds = self._columns(self._types(inspector), rows.QUEUE_REQUIRED,
                                              rows.QUEUE_OPTIONAL)
        last_id = (state or {}).get("last_id")
        ident, time = clause.c[picked["id"]], clause.c[picked["time"]]
        query = self._select(clause, picked).order_by(ident).limit(MAX_NEW_ROWS)
        if last_id is not None:
            query = query.where(ident > last_id)
        elif self.backfill:
            newest = _as_datetime(conn.scalar(select(func.max(time))))
            if newest is not None:
                query = query.where(time >= _bound(newest - self.backfill, kinds["time"]))
        source = f"table {self.name}"
        for row in conn.execute(query).mappings():
            last_id = max(int(row["id"]), last_id or 0)
            batch.lines_read += 1
            item = rows.row_to_queue_event(row, self.tz, source)
            if isinstance(item, ParseProblem):
                batch.problems.append(item)
            elif item is not None:
                batch.queue_events.append(item)
        return {"last_id": last_id}
