"""Admin page for the notifications: the rules and the mail server, a test mail, and the recent
notifications, so the admin sees what went out, what was skipped and why, and what failed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from .. import numbers
from ..extensions import db
from ..language import translate
from ..models import Group, Notification, NotifySettings, Settings, User
from ..notify.mail import test_message
from ..notify.outgoing import smtp_settings
from ..notify.settings import RULE_LABELS, SECRETS, SECTIONS
from ..notify.smtp import MailError, send
from ..notify_forms import MailSectionForm, NotifyForm, TestMailForm, fieldsets
from . import blueprint
from .auth import admin_required
from .lists import render_page, wants_fragment

log = logging.getLogger("callback.admin")
PAGE = "callback/admin/notifications.html"
STATUS = "callback/partials/test_mail_status.html"
RECENT = 50


@dataclass(frozen=True)
class MailResult:
    """What the test mail did; ``unsaved``: it used settings typed into the form, not stored."""

    ok: bool
    message: str
    unsaved: bool = False


def stored_values(row: NotifySettings) -> dict[str, dict[str, Any]]:
    """Both sections as a form shows them: every secret blank, never sent to the browser."""
    values = {section: row.values(section) for section in SECTIONS}
    for section, key in SECRETS:
        values[section][key] = ""
    return values


def local_time() -> Callable[[datetime | None], str]:
    """A formatter of stored (UTC) times in the PBX's zone, as the lists show them."""
    zone = ZoneInfo(Settings.load().timezone or "UTC")
    return lambda at: at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if at else ""


@blueprint.route("/admin/notifications", methods=["GET", "POST"])
@admin_required
def admin_notifications() -> Any:
    row = NotifySettings.load()
    form = NotifyForm(data=stored_values(row))
    status = 200
    if request.method == "POST":
        if form.validate() and not _needs_password_again(row, form):
            _save(row, form.checked)
            flash(_("Notification settings saved."), "success")
            return redirect(url_for("callback.admin_notifications"))
        db.session.rollback()
        status = 422
        flash(_("Nothing was saved: please correct the marked fields."), "error")
    return _page(form, TestMailForm(prefix="test-", data={"to": current_user.email}),
                 PAGE, status)


@blueprint.route("/admin/notifications/test-mail", methods=["POST"])
@admin_required
def admin_notifications_test_mail() -> Response:
    row = NotifySettings.load()
    test_form = TestMailForm(prefix="test-")
    result = _send_test(row, test_form)
    status = 422 if test_form.errors and not wants_fragment() else 200
    # Without htmx the whole page comes back: the settings form as stored.
    return _page(NotifyForm(formdata=None, data=stored_values(row)), test_form, STATUS, status,
                 result=result)


def _page(form: NotifyForm, test_form: TestMailForm, fragment: str, status: int = 200,
          result: MailResult | None = None) -> Response:
    password = form.mail["password"]
    # Whether one is stored, never what it is.
    password.description = (" ".join([
        _("A password is stored: leave empty to keep it."),
        _("A test mail through another server or as another user needs it typed in again.")])
        if NotifySettings.load().values("mail")["password"] else _("No password is stored."))
    notifications = list(db.session.scalars(
        select(Notification).order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(RECENT)))
    return render_page(PAGE, fragment, (), status, form=form, fieldsets=fieldsets(form),
                       test_form=test_form, result=result, notifications=notifications,
                       users=_names(User, {n.user_id for n in notifications}),
                       groups=_names(Group, {n.group_id for n in notifications}),
                       when=local_time(), caller=_caller_format(), rule_label=_rule_label)


def _save(row: NotifySettings, checked: dict[str, dict[str, Any]]) -> None:
    before = {section: row.values(section) for section in SECTIONS}
    for section, values in checked.items():
        row.update(section, values)
    db.session.commit()
    # The module log doubles as the audit trail of settings changes, as in admin.py.
    log.info("notification settings changed by %s: %s", current_user.username,
             _changes(before, checked) or "nothing")


def _changes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> str:
    parts = []
    for section, values in after.items():
        for key, value in values.items():
            old = before[section].get(key)
            if old == value:
                continue
            if (section, key) in SECRETS:
                parts.append(f"{section}.{key} changed")
            else:
                parts.append(f"{section}.{key} {old!r} -> {value!r}")
    return ", ".join(parts)


def _send_test(row: NotifySettings, test_form: TestMailForm) -> MailResult:
    if not test_form.validate():
        return MailResult(False, _("Enter the e-mail address the test mail should go to."))
    stored = row.values("mail")
    # htmx sends the mail server fields along: what is in the form is tested, unsaved; any
    # field not sent is the stored one, and so is a blank password, but only for the stored
    # server and user: else the test would log in to whatever server was typed in with the
    # stored password (an admin's session, or whoever has it, could collect it so).
    mail_form = MailSectionForm(request.form, prefix="mail-", **{**stored, "password": ""})
    if not mail_form.validate():
        errors = [error for field in mail_form for error in field.errors]
        return MailResult(False, _("Correct the mail server settings first: %(errors)s",
                                   errors="; ".join(errors)))
    values = {**stored, **mail_form.checked}
    unsaved = values != stored
    if not values["host"] or not values["sender"]:
        return MailResult(False, _("Enter the SMTP server and the sender address first."),
                          unsaved)
    if "password" not in mail_form.checked and _mail_target(values) != _mail_target(stored):
        values["password"] = ""
        if values["username"] and stored["password"]:
            # A login with no password would only fail, and say less than this.
            return MailResult(False, _("Enter the password again to test another server: the "
                                       "stored one is only sent to the server it was saved "
                                       "for."), unsaved)
    to = test_form.to.data
    smtp = smtp_settings(values)
    try:
        send(test_message(to, values["sender"], str(get_locale() or "en")), smtp)
    except MailError as exc:
        log.warning("test mail to %s by %s failed: %s", to, current_user.username, exc)
        return MailResult(False, translate(exc.message), unsaved)
    log.info("test mail to %s by %s sent via %s:%s", to, current_user.username, smtp.host,
             smtp.port)
    return MailResult(True, _("Test mail sent to %(address)s via %(server)s.", address=to,
                              server=":".join((smtp.host, str(smtp.port)))), unsaved)


def _mail_target(mail: dict[str, Any]) -> tuple[str, int, str, str]:
    """Where the mail password goes: the server, the user it logs in as, and how (a switch
    from TLS to none would send it in clear)."""
    return (str(mail["host"]).strip().lower(), int(mail["port"]), str(mail["username"]),
            str(mail["security"]))


def _needs_password_again(row: NotifySettings, form: NotifyForm) -> bool:
    """The stored password goes only to the server it was saved for: saving another server,
    user or security without typing it again is refused at the field (the next mail would
    hand it to the new server otherwise)."""
    stored = row.values("mail")
    new = {**stored, **form.checked.get("mail", {})}
    if form.checked.get("mail", {}).get("password") or not stored["password"] \
            or not new["username"] or _mail_target(new) == _mail_target(stored):
        return False
    form.mail["password"].errors = [*form.mail["password"].errors, _(
        "Enter the password again: it is only used with the server and user it was saved "
        "for.")]
    return True


def _names(model: type[User] | type[Group], ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.scalars(select(model).where(model.id.in_(wanted)))
    return {r.id: r.display_name if isinstance(r, User) else r.name for r in rows}


def _caller_format() -> Callable[[str], str]:
    region = Settings.load().default_region or "DE"

    def caller(party_key: str) -> str:
        # A party key is the caller's E.164 number, or "raw:" and what the PBX wrote.
        if party_key.startswith("raw:"):
            return party_key[4:] or _("withheld number")
        return numbers.display(party_key, party_key, region)

    return caller


def _rule_label(rule: str) -> str:
    return translate(RULE_LABELS[rule]) if rule in RULE_LABELS else rule


def last_webhooks(group_ids: Iterable[int]) -> dict[int, Notification]:
    """Each group's last webhook delivery: the newest one tried (sent, failed or retrying).

    Skipped ones and those still waiting for their first try are no delivery: they say
    nothing about whether the receiver works.
    """
    ids = list(group_ids)
    if not ids:
        return {}
    tried = (Notification.channel == "webhook", Notification.group_id.in_(ids),
             or_(Notification.tries > 0, Notification.state.in_(("sent", "failed"))))
    newest = select(func.max(Notification.id)).where(*tried).group_by(Notification.group_id)
    rows = db.session.scalars(select(Notification).where(Notification.id.in_(newest)))
    return {n.group_id: n for n in rows}
