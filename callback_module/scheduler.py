"""The background jobs, declared in one place. Started only by the worker or the standalone
server, never under TESTING and never in the reloader's watching parent."""

from __future__ import annotations

import logging
import os

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

log = logging.getLogger("callback.scheduler")
SYNC_JOB = "callback.sync"
RETENTION_JOB = "callback.retention"


def _sync_job(app: Flask) -> None:
    from .extensions import db
    from .sync import run_sync

    with app.app_context():
        try:
            run_sync(trigger="scheduler")
            _follow_poll_interval(app)
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
    seconds = Settings.load().poll_interval
    job = scheduler.get_job(SYNC_JOB) if scheduler else None
    if job is not None and job.trigger.interval.total_seconds() != seconds:
        job.reschedule("interval", seconds=seconds)
        log.info("poll interval is now %d s", seconds)


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
    scheduler.start()
    state.scheduler = scheduler
    log.info("scheduler started, sync every %d s", seconds)
    return scheduler


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
