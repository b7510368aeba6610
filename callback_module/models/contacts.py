"""The address book: imported contacts and their numbers in E.164, for names, mails and vCards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime


class Contact(db.Model):
    """One person or company from a .vcf or .csv file; ``uid`` makes a re-import an update."""

    __tablename__ = "callback_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    organization: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    vcard: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    numbers: Mapped[list[ContactNumber]] = relationship(
        cascade="all, delete-orphan", order_by="ContactNumber.id", passive_deletes=True)


class ContactNumber(db.Model):
    """A phone number of a contact, as written in the file and in E.164 for matching callers."""

    __tablename__ = "callback_contact_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("callback_contacts.id", ondelete="CASCADE"), index=True)
    number_e164: Mapped[str] = mapped_column(String(20), index=True)
    number: Mapped[str] = mapped_column(String(80), default="")
    kind: Mapped[str] = mapped_column(String(20), default="")
