"""The sync: read what is new from the PBX connector, store it, rebuild the touched entries.

Guarded by a database lease (never twice at once, across processes), recorded as a SyncRun with
its counts and errors, incremental by the connector's cursor, and idempotent: the cursor is saved
in the same transaction as the data it covers, so a crash re-reads and re-upserts, nothing more.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from . import lease
from .connectors.base import Batch, Connector
from .connectors.registry import get_connector_class
from .extensions import db
from .housekeeping import expire_overflow
from .models import ConnectorConfig, Cursor, Settings, SyncRun
from .policy_loader import load_policy
from .signals import calls_judged, entries_changed, sync_finished
from .store import ingest

log = logging.getLogger("callback.sync")
LEASE = "callback.sync"
LEASE_SECONDS = 600
# Calls that ended longer ago are history to notifications (notify.rules.LATE_LIMIT decides).
RECENT = timedelta(minutes=30)


def build_connector() -> Connector:
    config = ConnectorConfig.load()
    settings = Settings.load()
    cls = get_connector_class(config.type)
    return cls(config.config or {}, instance_path=current_app.instance_path,
               timezone=ZoneInfo(settings.timezone or "UTC"))


def run_sync(trigger: str = "scheduler") -> SyncRun | None:
    """One sync now; None when another process or thread is already syncing."""
    if not lease.acquire(LEASE, LEASE_SECONDS):
        log.info("sync skipped: another sync is running")
        return None
    try:
        return _sync_once(trigger)
    finally:
        lease.release(LEASE)


def _sync_once(trigger: str) -> SyncRun:
    connector = build_connector()
    run = SyncRun(trigger=trigger, connector=connector.name, started_at=datetime.now(UTC))
    db.session.add(run)
    db.session.commit()
    cursor = db.session.scalar(select(Cursor).where(Cursor.name == connector.name))
    try:
        batch = connector.fetch(cursor.value if cursor else None)
        learned_at = datetime.now(UTC)
        judged: list = []
        changed = store_batch(batch, run, judged, recent_since=learned_at - RECENT)
        if cursor is None:
            cursor = Cursor(name=connector.name)
            db.session.add(cursor)
        cursor.value = batch.cursor
        cursor.updated_at = datetime.now(UTC)
        run.state = "ok"
        run.finished_at = datetime.now(UTC)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("sync failed")
        run = db.session.merge(run)
        run.state, run.error = "failed", f"{type(exc).__name__}: {exc}"
        run.finished_at = datetime.now(UTC)
        db.session.commit()
        sync_finished.send(current_app._get_current_object(), run=run)
        return run
    if changed:
        entries_changed.send(current_app._get_current_object(), entry_ids=changed, source="sync")
    if judged:
        calls_judged.send(current_app._get_current_object(), calls=judged, learned_at=learned_at)
    sync_finished.send(current_app._get_current_object(), run=run)
    log.info("sync %s: %d lines, %d new legs, %d queue events, %d calls, %d entries changed, "
             "%d problems", run.id, run.lines_read, run.legs_new, run.queue_events_new,
             run.calls_touched, run.entries_changed, run.problems)
    return run


def store_batch(batch: Batch, run: SyncRun, judged: list | None = None,
                recent_since: datetime | None = None) -> set[int]:
    """Ingest one batch into the session (not committed) and fill the run's counts;
    ``judged`` collects the inbound calls that ended after ``recent_since`` (store.ingest)."""
    for problem in batch.problems:
        problem.log()
    policy = load_policy()
    result = ingest(batch.legs, batch.queue_events, policy, judged, recent_since)
    result.changed_entry_ids |= expire_overflow(policy)
    run.lines_read += batch.lines_read
    run.legs_new += result.legs_new
    run.queue_events_new += result.queue_events_new
    run.calls_touched += result.calls_touched
    run.entries_changed += len(result.changed_entry_ids)
    run.problems += len(batch.problems)
    run.problem_sample = (list(run.problem_sample or []) +
                          [str(p) for p in batch.problems])[:20]
    return result.changed_entry_ids
