"""The settings file of SPEC §8: export for backups, import for provisioning.

An import is checked whole before anything is written: an unknown key, a wrong type or a value
out of range refuses the file with a message naming the key, and nothing is half-applied.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from sqlalchemy import select

from .connectors.registry import connector_names, get_connector_class
from .extensions import db
from .forms import EMAIL
from .i18n import N_
from .models import ROLES, ConnectorConfig, Group, Settings, User
from .notify.settings_file import apply_sections, check_sections, export_sections
from .notify.webhook import check_url
from .settings_schema import GROUP_TYPES, SettingsError, check_value

TOP_KEYS = ("settings", "groups", "users", "connector", "notifications", "mail")
GROUP_KEYS = {"name", "type", "pbx_id", "members", "target_minutes", "webhook_url"}
USER_KEYS = {"username", "name", "extension", "email", "role", "groups", "language", "notify"}
LANGUAGES = ("", "de", "en")
MASKED = "***"  # an exported secret: read back, the stored value stays


def export_settings() -> str:
    settings = Settings.load().as_dict()
    # A chat webhook's URL is its secret (Slack, Mattermost and Teams put the token in the
    # path): exported as MASKED, which an import reads as "keep the stored one".
    groups = [{"name": g.name, "type": g.type, "pbx_id": g.pbx_id, "members": g.extensions,
               "target_minutes": g.target_minutes,
               "webhook_url": MASKED if g.webhook_url else ""}
              for g in db.session.scalars(select(Group).order_by(Group.name))]
    users = [{"username": u.username, "name": u.name, "extension": u.extension,
              "email": u.email, "role": u.role, "language": u.language,
              "notify": u.notify_missed, "groups": [g.name for g in u.groups]}
             for u in db.session.scalars(select(User).order_by(User.username))]
    config = ConnectorConfig.load()
    cls = get_connector_class(config.type)
    connector = {"type": config.type}
    connector.update({f.name: _mask((config.config or {}).get(f.name, f.default))
                      for f in cls.fields if f.name not in cls.secret_fields})
    data = {"settings": settings, "groups": groups, "users": users, "connector": connector,
            **export_sections()}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def parse_settings_file(text: str) -> dict[str, Any]:
    """Parse and check a settings file; raises SettingsError naming the first bad key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SettingsError("file", f"is not valid YAML ({exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError("file", "must be a mapping with settings, groups, users, connector")
    for key in data:
        if key not in TOP_KEYS:
            raise SettingsError(str(key), f"is not a section (known: {', '.join(TOP_KEYS)})")
    plan: dict[str, Any] = {}
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise SettingsError("settings", "must be a mapping of setting keys to values")
    plan["settings"] = {str(k): check_value(str(k), v) for k, v in settings.items()}
    plan["groups"] = [_check_group(i, g) for i, g in enumerate(_list(data, "groups"))]
    names = [g["name"] for g in plan["groups"]]
    _no_duplicates("groups", names)
    plan["users"] = [_check_user(i, u) for i, u in enumerate(_list(data, "users"))]
    _no_duplicates("users", [u["username"] for u in plan["users"]])
    if "connector" in data:
        plan["connector"] = _check_connector(data["connector"])
    plan["notify"] = check_sections(data)
    return plan


def _list(data: dict, key: str) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SettingsError(key, "must be a list")
    return value


def _no_duplicates(section: str, names: list[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise SettingsError(f"{section}.{name}", "appears twice")
        seen.add(name)


def _text(where: str, value: Any, *, digits_ok: bool = False, required: bool = True) -> str:
    if digits_ok and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # YAML reads an unquoted 4930555200 as a number
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise SettingsError(where, f"must be {'non-empty ' if required else ''}text, "
                                   f"not {value!r}")
    return value.strip()


def _check_group(index: int, group: Any) -> dict[str, Any]:
    if not isinstance(group, dict):
        raise SettingsError(f"groups[{index}]", "must be a mapping")
    where = f"groups.{group.get('name', index)}"
    for key in group:
        if key not in GROUP_KEYS:
            raise SettingsError(f"{where}.{key}", "is not a group key")
    name = _text(f"{where}.name", group.get("name"))
    kind = _text(f"{where}.type", group.get("type"))
    if kind not in GROUP_TYPES:
        raise SettingsError(f"{where}.type", f"must be one of {', '.join(GROUP_TYPES)}")
    members = group.get("members") or []
    if not isinstance(members, list):
        raise SettingsError(f"{where}.members", "must be a list of extensions")
    target = group.get("target_minutes", 0)
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= 10080:
        raise SettingsError(f"{where}.target_minutes", "must be a whole number from 0 to 10080")
    webhook = _text(f"{where}.webhook_url", group.get("webhook_url"), required=False)
    if webhook != MASKED:  # MASKED: the group's stored URL, looked up by apply_settings_file
        try:
            webhook = check_url(webhook)
        except ValueError as exc:
            raise SettingsError(f"{where}.webhook_url", str(exc)) from None
    return {"name": name, "type": kind, "target_minutes": target, "webhook_url": webhook,
            "pbx_id": _text(f"{where}.pbx_id", group.get("pbx_id"), digits_ok=True),
            "members": [_text(f"{where}.members", m, digits_ok=True) for m in members]}


def _check_user(index: int, user: Any) -> dict[str, Any]:
    if not isinstance(user, dict):
        raise SettingsError(f"users[{index}]", "must be a mapping")
    where = f"users.{user.get('username', index)}"
    for key in user:
        if key not in USER_KEYS:
            raise SettingsError(f"{where}.{key}", "is not a user key")
    role = user.get("role", "agent")
    if role not in ROLES:
        raise SettingsError(f"{where}.role", f"must be one of {', '.join(ROLES)}")
    language = user.get("language") or ""
    if language not in LANGUAGES:
        raise SettingsError(f"{where}.language", "must be de or en")
    groups = user.get("groups") or []
    if not isinstance(groups, list):
        raise SettingsError(f"{where}.groups", "must be a list of group names")
    email = _text(f"{where}.email", user.get("email"), required=False)
    if email and not EMAIL.match(email):
        raise SettingsError(f"{where}.email", "must be an e-mail address")
    notify = user.get("notify", False)
    if not isinstance(notify, bool):
        raise SettingsError(f"{where}.notify", "must be true or false")
    return {"username": _text(f"{where}.username", user.get("username")),
            "name": _text(f"{where}.name", user.get("name"), required=False),
            "extension": _text(f"{where}.extension", user.get("extension"), digits_ok=True,
                               required=False),
            "email": email,
            "role": role, "language": language, "notify": notify,
            "groups": [_text(f"{where}.groups", g) for g in groups]}


def _check_connector(connector: Any) -> dict[str, Any]:
    if not isinstance(connector, dict):
        raise SettingsError("connector", "must be a mapping with a type")
    kind = connector.get("type")
    if kind not in connector_names():
        raise SettingsError("connector.type", f"must be one of {', '.join(connector_names())}")
    cls = get_connector_class(kind)
    fields = {f.name: f for f in cls.fields}
    config = {}
    for key, value in connector.items():
        if key == "type":
            continue
        if key not in fields:
            raise SettingsError(f"connector.{key}", f"is not a setting of the {kind} connector")
        field = fields[key]
        if field.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise SettingsError(f"connector.{key}", "must be a whole number")
        elif field.kind == "bool":
            if not isinstance(value, bool):
                raise SettingsError(f"connector.{key}", "must be true or false")
        else:
            value = _text(f"connector.{key}", value, digits_ok=True, required=False)
        config[key] = value
    return {"type": kind, "config": config}


def apply_settings_file(plan: dict[str, Any], *, replace: bool = False) -> None:
    """Write a checked plan into the session (the caller commits)."""
    Settings.load().update(plan["settings"])
    groups = {g.name: g for g in db.session.scalars(select(Group))}
    for item in plan["groups"]:
        group = groups.get(item["name"]) or Group(name=item["name"])
        group.type, group.pbx_id = item["type"], item["pbx_id"]
        group.target_minutes = item["target_minutes"]
        if item["webhook_url"] != MASKED:
            group.webhook_url = item["webhook_url"]
        elif not group.webhook_url:  # a new group, or one without a webhook: nothing to keep
            raise SettingsError(f"groups.{item['name']}.webhook_url",
                                N_("is masked; give the URL"))
        group.set_extensions(item["members"])
        if group.id is None:
            db.session.add(group)
        groups[group.name] = group
    users = {u.username: u for u in db.session.scalars(select(User))}
    for item in plan["users"]:
        unknown = [g for g in item["groups"] if g not in groups]
        if unknown:
            raise SettingsError(f"users.{item['username']}.groups",
                                f"names unknown groups {', '.join(unknown)}")
        user = users.get(item["username"]) or User(username=item["username"])
        for key in ("name", "extension", "email", "role", "language"):
            setattr(user, key, item[key])
        user.notify_missed = item["notify"]
        user.groups = [groups[g] for g in item["groups"]]
        if user.id is None:
            db.session.add(user)
    if replace:
        for name, group in groups.items():
            if name not in {g["name"] for g in plan["groups"]}:
                db.session.delete(group)
        for name, user in users.items():
            if name not in {u["username"] for u in plan["users"]}:
                db.session.delete(user)
    if "connector" in plan:
        row = ConnectorConfig.load()
        keep = dict(row.config or {}) if row.type == plan["connector"]["type"] else {}
        keep.update({key: _unmask(value, keep.get(key))
                     for key, value in plan["connector"]["config"].items()})
        row.type, row.config = plan["connector"]["type"], keep
    apply_sections(plan.get("notify", {}))
    db.session.flush()


_URL_PASSWORD = re.compile(r"(://[^:/@]*:)([^@/]*)@")


def _mask(value: Any) -> Any:
    """A password inside a database URL is a secret too: exported as ***."""
    return _URL_PASSWORD.sub(r"\1***@", value) if isinstance(value, str) else value


def _unmask(value: Any, stored: Any) -> Any:
    """An exported URL read back keeps the password the database already has."""
    if not (isinstance(value, str) and ":***@" in value and isinstance(stored, str)):
        return value
    found = _URL_PASSWORD.search(stored)
    return value.replace(":***@", f":{found.group(2)}@", 1) if found else value
