"""The background jobs, declared in one place. Started only by the worker or the standalone
server, never under TESTING and never in the reloader's watching parent."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any
from weakref import WeakKeyDictionary

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

log = logging.getLogger("callback.scheduler")
SYNC_JOB = "callback.sync"
RETENTION_JOB = "callback.retention"
NOTIFY_JOB = "callback.notify"
NOTIFY_SECONDS = 2


class _SyncWanted:
    """A live connector asks for a sync now; one running already goes round once more, since
    the scheduler would skip a second instance (max_instances=1)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wanted = self.running = False


_wanted: WeakKeyDictionary[Flask, _SyncWanted] = WeakKeyDictionary()


def _wanted_of(app: Flask) -> _SyncWanted:
    return _wanted.setdefault(app, _SyncWanted())


def request_sync(app: Flask) -> None:
    """Sync now (a call has just ended): at once, or right after the sync that is running."""
    state = _wanted_of(app)
    with state.lock:
        state.wanted = True
        if state.running:
            return
    scheduler = app.extensions["callback"].scheduler
    if scheduler is not None and scheduler.running:
        with contextlib.suppress(JobLookupError):  # the worker is shutting down
            scheduler.modify_job(SYNC_JOB, next_run_time=_now())


def _sync_job(app: Flask) -> None:
    from .extensions import db
    from .sync import run_sync

    state = _wanted_of(app)
    with app.app_context():
        try:
            while True:
                with state.lock:
                    state.wanted, state.running = False, True
                run_sync(trigger="scheduler")
                with state.lock:
                    if not state.wanted:
                        state.running = False
                        break
            _follow_poll_interval(app)
        finally:
            with state.lock:
                state.running = False
            db.session.remove()


def start_live_connector(app: Flask) -> Any | None:
    """Start the configured connector's live listener (AMI), if it has one; its finished calls
    trigger a sync at once instead of waiting for the poll interval."""
    from .extensions import db
    from .sync import build_connector

    with app.app_context():
        try:
            connector = build_connector()
        except Exception:
            log.exception("the connector could not be built; no live listener")
            return None
        finally:
            db.session.remove()
    if not callable(getattr(connector, "start", None)):
        return None
    from . import call_results, calling_in
    from .writer import BackgroundWriter

    writer = app.extensions["callback"].writer = BackgroundWriter(app)
    writer.submit(calling_in.clear_all)  # banners of calls a previous worker never saw end
    connector.start(on_call_ended=lambda: request_sync(app),
                    on_ringing=lambda number, on: writer.submit(calling_in.set_ringing, number,
                                                                on),
                    on_originate=lambda result: writer.submit(call_results.record, result))
    log.info("live connector %s started", connector.name)
    return connector


def connector_signature(app: Flask) -> str:
    """The active connector's type and settings, to notice that an admin changed them."""
    import json

    from .extensions import db
    from .models import ConnectorConfig

    with app.app_context():
        try:
            # Only read: creating the row here would race the sync job creating it too.
            row = db.session.get(ConnectorConfig, 1)
            kind, config = (row.type, row.config or {}) if row is not None else ("demo", {})
            return json.dumps([kind, config], sort_keys=True, default=str)
        finally:
            db.session.rollback()
            db.session.remove()


def follow_connector(app: Flask, live: Any | None, signature: str) -> tuple[Any | None, str]:
    """Restart the live connector when its settings changed (a new AMI host or secret must
    not wait for a worker restart, nor keep listening to the old PBX)."""
    now = connector_signature(app)
    if now == signature:
        return live, signature
    log.info("the connector settings changed: restarting the live connector")
    if live is not None:
        stop_live_connector(app, live)
    return start_live_connector(app), now


def stop_live_connector(app: Flask, connector: Any) -> None:
    """Stop the listener, then store what it finished meanwhile with one last sync."""
    from .extensions import db
    from .sync import run_sync

    connector.stop()
    writer = app.extensions["callback"].writer
    if writer is not None:
        from .calling_in import clear_all

        writer.submit(clear_all)  # nobody listens for the ends of calls now
        writer.stop()
        app.extensions["callback"].writer = None
    with app.app_context():
        try:
            run_sync(trigger="worker-stop")
        finally:
            db.session.remove()


def _notify_job(app: Flask) -> None:
    from .extensions import db
    from .notify.dispatch import dispatch_due

    with app.app_context():
        try:
            dispatch_due()
        finally:
            db.session.remove()


def _retention_job(app: Flask) -> None:
    from .extensions import db
    from .housekeeping import purge_expired_data

    with app.app_context():
        try:
            purge_expired_data()
            db.session.commit()
        finally:
            db.session.remove()


def _follow_poll_interval(app: Flask) -> None:
    """Pick up a changed poll interval without a restart."""
    from .models import Settings

    scheduler = app.extensions["callback"].scheduler
    if scheduler is None or not scheduler.running:
        return
    seconds = Settings.load().poll_interval
    # shutdown(wait=True) holds the job store lock while it waits for this very job, and it
    # may begin right after the check above: waiting for the lock here would never end. The
    # lock is APScheduler 3's (pinned below 4); not getting it at once means "next time".
    lock = scheduler._jobstores_lock
    if not lock.acquire(blocking=False):
        return
    try:
        job = scheduler.get_job(SYNC_JOB)  # the lock is reentrant
        if job is not None and job.trigger.interval.total_seconds() != seconds:
            job.reschedule("interval", seconds=seconds)
            log.info("poll interval is now %d s", seconds)
    finally:
        lock.release()


def should_start(app: Flask) -> bool:
    if app.config.get("TESTING"):
        return False
    # Under `flask run --reload` the parent only watches files; the child serves.
    return not (app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
                and os.environ.get("FLASK_RUN_FROM_CLI") == "true")


def start_scheduler(app: Flask) -> BackgroundScheduler | None:
    """Start the jobs in this process, unless testing or in the reloader's parent."""
    from .extensions import db
    from .models import Settings

    state = app.extensions["callback"]
    if state.scheduler is not None:
        return state.scheduler
    if not should_start(app):
        log.info("scheduler not started (testing, or the reloader's watching process)")
        return None
    with app.app_context():
        seconds = Settings.load().poll_interval
        db.session.commit()
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(_sync_job, "interval", seconds=seconds, id=SYNC_JOB, args=[app],
                      max_instances=1, coalesce=True, next_run_time=_now())
    scheduler.add_job(_retention_job, "interval", hours=6, id=RETENTION_JOB, args=[app],
                      max_instances=1, coalesce=True, next_run_time=_now())
    # Its own job: a slow mail server delays mails, never the sync.
    scheduler.add_job(_notify_job, "interval", seconds=NOTIFY_SECONDS, id=NOTIFY_JOB,
                      args=[app], max_instances=1, coalesce=True)
    scheduler.start()
    state.scheduler = scheduler
    log.info("scheduler started, sync every %d s", seconds)
    return scheduler


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
