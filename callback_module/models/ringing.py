"""Callers on the line right now, for the "calling in now" banner (SPEC §3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class Ringing(db.Model):
    """One row per caller number (E.164) whose call is going on, written by the worker's live
    connector; every web process reads it, so a list opened mid-call shows the banner too."""

    __tablename__ = "callback_ringing"

    number_e164: Mapped[str] = mapped_column(String(20), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
