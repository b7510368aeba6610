"""Normalized call records as stored: a call, its CDR legs and its queue_log events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..records import CallRecord, Leg, QueueEvent
from .types import UTCDateTime


class Call(db.Model):
    """One call (one linkedid). ``party_key`` is the outside number it is about, as classified."""

    __tablename__ = "callback_calls"
    __table_args__ = (Index("ix_callback_calls_party_start", "party_key", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    direction: Mapped[str] = mapped_column(String(10), default="")
    party_key: Mapped[str] = mapped_column(String(80), default="")
    legs: Mapped[list[CallLeg]] = relationship(
        back_populates="call", cascade="all, delete-orphan", passive_deletes=True)
    queue_events: Mapped[list[QueueEventRow]] = relationship(
        back_populates="call", cascade="all, delete-orphan", passive_deletes=True)

    def record(self) -> CallRecord:
        from ..records import leg_order

        legs = sorted((leg.to_leg(self.key) for leg in self.legs), key=leg_order)
        events = sorted((e.to_event() for e in self.queue_events), key=lambda e: (e.at, e.key))
        return CallRecord(self.key, tuple(legs), tuple(events))


class CallLeg(db.Model):
    """One CDR row of a call."""

    __tablename__ = "callback_call_legs"
    __table_args__ = (UniqueConstraint("call_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("callback_calls.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    src: Mapped[str] = mapped_column(String(80), default="")
    clid: Mapped[str] = mapped_column(String(160), default="")
    dst: Mapped[str] = mapped_column(String(80), default="")
    dcontext: Mapped[str] = mapped_column(String(80), default="")
    channel: Mapped[str] = mapped_column(String(120), default="")
    dstchannel: Mapped[str] = mapped_column(String(120), default="")
    lastapp: Mapped[str] = mapped_column(String(80), default="")
    lastdata: Mapped[str] = mapped_column(String(255), default="")
    duration: Mapped[int] = mapped_column(Integer, default=0)
    billsec: Mapped[int] = mapped_column(Integer, default=0)
    disposition: Mapped[str] = mapped_column(String(45), default="")
    uniqueid: Mapped[str] = mapped_column(String(160), default="", index=True)
    linkedid: Mapped[str] = mapped_column(String(160), default="")
    sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    did: Mapped[str] = mapped_column(String(80), default="")
    call: Mapped[Call] = relationship(back_populates="legs")

    FIELDS = ("key", "start", "answer", "end", "src", "clid", "dst", "dcontext", "channel",
              "dstchannel", "lastapp", "lastdata", "duration", "billsec", "disposition",
              "uniqueid", "linkedid", "sequence", "did")

    @classmethod
    def values_of(cls, leg: Leg, call_id: int) -> dict:
        return {"call_id": call_id, **{f: getattr(leg, f) for f in cls.FIELDS}}

    def to_leg(self, call_key: str) -> Leg:
        return Leg(call_key=call_key, **{f: getattr(self, f) for f in self.FIELDS})


class QueueEventRow(db.Model):
    """One queue_log line of a call."""

    __tablename__ = "callback_queue_events"
    __table_args__ = (UniqueConstraint("call_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("callback_calls.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    callid: Mapped[str] = mapped_column(String(160))
    queue: Mapped[str] = mapped_column(String(128))
    agent: Mapped[str] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(32))
    data: Mapped[list] = mapped_column(JSON, default=list)
    call: Mapped[Call] = relationship(back_populates="queue_events")

    @classmethod
    def values_of(cls, event: QueueEvent, call_id: int) -> dict:
        return {"call_id": call_id, "key": event.key, "at": event.at, "callid": event.callid,
                "queue": event.queue, "agent": event.agent, "event": event.event,
                "data": list(event.data)}

    def to_event(self) -> QueueEvent:
        return QueueEvent(at=self.at, callid=self.callid, queue=self.queue, agent=self.agent,
                          event=self.event, data=tuple(self.data))
