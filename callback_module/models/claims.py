"""Claims: "Anna is calling back now", one per entry, until it expires or someone acts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class Claim(db.Model):
    """Who is calling an entry's caller back right now; a row past ``expires_at`` is no claim.

    Keyed by the entry, so there is never more than one; the entry's deletion (a rebuild by the
    rules, retention) takes the claim with it.
    """

    __tablename__ = "callback_claims"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("callback_entries.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("callback_users.id", ondelete="SET NULL"), nullable=True)
    username: Mapped[str] = mapped_column(String(80), default="")
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The attempt id of the call placed with the claim: the PBX's answer about it names it.
    call_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)

    def is_live(self, now: datetime) -> bool:
        return self.expires_at > now

