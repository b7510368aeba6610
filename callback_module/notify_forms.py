"""The notification settings form, built from notify.settings' tables, and the test-mail form.

One section form per table, each field named like its key; in the page form they sit under
the section's name, so the inputs are ``notifications-recipients`` and ``mail-host``, as the
settings file writes ``notifications: recipients:``. The checks are those of the settings file
(notify.settings.check), so the page refuses what the file refuses, with the same message.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, FormField, PasswordField, StringField, TextAreaField
from wtforms.form import Form
from wtforms.validators import DataRequired, Length, Regexp

from .forms import EMAIL, as_int, field_for
from .i18n import N_
from .language import settings_error
from .notify.settings import MAIL_SETTINGS, SECRETS, SECTIONS, check
from .settings_schema import Setting, SettingsError

# English, marked with N_: field_for translates them when the page renders.
CHOICE_LABELS = {
    "none": N_("Nobody"), "first": N_("The first member whose phone rang"),
    "last": N_("The last member whose phone rang"), "all": N_("Every member whose phone rang"),
    "de": "Deutsch", "en": "English",
}
SECURITY_LABELS = {"none": N_("None (plain text)"), "starttls": N_("STARTTLS (usually port 587)"),
                   "tls": N_("TLS (usually port 465)")}
# The page's fieldsets: (DOM id, title, "section.key" in order). A key no fieldset names still
# shows, under "Other", so a new setting never goes missing from the page.
FIELDSETS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("notify-recipients", N_("Recipients"),
     ("notifications.recipients", "notifications.third_party_answered")),
    ("notify-content", N_("Mail content"),
     ("notifications.reply_to_caller", "notifications.attach_vcard",
      "notifications.link_prefix", "notifications.language")),
    ("notify-exceptions", N_("Exceptions"),
     ("notifications.skip_internal", "notifications.skip_withheld",
      "notifications.skip_no_contact", "notifications.skip_repeat_same_day",
      "notifications.skip_repeat_not_logged_in", "notifications.skip_short_ring",
      "notifications.excluded_numbers")),
    ("notify-sending", N_("Sending"), ("notifications.hold_seconds",)),
    ("notify-webhooks", N_("Webhooks"), ("notifications.mask_numbers",)),
    ("notify-smtp", N_("Mail server (SMTP)"),
     tuple(f"mail.{s.key}" for s in MAIL_SETTINGS)),
)
WIDE = {"notifications.excluded_numbers"}


class LinesField(TextAreaField):
    """A list as a text area, one item a line; blank lines drop out."""

    def _value(self) -> str:
        return "\n".join(map(str, self.data)) if isinstance(self.data, list) else self.data or ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = [line.strip() for line in str(valuelist[0]).splitlines() if line.strip()]


def _field(section: str, setting: Setting) -> Field:
    label = _l(setting.label)
    description = _l(setting.help) if setting.help else ""
    if setting.key == "excluded_numbers":
        return LinesField(label, description=description,
                          render_kw={"rows": 4, "spellcheck": "false"})
    if (section, setting.key) in SECRETS:
        # PasswordField never renders its value; new-password keeps browsers from filling
        # in the admin's own login.
        return PasswordField(label, description=description,
                             render_kw={"autocomplete": "new-password"})
    if setting.key == "sender":
        return StringField(label, description=description,
                           render_kw={"type": "email", "spellcheck": "false"})
    return field_for(setting, SECURITY_LABELS if setting.key == "security" else CHOICE_LABELS)


class SectionForm(Form):
    """One section's settings. After ``validate()``, ``checked`` holds the values to store;
    an empty secret is left out, so the stored one stays."""

    section: ClassVar[str]
    checked: dict[str, Any]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        self.checked = {}
        for setting in SECTIONS[self.section]:
            field = self[setting.key]
            if (self.section, setting.key) in SECRETS and not field.data:
                continue
            value = as_int(field.data) if setting.kind is int else field.data
            if setting.kind is str and value is None:
                value = ""
            try:
                self.checked[setting.key] = check(self.section, setting.key, value)
            except SettingsError as exc:
                field.errors = [*field.errors, settings_error(exc)]
                ok = False
        return ok


class NotifySectionForm(SectionForm):
    section = "notifications"


class MailSectionForm(SectionForm):
    section = "mail"

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.checked["host"] and not self.checked["sender"]:
            # Every mail needs a From: the dispatcher would fail each one on its own.
            self["sender"].errors = [*self["sender"].errors, settings_error(SettingsError(
                "mail.sender", N_("is needed when a mail server is set")))]
            ok = False
        return ok


for _section, _form_class in (("notifications", NotifySectionForm), ("mail", MailSectionForm)):
    for _setting in SECTIONS[_section]:
        setattr(_form_class, _setting.key, _field(_section, _setting))


class NotifyForm(FlaskForm):
    """Both sections; build it with ``data={"notifications": {...}, "mail": {...}}``."""

    notifications = FormField(NotifySectionForm)
    mail = FormField(MailSectionForm)

    @property
    def checked(self) -> dict[str, dict[str, Any]]:
        return {"notifications": self.notifications.checked, "mail": self.mail.checked}


def fieldsets(form: NotifyForm) -> list[tuple[str, str, list[tuple[Field, bool]]]]:
    """(DOM id, English title, [(field, wide)]) for the page, "Other" last when needed."""
    named = {key for _id, _title, keys in FIELDSETS for key in keys}
    rest = tuple(f"{section}.{s.key}" for section, table in SECTIONS.items() for s in table
                 if f"{section}.{s.key}" not in named)
    groups = FIELDSETS + ((("notify-other", N_("Other"), rest),) if rest else ())
    return [(dom_id, title, [(_lookup(form, key), key in WIDE) for key in keys])
            for dom_id, title, keys in groups]


def _lookup(form: NotifyForm, key: str) -> Field:
    section, name = key.split(".", 1)
    return form[section][name]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class TestMailForm(FlaskForm):
    """Where the test mail goes; made with ``prefix="test-"``, so its CSRF field's id is not
    the settings form's on the same page."""

    __test__ = False  # not a pytest test class, whatever its name
    to = StringField(_l("To"), filters=[_strip],
                     validators=[DataRequired(), Length(max=254),
                                 Regexp(EMAIL, message=_l("Not an e-mail address."))],
                     render_kw={"type": "email", "autocomplete": "email"})

