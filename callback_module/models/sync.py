"""Sync runs, connector cursors and the lease that keeps the sync from running twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class SyncRun(db.Model):
    """One run of the sync or of an import, with what it read and what went wrong."""

    __tablename__ = "callback_sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20))
    connector: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(10), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lines_read: Mapped[int] = mapped_column(Integer, default=0)
    legs_new: Mapped[int] = mapped_column(Integer, default=0)
    queue_events_new: Mapped[int] = mapped_column(Integer, default=0)
    calls_touched: Mapped[int] = mapped_column(Integer, default=0)
    entries_changed: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[int] = mapped_column(Integer, default=0)
    problem_sample: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")


class Cursor(db.Model):
    """Where a connector stopped reading, so the next sync reads only what is new."""

    __tablename__ = "callback_cursors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lease(db.Model):
    """A named lock with an expiry, held in the database so it works across processes."""

    __tablename__ = "callback_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
