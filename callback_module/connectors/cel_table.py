"""The CEL table: which calls have ended, so the CDR poll hands a call over whole.

FreePBX writes a call's CDR rows as its legs end, so a poll in the middle of a call sees some
legs and not the others: a queue call whose first member was busy looks missed until the row
of the member who answered arrives. CEL's ``LINKEDID_END`` is written when the last channel of
a call is gone. Where the cel table has such rows at all (CEL on, with that event: FreePBX
logs all events), legs of calls without one are held back for a later poll, up to a limit, in
case the PBX died before writing it. CEL only refines the timing: when it cannot be read, the
CDR rows are taken as they come rather than the whole sync failing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, column, select, table
from sqlalchemy.engine import Inspector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import sqltypes

from ..records import Leg
from .cdr_polling import IN_CHUNK, PolledTable

log = logging.getLogger("callback.connectors.freepbx_cdr")
T = TypeVar("T")
# cel_odbc and cel_pgsql write the event's name into a text column and its number into a
# numeric one; comparing a numeric column with 'LINKEDID_END' is an error on PostgreSQL.
LINKEDID_END_NAME, LINKEDID_END_NUMBER = "LINKEDID_END", 14
# table -> the reason last warned about: a table that stays unreadable is not warned about at
# every poll, seconds apart.
_warned: dict[str, str] = {}


class CelTable(PolledTable):
    def __init__(self, name: str, tz, hold_max: timedelta) -> None:
        super().__init__(name, tz)
        self.hold_max = hold_max

    def _clause(self):
        return table(self.table, column("eventtype"), column("linkedid"),
                     schema=self.schema or None)

    def _linkedid_end(self, inspector: Inspector) -> Any:
        kind = self._types(inspector).get("eventtype")
        numeric = isinstance(kind, sqltypes.Integer | sqltypes.Numeric)
        return LINKEDID_END_NUMBER if numeric else LINKEDID_END_NAME

    def _readable(self, conn: Connection, read: Callable[[], T], fallback: T) -> T:
        """``read()``, or ``fallback`` when the table cannot be read (no SELECT grant, columns
        of another shape). A savepoint keeps the failed query from aborting the poll's
        transaction: PostgreSQL refuses every later statement in it otherwise."""
        try:
            with conn.begin_nested():
                value = read()
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None) or exc
            reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
            if _warned.get(self.name) != reason:
                log.warning("Cannot read the CEL table %s (%s): calls are taken as their CDR "
                            "rows come, not held until CEL says they have ended.",
                            self.name, reason)
            _warned[self.name] = reason
            return fallback
        _warned.pop(self.name, None)
        return value

    def logs_call_ends(self, conn: Connection, inspector: Inspector) -> bool:
        """Does this PBX write LINKEDID_END (CEL on, with that event)? False when the table
        is missing or cannot be read."""
        return self._readable(conn, lambda: self._logs_call_ends(conn, inspector), False)

    def _logs_call_ends(self, conn: Connection, inspector: Inspector) -> bool:
        if not self.exists(inspector):
            return False
        clause = self._clause()
        return conn.execute(select(clause.c.linkedid).where(
            clause.c.eventtype == self._linkedid_end(inspector)).limit(1)).first() is not None

    def ended(self, conn: Connection, inspector: Inspector, linkedids: set[str]) -> set[str]:
        """Those of ``linkedids`` that have ended."""
        clause, ordered, found = self._clause(), sorted(linkedids), set()
        end = self._linkedid_end(inspector)
        for i in range(0, len(ordered), IN_CHUNK):
            found.update(conn.scalars(select(clause.c.linkedid).where(
                clause.c.eventtype == end, clause.c.linkedid.in_(ordered[i:i + IN_CHUNK]))))
        return found

    def going_on(self, conn: Connection, inspector: Inspector, legs: list[Leg],
                 now: datetime | None = None) -> set[str]:
        """The calls among ``legs`` to hold back: no LINKEDID_END yet, and not too old.
        Nothing is held when the table is missing or cannot be read."""
        recent_from = (now or datetime.now(UTC)) - self.hold_max
        recent = {leg.call_key for leg in legs if leg.linkedid and leg.start >= recent_from}
        if not recent:
            return set()

        def read() -> set[str]:
            if not self._logs_call_ends(conn, inspector):
                return set()
            return recent - self.ended(conn, inspector, recent)
        return self._readable(conn, read, set())
