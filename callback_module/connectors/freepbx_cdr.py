"""FreePBX CDR database connector: polls ``asteriskcdrdb.cdr`` (and the realtime ``queue_log``).

FreePBX's cdr table has no key and no insert order, and a row is written when a call *ends* but
dated when it *started*: a long call's row turns up behind rows already read. So each poll reads
again everything dated from ``watermark - lookback_minutes`` on and skips the rows it delivered
before; their keys (the legs' ``uniqueid/sequence``) are kept in the cursor for as long as they
are inside that window. The queue_log table has an auto-increment id, which is its cursor.
Where the ``cel`` table logs ``LINKEDID_END``, a call's rows are handed over only once the call
has ended (cel_table.py), so a call is never judged on half its legs (a missed-call mail for a
call a colleague answered a second later).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, inspect
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from ..i18n import N_, join
from .base import Batch, Connector, ConnectorError, ConnectorField, Status
from .cdr_database import database_url, failure_reason, make_engine, mask_url_text, masked
from .cdr_polling import CdrTable, QueueLogTable
from .cel_table import CelTable
from .registry import register_connector


@register_connector
class FreePbxCdrConnector(Connector):
    name = "freepbx_cdr"
    label = N_("FreePBX CDR database")
    fields = (
        ConnectorField("cdr_url", N_("CDR database URL"), "text",
                       "mysql+pymysql://callback@127.0.0.1/asteriskcdrdb", required=True,
                       help=N_("SQLAlchemy URL of asteriskcdrdb: MariaDB/MySQL "
                               "(mysql+pymysql://user@host/asteriskcdrdb) or PostgreSQL "
                               "(postgresql+psycopg://user@host/asteriskcdrdb). A user with "
                               "SELECT only is enough.")),
        ConnectorField("password", N_("Database password"), "secret", "",
                       help=N_("Kept apart from the URL, so that it is never shown or "
                               "exported.")),
        ConnectorField("table", N_("CDR table"), "text", "cdr"),
        ConnectorField("queue_log_table", N_("queue_log table"), "text", "queue_log",
                       help=N_("Asterisk's realtime queue_log table, read if it exists; "
                               "empty: not read.")),
        ConnectorField("cel_table", N_("CEL table"), "text", "cel",
                       help=N_("Read if it exists: a call is taken once CEL says it has "
                               "ended, not while its legs are still coming in; empty: not "
                               "read.")),
        ConnectorField("lookback_minutes", N_("Look-back (minutes)"), "int", 120,
                       help=N_("Rows are written when a call ends but dated when it started: "
                               "at least the longest call plus the CDR batch delay, and 60 or "
                               "more if the PBX writes local time (clocks going back repeat "
                               "an hour).")),
        ConnectorField("backfill_days", N_("History read on first start (days)"), "int", 7,
                       help=N_("0 reads the whole table.")),
    )
    secret_fields = frozenset({"password"})

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._engine: Engine | None = None

    def public_config(self) -> dict[str, Any]:
        config = super().public_config()
        config["cdr_url"] = mask_url_text(config["cdr_url"])  # a password typed into the URL
        return config

    def _url(self) -> URL:
        return database_url(self.config["cdr_url"], self.config["password"] or "")

    def _tables(self) -> tuple[CdrTable, QueueLogTable | None]:
        lookback = max(0, int(self.config["lookback_minutes"] or 0))
        backfill = max(0, int(self.config["backfill_days"] or 0))
        cdr = CdrTable(self.config["table"] or "cdr", self.timezone, lookback, backfill)
        queue_log = (QueueLogTable(self.config["queue_log_table"], self.timezone, backfill)
                     if self.config["queue_log_table"] else None)
        return cdr, queue_log

    def _cel(self) -> CelTable | None:
        """Held calls must still be inside the look-back window when they are let go."""
        lookback = max(0, int(self.config["lookback_minutes"] or 0))
        name = self.config.get("cel_table") or ""
        return CelTable(name, self.timezone, timedelta(minutes=lookback / 2)) if name else None

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection for one poll; failures become ConnectorErrors in words. The engine's
        pool is emptied afterwards: polls are seconds apart and the server may restart."""
        url = self._url()
        if self._engine is None:
            self._engine = make_engine(url)
        try:
            with self._engine.connect() as conn:
                yield conn
        except ConnectorError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise ConnectorError(failure_reason(exc, url)) from None
        finally:
            self._engine.dispose()

    def check_status(self) -> Status:
        try:
            cdr, queue_log = self._tables()
            with self._connection() as conn:
                inspector = inspect(conn)
                newest = cdr.newest(conn, inspector)
                has_queue_log = queue_log is not None and queue_log.exists(inspector)
                cel = self._cel()
                cel_ends = cel is not None and cel.logs_call_ends(conn, inspector)
        except ConnectorError as exc:
            return Status(False, exc.message)
        where = masked(self._url())
        if newest is None:
            parts = [N_("Connected to %(url)s: table %(table)s is empty so far.", url=where,
                        table=cdr.name)]
        else:
            parts = [N_("Connected to %(url)s: newest call in table %(table)s at %(newest)s.",
                        url=where, table=cdr.name, newest=f"{newest:%Y-%m-%d %H:%M:%S}")]
        if queue_log is not None and has_queue_log:
            parts.append(N_("Queue events from table %(table)s.", table=queue_log.name))
        elif queue_log is not None:
            parts.append(N_("No table %(table)s: queue calls are judged from CDR alone.",
                            table=queue_log.name))
        if cel_ends:
            parts.append(N_("Calls are taken once table %(table)s says they have ended.",
                            table=cel.name))
        return Status(True, join(parts, " "))

    def fetch(self, cursor: dict[str, Any] | None) -> Batch:
        cdr, queue_log = self._tables()
        source = f"{masked(self._url())}#{cdr.name}"
        cursor = dict(cursor or {})
        if cursor.get("source") != source:
            cursor = {}  # another database or table: its own history, from the start
        batch = Batch()
        with self._connection() as conn:
            inspector = inspect(conn)
            cel = self._cel()
            hold = (lambda legs: cel.going_on(conn, inspector, legs)) if cel else None
            cdr_cursor = cdr.read(conn, inspector, cursor.get("cdr"), batch, hold)
            queue_cursor = cursor.get("queue_log")
            if queue_log is not None and queue_log.exists(inspector):
                queue_cursor = queue_log.read(conn, inspector, queue_cursor, batch)
        batch.cursor = {"source": source, "cdr": cdr_cursor, "queue_log": queue_cursor}
        return batch

    def read_between(self, since: datetime, until: datetime) -> Batch:
        """The legs of the calls that ended between ``since`` and ``until`` (aware datetimes):
        a live connector's backfill after an outage. Legs only, and no cursor: rows dated from
        ``since`` minus the look-back (the longest call) on, of the calls ending inside."""
        cdr, _ = self._tables()
        batch = Batch()
        with self._connection() as conn:
            cdr.read_range(conn, inspect(conn), since - cdr.lookback, until, batch)
        ends: dict[str, datetime] = {}
        for leg in batch.legs:
            ends[leg.call_key] = max(leg.end, ends.get(leg.call_key, leg.end))
        batch.legs = [leg for leg in batch.legs if since <= ends[leg.call_key] <= until]
        batch.lines_read = len(batch.legs)
        return batch
