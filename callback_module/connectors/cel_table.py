"""The CEL table: which calls have ended, so the CDR poll hands a call over whole.

FreePBX writes a call's CDR rows as its legs end, so a poll in the middle of a call sees some
legs and not the others: a queue call whose first member was busy looks missed until the row
of the member who answered arrives. CEL's ``LINKEDID_END`` is written when the last channel of
a call is gone. Where the cel table has such rows at all (CEL on, with that event: FreePBX
logs all events), legs of calls without one are held back for a later poll, up to a limit, in
case the PBX died before writing it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, column, select, table
from sqlalchemy.engine import Inspector

from ..records import Leg
from .cdr_polling import IN_CHUNK, PolledTable

# cel_odbc writes the event's name into a text column and its number into a numeric one.
LINKEDID_END = ("LINKEDID_END", "14")


class CelTable(PolledTable):
    def __init__(self, name: str, tz, hold_max: timedelta) -> None:
        super().__init__(name, tz)
        self.hold_max = hold_max

    def _clause(self):
        return table(self.table, column("eventtype"), column("linkedid"),
                     schema=self.schema or None)

    def logs_call_ends(self, conn: Connection, inspector: Inspector) -> bool:
        """Does this PBX write LINKEDID_END (CEL on, with that event)?"""
        if not self.exists(inspector):
            return False
        clause = self._clause()
        return conn.execute(select(clause.c.linkedid).where(
            clause.c.eventtype.in_(LINKEDID_END)).limit(1)).first() is not None

    def ended(self, conn: Connection, linkedids: set[str]) -> set[str]:
        """Those of ``linkedids`` that have ended."""
        clause, ordered, found = self._clause(), sorted(linkedids), set()
        for i in range(0, len(ordered), IN_CHUNK):
            found.update(conn.scalars(select(clause.c.linkedid).where(
                clause.c.eventtype.in_(LINKEDID_END),
                clause.c.linkedid.in_(ordered[i:i + IN_CHUNK]))))
        return found

    def going_on(self, conn: Connection, inspector: Inspector, legs: list[Leg],
                 now: datetime | None = None) -> set[str]:
        """The calls among ``legs`` to hold back: no LINKEDID_END yet, and not too old."""
        if not legs or not self.logs_call_ends(conn, inspector):
            return set()
        recent_from = (now or datetime.now(UTC)) - self.hold_max
        recent = {leg.call_key for leg in legs if leg.linkedid and leg.start >= recent_from}
        return recent - self.ended(conn, recent) if recent else set()
