"""The standalone demo's first start: the demo PBX's groups and users, and an admin login."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from .connectors.demo_traffic import DEMO_GROUPS, DEMO_USERS
from .extensions import db
from .models import ConnectorConfig, Group, Settings, User


def setup_demo() -> list[str]:
    """Fill an empty database for the demo PBX; say how to log in. Never touches a used one."""
    Settings.load()
    ConnectorConfig.load()
    lines = []
    if db.session.scalar(select(User.id).limit(1)) is None:
        groups = {}
        for g in DEMO_GROUPS:
            group = Group(name=g.name, type=g.type, pbx_id=g.pbx_id)
            group.set_extensions(list(g.members))
            groups[g.name] = group
            db.session.add(group)
        admin_password = secrets.token_urlsafe(9)
        admin = User(username="admin", name="Administrator", role="admin",
                     groups=list(groups.values()))
        admin.set_password(admin_password)
        db.session.add(admin)
        lines.append("First start: the demo PBX is connected and these logins were made.")
        lines.append("The passwords are shown only now:")
        lines.append(f"  admin  {admin_password}  (administrator)")
        for u in DEMO_USERS:
            password = secrets.token_urlsafe(6)
            user = User(username=u.username, name=u.name, extension=u.extension, email=u.email,
                        role=u.role, groups=[groups[name] for name in u.groups])
            user.set_password(password)
            db.session.add(user)
            lines.append(f"  {u.username:<6} {password}  (agent, extension {u.extension}, "
                         f"{', '.join(u.groups) or 'no group'})")
    else:
        lines.append("Log in with your user. Forgot the admin password? Set a new one with:")
        lines.append("  .venv/bin/flask --app callback_module callback users passwd admin")
    db.session.commit()
    return lines
