"""The PBX connector's admin form, built from the chosen connector's declared ``fields``.

Secrets are never put back into the form: their fields render empty, and an empty one keeps
what is stored, but only while the secret's target (the server it is sent to: host, port and
user, or the database URL without its password) is the stored one. Otherwise an admin, or
whoever has their session, could have the stored secret sent to any server they type in, by
testing or saving. A password inside a URL shows as ``***`` and, sent back unchanged, is kept
too (the URL, and so its server, is then the stored one).
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .connectors.base import Connector, ConnectorField
from .connectors.cdr_database import mask_url_text
from .connectors.registry import connector_names, get_connector_class
from .language import translate
from .models import ConnectorConfig

RESERVED = frozenset({"type", "csrf_token", "meta"})
ConnectorClass = type[Connector]  # by name: ``type`` in the form below is its select
# The settings that say where a connector's secrets go: freepbx_cdr's database URL (compared
# without its password), the AMI's host, port and user (not its backfill cdr_url: the AMI
# secret never goes there). A connector can name its own as ``secret_target``; one named in
# neither place counts all its other settings, the safe side (any change asks again).
SECRET_TARGETS: dict[str, tuple[str, ...]] = {
    "freepbx_cdr": ("cdr_url",),
    "asterisk_ami": ("host", "port", "username"),
}


class ConnectorForm(FlaskForm):
    """The connector type and, from ``connector_form``, that connector's own fields."""

    type = SelectField(_l("Connector"))
    connector: ConnectorClass

    def connector_fields(self) -> list[Field]:
        return [self[spec.name] for spec in self.connector.fields]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _field(spec: ConnectorField, secret_kept: bool) -> Field:
    label = _(spec.label)  # the connectors mark their English labels and help with N_
    hint = _(spec.help) if spec.help else ""
    needed = InputRequired() if spec.required else Optional()
    if spec.kind == "bool":
        return BooleanField(label, description=hint)
    if spec.kind == "int":
        # Optional: an int left empty stores the connector's default (form_config).
        return IntegerField(label, description=hint, validators=[needed],
                            render_kw={"inputmode": "numeric"})
    if spec.kind == "secret":
        if secret_kept:
            hint = " ".join(filter(None, [hint, _(
                "Leave empty to keep the stored secret; it is only used with the server it "
                "was saved for.")]))
        return PasswordField(label, description=hint, validators=[
            DataRequired() if spec.required and not secret_kept else Optional(),
            Length(max=500)],
            # Not the admin's own login, which a browser would offer to fill in here.
            render_kw={"autocomplete": "new-password"})
    return StringField(label, description=hint, filters=[_strip], validators=[
        DataRequired() if spec.required else Optional(), Length(max=2000)],
        render_kw={"spellcheck": "false", "autocomplete": "off"})


def _stored(row: ConnectorConfig, kind: str) -> dict[str, Any]:
    # Another type's settings mean nothing to this one, as on a settings file import.
    return dict(row.config or {}) if row.type == kind else {}


def connector_form(row: ConnectorConfig, kind: str) -> ConnectorForm:
    """The form for connector ``kind``, filled with its stored settings (or its defaults)."""
    cls = get_connector_class(kind)
    stored = _stored(row, kind)
    kept = frozenset(spec.name for spec in cls.fields
                     if spec.kind == "secret" and stored.get(spec.name))
    attributes: dict[str, Any] = {}
    for spec in cls.fields:
        if spec.name in RESERVED:
            raise ValueError(f"{cls.__name__} has a field named {spec.name!r}")
        attributes[spec.name] = _field(spec, spec.name in kept)
    form_class = type(f"{cls.__name__}Form", (ConnectorForm,), attributes)
    shown = {spec.name: _shown(stored.get(spec.name, spec.default)) for spec in cls.fields
             if spec.kind != "secret"}
    form = form_class(data={"type": kind, **shown})
    form.connector = cls
    form.type.choices = [SelectChoice(name, translate(get_connector_class(name).label))
                         for name in connector_names()]
    # A new type re-renders its fields in place (htmx); the URL keeps it for a reload.
    form.type.render_kw = {"hx-get": url_for("callback.admin_connector"),
                           "hx-target": "#connector-fields", "hx-swap": "outerHTML",
                           "hx-push-url": "true", "autocomplete": "off"}
    return form


def _shown(value: Any) -> Any:
    return mask_url_text(value) if isinstance(value, str) else value


def _target_value(value: Any) -> Any:
    """A setting as part of a secret's target: a URL without its password, text stripped."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if "://" not in value:
        return value
    try:
        return make_url(value).set(password=None).render_as_string(hide_password=False)
    except (ArgumentError, ValueError):
        return mask_url_text(value)


def _target(cls: ConnectorClass, config: dict[str, Any]) -> tuple[Any, ...]:
    names = (getattr(cls, "secret_target", None) or SECRET_TARGETS.get(cls.name)
             or tuple(spec.name for spec in cls.fields if spec.kind != "secret"))
    defaults = {spec.name: spec.default for spec in cls.fields}
    return tuple(_target_value(config.get(name, defaults.get(name))) for name in names)


def form_config(form: ConnectorForm, row: ConnectorConfig) -> dict[str, Any]:
    """The settings to store (or test) from a validated form; stored keys the connector no
    longer declares are kept. An empty secret is the stored one while the target is the stored
    one (``secrets_left_behind``), else empty."""
    cls = form.connector
    stored = _stored(row, cls.name)
    config = dict(stored)
    secrets = []
    for spec in cls.fields:
        value = form[spec.name].data
        old = stored.get(spec.name, spec.default)
        if spec.kind == "secret":
            secrets.append(spec)
            continue
        if spec.kind == "int":
            value = spec.default if value is None else value
        elif spec.kind == "bool":
            value = bool(value)
        else:
            value = value or ""
            if isinstance(old, str) and value == mask_url_text(old):
                value = old  # the URL came back with its password as ***
        config[spec.name] = value
    same_target = _target(cls, config) == _target(cls, stored)
    for spec in secrets:
        old = stored.get(spec.name, spec.default) if same_target else ""
        config[spec.name] = form[spec.name].data or old or ""
    return config


def secrets_left_behind(form: ConnectorForm, row: ConnectorConfig) -> list[ConnectorField]:
    """The secret fields left empty whose stored value ``form_config`` does not use: the
    form's target is not the stored one."""
    cls = form.connector
    stored = _stored(row, cls.name)
    config = form_config(form, row)
    return [spec for spec in cls.fields if spec.kind == "secret" and not form[spec.name].data
            and stored.get(spec.name) and not config[spec.name]]


def ask_for_secrets_again(form: ConnectorForm, row: ConnectorConfig, message: str) -> bool:
    """``message`` at each required secret field left behind (``secrets_left_behind``); False
    when there is one. Run after ``form.validate()``: the field's own check let it be empty,
    as a secret was stored."""
    missing = [spec for spec in secrets_left_behind(form, row) if spec.required]
    for spec in missing:
        field = form[spec.name]
        field.errors = [*field.errors, message]
    return not missing
