"""A lock held in the database, so two processes never run the sync at the same time."""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import Lease


def holder_name() -> str:
    """Who holds a lease: host, process and thread (the scheduler and a CLI run may share a
    process, and web threads may trigger work too)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def acquire(name: str, seconds: int, holder: str | None = None) -> bool:
    """Take the lease if it is free or expired; commits at once so others see it."""
    holder = holder or holder_name()
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=seconds)
    taken = db.session.execute(
        update(Lease).where(Lease.name == name, (Lease.expires_at < now) | (Lease.holder == holder))
        .values(holder=holder, expires_at=expires)).rowcount
    if not taken:
        try:
            db.session.execute(insert(Lease).values(name=name, holder=holder, expires_at=expires))
            taken = 1
        except IntegrityError:
            db.session.rollback()
            return False
    db.session.commit()
    return bool(taken)


def release(name: str, holder: str | None = None) -> None:
    holder = holder or holder_name()
    db.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
    db.session.commit()
