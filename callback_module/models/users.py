"""Users, groups and who belongs to which."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import UTCDateTime

ROLES = ("admin", "agent")

user_groups = Table(
    "callback_user_groups",
    db.metadata,
    Column("user_id", ForeignKey("callback_users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("callback_groups.id", ondelete="CASCADE"), primary_key=True),
)


class Group(db.Model):
    """A queue, ring-all or hunt group of the PBX, as the admin configured it."""

    __tablename__ = "callback_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    type: Mapped[str] = mapped_column(String(10))
    pbx_id: Mapped[str] = mapped_column(String(80))
    target_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # A JSON POST per missed call (e.g. a chat channel's incoming webhook); "" for none.
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupMember.extension")

    @property
    def extensions(self) -> list[str]:
        return [m.extension for m in self.members]

    def set_extensions(self, extensions: list[str]) -> None:
        wanted = list(dict.fromkeys(e.strip() for e in extensions if e.strip()))
        self.members = [m for m in self.members if m.extension in wanted]
        have = {m.extension for m in self.members}
        self.members.extend(GroupMember(extension=e) for e in wanted if e not in have)


class GroupMember(db.Model):
    """An extension that rings in a group."""

    __tablename__ = "callback_group_members"
    __table_args__ = (UniqueConstraint("group_id", "extension"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("callback_groups.id", ondelete="CASCADE"))
    extension: Mapped[str] = mapped_column(String(40))
    group: Mapped[Group] = relationship(back_populates="members")


class User(UserMixin, db.Model):
    """A person with a login, an extension and the groups whose lists they work."""

    __tablename__ = "callback_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(256), default="")
    role: Mapped[str] = mapped_column(String(10), default="agent")
    extension: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    language: Mapped[str] = mapped_column(String(5), default="")
    view: Mapped[dict] = mapped_column(JSON, default=dict)
    notify_missed: Mapped[bool] = mapped_column(Boolean, default=False)  # their own opt-in
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    groups: Mapped[list[Group]] = relationship(secondary=user_groups, order_by="Group.name")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def display_name(self) -> str:
        return self.name or self.username
