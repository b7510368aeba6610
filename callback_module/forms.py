"""The module's WTForms: login, the settings form built from the settings table, admin forms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from .extensions import db
from .language import settings_error, translate
from .models import Group, User
from .notify.webhook import check_url
from .settings_schema import (
    CHOICE_LABELS,
    LOG_LEVELS,
    SETTINGS,
    Setting,
    SettingsError,
    check_value,
)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Stay signed in"))


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def field_for(setting: Setting, labels: Mapping[str, str] = CHOICE_LABELS) -> Field:
    """The form field of a settings table's row; ``labels``: English choice labels (N_)."""
    label = _l(setting.label)  # settings_schema marks its English labels and help with N_
    description = _l(setting.help) if setting.help else ""
    choices = [SelectChoice(c, _l(labels[c]) if c in labels else c) for c in setting.choices]
    # The choice checks are left to check_value, so the form says what the settings file says.
    if setting.kind is bool:
        return BooleanField(label, description=description)
    if setting.kind is list:
        return CheckboxListField(label, description=description, validate_choice=False,
                                 choices=choices)
    if setting.choices:
        return SelectField(label, description=description, validate_choice=False,
                           choices=choices)
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


def as_int(text: Any) -> Any:
    """A number typed into a text field as int; anything else as it is, for the check to refuse."""
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
            value = as_int(field.data) if setting.kind is int else field.data
            if setting.kind is str and value is None:
                value = ""
            try:
                self.checked[setting.key] = check_value(setting.key, value)
            except SettingsError as exc:
                field.errors = [*field.errors, settings_error(exc)]
                ok = False
        return ok


for _setting in SETTINGS:
    setattr(SettingsForm, _setting.key, field_for(_setting))


# Admin forms: groups and users. Uniqueness is checked here, so the message sits at the field.
EXTENSION = re.compile(r"^[0-9A-Za-z*#+._-]{1,40}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
GROUP_TYPE_LABELS = {"queue": _l("Queue"), "ringall": _l("Ring-all group"),
                     "hunt": _l("Hunt group")}
LANGUAGE_LABELS = [SelectChoice("", _l("Browser default")), SelectChoice("de", "Deutsch"),
                   SelectChoice("en", "English")]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def split_extensions(text: str | None) -> list[str]:
    """``"201, 202 203"`` as ``["201", "202", "203"]``, in order, without repeats."""
    return list(dict.fromkeys(t for t in re.split(r"[\s,;]+", text or "") if t))


class GroupForm(FlaskForm):
    """A group of the PBX; ``group_id`` is the edited group's, so its own name is no clash."""

    group_id: int | None = None
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(), Length(max=80)])
    type = SelectField(_l("Type"),
                       choices=[SelectChoice(k, v) for k, v in GROUP_TYPE_LABELS.items()])
    pbx_id = StringField(_l("PBX identifier"), filters=[_strip],
                         validators=[DataRequired(), Length(max=80)],
                         description=_l("The queue name or the ring group's number, "
                                        "as the PBX knows it."),
                         render_kw={"spellcheck": "false"})
    members = StringField(_l("Members"), description=_l(
        "Extensions, separated by commas or spaces, e.g. 201, 202."),
        render_kw={"spellcheck": "false", "inputmode": "numeric"})
    target_minutes = IntegerField(
        _l("First attempt within (minutes)"), default=0,
        validators=[InputRequired(), NumberRange(0, 10080)],
        description=_l("Entries waiting longer for a first attempt are highlighted; "
                       "0 = no target. At most 10080 (a week)."),
        render_kw={"min": 0, "max": 10080, "inputmode": "numeric"})
    webhook_url = StringField(
        _l("Webhook URL"), filters=[_strip],
        description=_l("Each missed call of the group is posted there as JSON, e.g. to a chat "
                       "channel's incoming webhook. Empty: none."),
        render_kw={"inputmode": "url", "spellcheck": "false", "autocomplete": "off"})

    def validate_name(self, field: Field) -> None:
        other = db.session.scalar(select(Group).where(
            func.lower(Group.name) == field.data.lower(), Group.id != (self.group_id or 0)))
        if other is not None:
            raise ValidationError(_("Another group is already called that."))

    def validate_pbx_id(self, field: Field) -> None:
        # Two groups on one queue would split its calls at random between them.
        other = db.session.scalar(select(Group).where(
            Group.pbx_id == field.data, Group.id != (self.group_id or 0)))
        if other is not None:
            raise ValidationError(_("The group %(name)s already has this PBX identifier.",
                                     name=other.name))

    def validate_members(self, field: Field) -> None:
        bad = [t for t in split_extensions(field.data) if not EXTENSION.match(t)]
        if bad:
            raise ValidationError(_("Not an extension: %(items)s", items=", ".join(bad)))

    def validate_webhook_url(self, field: Field) -> None:
        try:
            field.data = check_url(field.data or "")
        except ValueError as exc:
            raise ValidationError(f"{_('Webhook URL')}: {translate(exc.args[0])}") from None


class UserForm(FlaskForm):
    """A user as the admin edits it; ``user_id`` is the edited user's."""

    user_id: int | None = None
    username = StringField(_l("Username"), filters=[_strip], validators=[
        DataRequired(), Length(max=80),
        Regexp(r"^[\w.@+-]+$", message=_l("Letters, digits and . @ + - _ only."))],
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    name = StringField(_l("Name"), filters=[_strip], validators=[Length(max=120)])
    extension = StringField(_l("Extension"), filters=[_strip], validators=[
        Optional(), Regexp(EXTENSION, message=_l("Digits (and * # + . - _) only, at most 40."))],
        render_kw={"inputmode": "numeric"})
    email = StringField(_l("E-mail"), filters=[_strip], validators=[
        Optional(), Length(max=254), Regexp(EMAIL, message=_l("Not an e-mail address."))],
        render_kw={"type": "email", "autocomplete": "off"})
    role = SelectField(_l("Role"), choices=[SelectChoice("agent", _l("Agent")),
                                            SelectChoice("admin", _l("Admin"))])
    groups = CheckboxListField(_l("Groups"), coerce=int, choices=[])
    language = SelectField(_l("Language"), choices=LANGUAGE_LABELS)
    notify_missed = BooleanField(_l("E-mails about missed calls"), description=_l(
        "The user can change this on their Account page."))

    def validate_username(self, field: Field) -> None:
        other = db.session.scalar(select(User).where(
            func.lower(User.username) == field.data.lower(), User.id != (self.user_id or 0)))
        if other is not None:
            raise ValidationError(_("This username is taken."))

    def validate_extension(self, field: Field) -> None:
        # The lists name who called back by extension: one extension, one person.
        other = db.session.scalar(select(User).where(
            User.extension == field.data, User.id != (self.user_id or 0)))
        if field.data and other is not None:
            raise ValidationError(_("%(user)s already has this extension.",
                                     user=other.username))


PASSWORD_HINT = _l("Leave empty to have one generated. It is shown once.")
PASSWORD_LENGTH = _l("At least 8 characters, at most 200.")


class NewUserForm(UserForm):
    password = PasswordField(_l("Password"), description=PASSWORD_HINT,
                             validators=[Optional(),
                                         Length(min=8, max=200, message=PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "new-password"})


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), description=PASSWORD_HINT,
                             validators=[Optional(),
                                         Length(min=8, max=200, message=PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "new-password"})


class LogLevelForm(FlaskForm):
    log_level = SelectField(_l("Log level"), choices=list(LOG_LEVELS),
                            description=_l("What the module writes to its log from now on."))
