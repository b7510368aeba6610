"""Backfill: calls that ended while the AMI link was down, read from the CDR database.

AMI does not replay what was sent while nobody listened. Each outage is kept in the cursor as a
gap in PBX time (and when it was noticed); a minute after the reconnect (every call that ended
in it has its CDR rows written, and every call AMI saw end just after it has been stored), the
CDR source configured as ``cdr_url`` is asked for the calls that ended in the gap.

None is counted twice: a call is one linkedid whatever the source, and a backfilled call whose
key the store (or this batch) already holds with legs is dropped whole. AMI's ``Cdr`` events
carry no ``Sequence``, so their leg keys cannot equal the CDR table's ``uniqueid/sequence``
ones; deduplicating by call is what makes the two sources safe together. The CDR source is the
``freepbx_cdr`` connector: its ``read_between(since, until) -> Batch`` (the rows of calls that
ended between two aware UTC datetimes) when it has one, else its ``fetch`` with a cursor whose
watermark is the gap's start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..base import Batch
from ..registry import get_connector_class
from .calls import utc

log = logging.getLogger("callback.ami")
SETTLE_SECONDS = 60.0  # tests make it 0
MARGIN = timedelta(seconds=5)
URL_FIELDS = ("cdr_url", "url", "db_url", "database_url", "dsn")


def cdr_source(cdr_url: str, **kwargs: Any) -> Any | None:
    """The CDR database connector for ``cdr_url``, or None (with the reason logged)."""
    if not cdr_url:
        return None
    try:
        cls = get_connector_class("freepbx_cdr")
    except KeyError:
        log.warning("AMI backfill: no freepbx_cdr connector is installed")
        return None
    field = next((f.name for f in cls.fields if f.name in URL_FIELDS), None)
    if field is None:
        log.warning("AMI backfill: the freepbx_cdr connector takes no database URL")
        return None
    # Only the CDR rows: the gap's queue events are not worth reading a whole table for.
    return cls({field: cdr_url, "queue_log_table": ""}, **kwargs)


def read_window(reader: Any, since: datetime, until: datetime) -> Batch:
    """The legs of the calls that ended between ``since`` and ``until``."""
    if hasattr(reader, "read_between"):
        return reader.read_between(since, until)
    # freepbx_cdr reads again every row dated from its cursor's watermark minus its look-back
    # (the longest call): a watermark at the gap's start reads every call that can have ended
    # in it. Its cursor names the database it belongs to (masked URL and table).
    from ..cdr_database import masked

    local = since.astimezone(reader.timezone).replace(tzinfo=None)
    source = f"{masked(reader._url())}#{reader.config['table'] or 'cdr'}"
    batch = reader.fetch({"source": source, "cdr": {"watermark": local.isoformat(), "seen": {}}})
    ends: dict[str, datetime] = {}
    for leg in batch.legs:
        ends[leg.call_key] = max(ends.get(leg.call_key, leg.end), leg.end)
    inside = {key for key, end in ends.items() if since <= end <= until}
    batch.legs = [leg for leg in batch.legs if leg.call_key in inside]
    return batch


def backfill(cursor: dict[str, Any], batch: Batch, source: Callable[[], Any | None],
             now: float) -> None:
    """Read the settled gaps of ``cursor["gaps"]`` into ``batch``; keep the others."""
    keep = []
    for gap in cursor.get("gaps") or []:
        since, until, noticed = [*gap, now][:3]
        if now < noticed + SETTLE_SECONDS:
            keep.append([since, until, noticed])
            continue
        window = f"{utc(since):%Y-%m-%d %H:%M:%S}..{utc(until):%H:%M:%S} UTC"
        reader = source()
        if reader is None:
            log.warning("AMI: calls that ended %s, while the AMI link was down, may be "
                        "missing: set cdr_url to backfill them from the CDR database", window)
            continue
        try:
            got = read_window(reader, utc(since) - MARGIN, utc(until) + MARGIN)
        except Exception as exc:  # the database is down too: try again next sync
            log.warning("AMI backfill of %s failed, will retry: %s", window, exc)
            keep.append([since, until, noticed])
            continue
        keys = {leg.call_key for leg in got.legs}
        known = known_calls(keys) | {leg.call_key for leg in batch.legs}
        batch.legs += [leg for leg in got.legs if leg.call_key not in known]
        batch.queue_events += [e for e in got.queue_events if e.callid not in known]
        batch.problems += got.problems
        log.info("AMI backfill %s: %d calls read from the CDR database, %d of them known "
                 "from AMI already", window, len(keys), len(keys & known))
    cursor["gaps"] = keep


def known_calls(keys: set[str]) -> set[str]:
    """The calls among ``keys`` that the store holds legs of."""
    from sqlalchemy import select

    from ...extensions import db
    from ...models import Call, CallLeg

    found: set[str] = set()
    ordered = sorted(keys)
    for i in range(0, len(ordered), 500):
        found.update(db.session.scalars(
            select(Call.key).join(CallLeg, CallLeg.call_id == Call.id)
            .where(Call.key.in_(ordered[i:i + 500])).distinct()))
    return found


def gap_after_restart(cursor: dict[str, Any], first_ts: float,
                      noticed: float) -> list[float] | None:
    """The outage between the previous worker's last safe point and this one's first event."""
    through = cursor.get("through")
    if through is None or first_ts <= through:
        return None
    return [float(through), first_ts, noticed]
