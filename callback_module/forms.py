"""The module's WTForms: login, and the settings form built from the settings table."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from .settings_schema import SETTINGS, Setting, SettingsError, check_value


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Stay signed in"))


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _field_for(setting: Setting) -> Field:
    label = _l(setting.label)  # the labels are English source strings of settings_schema
    description = _l(setting.help) if setting.help else ""
    # The choice checks are left to check_value, so the form says what the settings file says.
    if setting.kind is bool:
        return BooleanField(label, description=description)
    if setting.kind is list:
        return CheckboxListField(label, description=description, validate_choice=False,
                                 choices=list(setting.choices))
    if setting.choices:
        return SelectField(label, description=description, validate_choice=False,
                           choices=list(setting.choices))
    if setting.kind is int:
        # Text, not IntegerField: a bad number must get check_value's message, not WTForms'.
        render_kw: dict[str, Any] = {"type": "number", "inputmode": "numeric"}
        if setting.minimum is not None:
            render_kw["min"] = setting.minimum
        if setting.maximum is not None:
            render_kw["max"] = setting.maximum
        return StringField(label, description=description, render_kw=render_kw)
    if setting.key == "description":
        return TextAreaField(label, description=description, render_kw={"rows": 3})
    if setting.key == "timezone":
        return StringField(label, description=description, render_kw={
            "list": "timezone-options", "autocomplete": "off", "spellcheck": "false"})
    return StringField(label, description=description, render_kw={"spellcheck": "false"})


def _as_int(text: Any) -> Any:
    text = (text or "").strip() if isinstance(text, str) else text
    if isinstance(text, str) and text.lstrip("-").isdigit():
        return int(text)
    return text


class SettingsForm(FlaskForm):
    """Every setting of settings_schema.SETTINGS, each field named like its key.

    After ``validate()``, ``checked`` holds every value in its proper type, ready to store.
    """

    checked: dict[str, Any]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        self.checked = {}
        for setting in SETTINGS:
            field = self[setting.key]
            value = _as_int(field.data) if setting.kind is int else field.data
            if setting.kind is str and value is None:
                value = ""
            try:
                self.checked[setting.key] = check_value(setting.key, value)
            except SettingsError as exc:
                field.errors = [*field.errors, str(exc)]
                ok = False
        return ok


for _setting in SETTINGS:
    setattr(SettingsForm, _setting.key, _field_for(_setting))
