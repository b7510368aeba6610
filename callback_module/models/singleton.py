"""The one-row tables (settings, connector, notification settings): read, or made once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from ..extensions import db

T = TypeVar("T")


def load_singleton(cls: type[T], make: Callable[[], T]) -> T:
    """Row 1 of ``cls``, made with ``make()`` on first use. The scheduler's jobs and the web
    threads may all be first at once: the one that loses the race reads the winner's row
    instead of failing (a savepoint keeps the caller's transaction intact)."""
    row = db.session.get(cls, 1)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = make()
            db.session.add(row)
    except IntegrityError:
        row = db.session.get(cls, 1)
        if row is None:
            raise
    return row
