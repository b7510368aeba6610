"""What goes out: the facts of a missed call, and the mail or webhook post ready to send.

Each ``prepare_*`` reads what it needs from the database and returns a function that only
talks to the network, so the dispatcher holds no transaction while a server is slow.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import current_app, url_for

from .. import numbers
from ..contacts.book import lookup, vcard_of
from ..extensions import db
from ..i18n import N_
from ..models import Entry, Group, Notification, NotifySettings, Settings, User
from ..rules.classify import InboundCall
from .mail import MissedCallMail, build_message
from .smtp import MailError, SmtpSettings
from .smtp import send as deliver_mail
from .webhook import WebhookError, payload, post

Send = Callable[[], None]


class NotSent(Exception):
    """Sending failed; ``temporary`` when trying again later may work."""

    def __init__(self, message: str, temporary: bool = True) -> None:
        super().__init__(message)
        self.temporary = temporary


def facts_for(n: Notification, entry: Entry | None, call: InboundCall) -> dict:
    """What a mail and a webhook tell: caller, name, group, time of ringing, how often."""
    settings = Settings.load()
    region = settings.default_region or "DE"
    tz = ZoneInfo(settings.timezone or "UTC")
    group = db.session.get(Group, n.group_id) if n.group_id else None
    contact = contact_of(call.e164)
    return {
        "event": "missed_call", "call": n.call_key, "group": group.name if group else "",
        "number": call.number, "number_e164": call.e164, "anonymous": call.anonymous,
        "display": numbers.display(call.number, call.e164, region),
        "name": (contact.name if contact else "") or (entry.name if entry else "") or call.name,
        "email": contact.email if contact else "", "contact": contact,
        "rang_at": call.at.isoformat(),
        "rang_at_local": call.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "ring_s": call.ring_s, "times_called": entry.count if entry else 1,
        "entry_id": entry.id if entry else None,
        "entry_url": entry_url(entry) if entry else "", "timezone": tz,
    }


def entry_url(entry: Entry) -> str:
    """The entry's timeline, as agents reach it (CALLBACK_BASE_URL: the worker has no
    request to take the host from); the path from the blueprint, wherever it is mounted."""
    base = str(current_app.config.get("CALLBACK_BASE_URL") or "http://127.0.0.1:5000")
    with current_app.test_request_context(base_url=base):
        return url_for("callback.entry_timeline", entry_id=entry.id, _external=True)


def contact_of(e164: str | None):
    return lookup(e164) if e164 else None


def prepare_mail(n: Notification, entry: Entry | None, call: InboundCall) -> Send:
    """The mail, ready to go: a function that sends it, or raises NotSent."""
    row = NotifySettings.load()
    values, mail = row.values("notifications"), row.values("mail")
    if not mail["host"] or not mail["sender"]:
        raise_later = NotSent(N_("No mail server or sender is set in the notification "
                                 "settings."), temporary=False)
        return lambda: _raise(raise_later)
    user = db.session.get(User, n.user_id)
    facts = facts_for(n, entry, call)
    contact = facts["contact"]
    message = build_message(MissedCallMail(
        caller_number=call.number, caller_e164=call.e164, caller_display=facts["display"],
        group=facts["group"], rang_at=call.at, timezone=facts["timezone"],
        times_called=facts["times_called"], entry_url=facts["entry_url"],
        recipient_name=user.display_name, recipient_email=user.email,
        language=user.language or values["language"], caller_name=facts["name"],
        caller_email=facts["email"], caller_vcard=vcard_of(contact) if contact else ""),
        sender=mail["sender"], link_prefix=values["link_prefix"],
        reply_to_caller=values["reply_to_caller"], attach_vcard=values["attach_vcard"])
    smtp = smtp_settings(mail)

    def send() -> None:
        try:
            deliver_mail(message, smtp)
        except MailError as exc:
            raise NotSent(exc.message, exc.temporary) from None
    return send


def _raise(exc: Exception) -> None:
    raise exc


def smtp_settings(mail: dict) -> SmtpSettings:
    return SmtpSettings(host=mail["host"], port=int(mail["port"]), security=mail["security"],
                        username=mail["username"], password=mail["password"],
                        sender=mail["sender"], timeout=float(mail["timeout"]))


def prepare_webhook(n: Notification, entry: Entry | None, call: InboundCall) -> Send:
    group = db.session.get(Group, n.group_id) if n.group_id else None
    if group is None or not group.webhook_url:
        gone = NotSent(N_("The group has no webhook any more."), temporary=False)
        return lambda: _raise(gone)
    values = NotifySettings.load().values("notifications")
    facts = {k: v for k, v in facts_for(n, entry, call).items()
             if k not in ("contact", "timezone")}
    url, body = group.webhook_url, payload(facts, values["mask_numbers"])

    def send() -> None:
        try:
            post(url, body)
        except WebhookError as exc:
            raise NotSent(str(exc)) from None
    return send
