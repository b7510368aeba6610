"""Build the rules' :class:`Policy` from what the admin configured in the database."""

from __future__ import annotations

from sqlalchemy import select

from .extensions import db
from .models import Group, Settings, User
from .rules.policy import GroupDef, Policy


def load_policy() -> Policy:
    settings = Settings.load().as_dict()
    groups = [GroupDef(g.name, g.type, g.pbx_id, frozenset(g.extensions))
              for g in db.session.scalars(select(Group).order_by(Group.name))]
    users = list(db.session.scalars(select(User)))
    extensions = {u.extension for u in users if u.extension}
    # queue_log names members by their queue member name, which admins set to the user's name.
    member_names = {u.name: u.extension for u in users if u.name and u.extension}
    return Policy.from_settings(settings, groups, extensions, member_names)
