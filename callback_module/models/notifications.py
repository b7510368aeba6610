"""Notification settings, and every notification planned, sent, skipped or failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .singleton import load_singleton
from .types import UTCDateTime

NOTIFICATION_STATES = ("pending", "sending", "sent", "skipped", "failed")


class NotifySettings(db.Model):
    """One row: the ``notifications`` and ``mail`` sections (notify.settings checks them)."""

    __tablename__ = "callback_notify_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notifications: Mapped[dict] = mapped_column(JSON, default=dict)
    mail: Mapped[dict] = mapped_column(JSON, default=dict)

    @classmethod
    def load(cls) -> NotifySettings:
        return load_singleton(cls, lambda: cls(id=1, notifications={}, mail={}))

    def values(self, section: str) -> dict[str, Any]:
        """The section's settings, defaults filled in for keys never set."""
        from ..notify.settings import defaults

        return {**defaults(section), **(getattr(self, section) or {})}

    def update(self, section: str, values: dict[str, Any]) -> None:
        # A new dict: SQLAlchemy sees a JSON column change only when it is assigned.
        setattr(self, section, {**(getattr(self, section) or {}), **values})


class Notification(db.Model):
    """One mail to one person, or one webhook post, about one call.

    Unique per call, channel and target: the same call synced twice, or ringing one person's
    phones several times, never gives a second mail. ``rule`` names what skipped it.
    """

    __tablename__ = "callback_notifications"
    __table_args__ = (UniqueConstraint("call_key", "channel", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_key: Mapped[str] = mapped_column(String(160))
    channel: Mapped[str] = mapped_column(String(10))  # mail | webhook
    target: Mapped[str] = mapped_column(String(500))  # "user:<id>" or "group:<id>"
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("callback_users.id", ondelete="CASCADE"), nullable=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("callback_groups.id", ondelete="CASCADE"), nullable=True)
    party_key: Mapped[str] = mapped_column(String(80), index=True)
    anchor_key: Mapped[str] = mapped_column(String(160), default="")  # the entry's, if any
    rang_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    rule: Mapped[str] = mapped_column(String(40), default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
