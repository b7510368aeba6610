"""Entries of the lists, the calls and attempts that make them, and their timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime
from .users import Group

STATES = ("open", "attempts", "done", "not_reached")
OPEN_STATES = ("open", "attempts")


class Entry(db.Model):
    """One caller to be called back by one group. Rebuilt by the rules; never edited by hand.

    ``anchor_key`` is the key of the entry's first missed call: the entry's identity across
    recomputations, and what manual actions point at.
    """

    __tablename__ = "callback_entries"
    __table_args__ = (
        Index("ix_callback_entries_group_state", "group_id", "state", "last_call_at"),
        Index("ix_callback_entries_party", "party_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("callback_groups.id", ondelete="CASCADE"))
    party_key: Mapped[str] = mapped_column(String(80))
    anchor_key: Mapped[str] = mapped_column(String(160))
    number: Mapped[str] = mapped_column(String(80), default="")
    number_e164: Mapped[str | None] = mapped_column(String(20), nullable=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[str] = mapped_column(String(12), default="open")
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_call_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_call_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    group: Mapped[Group] = relationship()
    calls: Mapped[list[EntryCall]] = relationship(
        cascade="all, delete-orphan", order_by="EntryCall.at", passive_deletes=True)
    attempts: Mapped[list[Attempt]] = relationship(
        cascade="all, delete-orphan", order_by="Attempt.at", passive_deletes=True)

    @property
    def anonymous(self) -> bool:
        return self.party_key.startswith("anonymous:")


class EntryCall(db.Model):
    """A missed call counted in an entry."""

    __tablename__ = "callback_entry_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("callback_entries.id", ondelete="CASCADE"), index=True)
    call_key: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ring_s: Mapped[int] = mapped_column(Integer, default=0)
    ended: Mapped[str] = mapped_column(String(20), default="")
    rang: Mapped[list] = mapped_column(JSON, default=list)


class Attempt(db.Model):
    """A counted callback attempt of an entry."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("callback_entries.id", ondelete="CASCADE"), index=True)
    call_key: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(80), default="")
    result: Mapped[str] = mapped_column(String(20), default="")
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    ring_s: Mapped[int] = mapped_column(Integer, default=0)
    talk_s: Mapped[int] = mapped_column(Integer, default=0)


class TimelineEvent(db.Model):
    """Something that happened to a caller that the call data does not tell by itself.

    Manual actions (done, not_reached, reopen, outcome) are inputs to the rules: they point at
    the entry by (group, party, anchor call) so that recomputing never loses them.
    """

    __tablename__ = "callback_timeline"
    __table_args__ = (Index("ix_callback_timeline_party", "party_key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("callback_groups.id", ondelete="CASCADE"))
    party_key: Mapped[str] = mapped_column(String(80))
    anchor_key: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("callback_users.id", ondelete="SET NULL"), nullable=True)
    username: Mapped[str] = mapped_column(String(80), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
