"""The settings row and the active connector's configuration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..settings_schema import SETTINGS, SETTINGS_VERSION, defaults
from .singleton import load_singleton


class Settings(db.Model):
    """One row: every setting of SPEC §2 as its own column."""

    __tablename__ = "callback_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=SETTINGS_VERSION)
    description: Mapped[str] = mapped_column(Text, default="")
    poll_interval: Mapped[int] = mapped_column(Integer, default=10)
    period: Mapped[str] = mapped_column(String(20), default="LAST_7_DAYS")
    skip_saturdays: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_sundays: Mapped[bool] = mapped_column(Boolean, default=False)
    group_types: Mapped[list] = mapped_column(JSON, default=lambda: ["queue", "ringall", "hunt"])
    resolve_other_groups: Mapped[bool] = mapped_column(Boolean, default=False)
    resolve_users: Mapped[bool] = mapped_column(Boolean, default=False)
    count_non_member_attempts: Mapped[bool] = mapped_column(Boolean, default=False)
    show_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    mailbox_unanswered: Mapped[bool] = mapped_column(Boolean, default=True)
    min_inbound_talk: Mapped[int] = mapped_column(Integer, default=0)
    min_outbound_duration: Mapped[int] = mapped_column(Integer, default=0)
    not_reached_limit: Mapped[int] = mapped_column(Integer, default=3)
    max_entries_per_group: Mapped[int] = mapped_column(Integer, default=0)
    retention_days: Mapped[int] = mapped_column(Integer, default=90)
    log_level: Mapped[str] = mapped_column(String(10), default="INFO")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    default_region: Mapped[str] = mapped_column(String(4), default="DE")
    outside_line_prefix: Mapped[str] = mapped_column(String(8), default="")

    @classmethod
    def load(cls) -> Settings:
        """The settings row, created with the defaults on first use."""
        return load_singleton(cls, lambda: cls(id=1, **defaults()))

    def as_dict(self) -> dict[str, Any]:
        return {s.key: getattr(self, s.key) for s in SETTINGS}

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            setattr(self, key, value)


class ConnectorConfig(db.Model):
    """Which PBX connector runs, with its own settings (secrets included, never shown)."""

    __tablename__ = "callback_connector"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(40), default="demo")
    config: Mapped[dict] = mapped_column(JSON, default=dict)

    @classmethod
    def load(cls) -> ConnectorConfig:
        return load_singleton(cls, lambda: cls(id=1, type="demo", config={}))
