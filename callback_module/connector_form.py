"""The PBX connector's admin form, built from the chosen connector's declared ``fields``.

Secrets are never put back into the form: their fields render empty, and an empty one keeps
what is stored. A password inside a URL shows as ``***`` and, sent back unchanged, is kept too.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
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
            hint = " ".join(filter(None, [hint, _("Leave empty to keep the stored secret.")]))
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


def form_config(form: ConnectorForm, row: ConnectorConfig) -> dict[str, Any]:
    """The settings to store (or test) from a validated form, secrets falling back to the
    stored ones; stored keys the connector no longer declares are kept."""
    cls = form.connector
    stored = _stored(row, cls.name)
    config = dict(stored)
    for spec in cls.fields:
        value = form[spec.name].data
        old = stored.get(spec.name, spec.default)
        if spec.kind == "secret":
            value = value or old or ""
        elif spec.kind == "int":
            value = spec.default if value is None else value
        elif spec.kind == "bool":
            value = bool(value)
        else:
            value = value or ""
            if isinstance(old, str) and value == mask_url_text(old):
                value = old  # the URL came back with its password as ***
        config[spec.name] = value
    return config
