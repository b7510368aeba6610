"""Sends the notifications that are due, in the worker's background job, never in the sync.

Each one is looked at again just before it goes out: a call answered meanwhile (more legs came
in, or the caller was reached and the entry closed) or a user who opted out sends nothing. A
failing mail server or webhook receiver loses nothing: the row stays pending and is tried again
with growing pauses, until a permanent refusal or the last try marks it failed. Every outcome
goes to the entry's timeline and the module log.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from .. import numbers
from ..extensions import db
from ..i18n import N_
from ..models import OPEN_STATES, Call, Entry, Group, Notification, NotifySettings, Settings, User
from ..policy_loader import load_policy
from ..rules.classify import InboundCall, classify
from .mail import MissedCallMail, build_message
from .planner import facts_of
from .rules import call_wants_telling
from .settings import policy_of
from .smtp import MailError, SmtpSettings, send
from .timeline import record_event
from .webhook import WebhookError, payload, post

log = logging.getLogger("callback.notify")
BACKOFF = (15, 30, 60, 120, 300, 600, 1200, 1800, 3600)  # seconds before try 2, 3, ...
MAX_TRIES = len(BACKOFF) + 1  # about two hours of trying in all


class NotSent(Exception):
    """Sending failed; ``temporary`` when trying again later may work."""

    def __init__(self, message: str, temporary: bool = True) -> None:
        super().__init__(message)
        self.temporary = temporary


def dispatch_due(now: datetime | None = None, limit: int = 50) -> int:
    """Send what is due; the number handled. Each one is committed on its own."""
    now = now or datetime.now(UTC)
    ids = list(db.session.scalars(
        select(Notification.id).where(Notification.state == "pending",
                                      Notification.due_at <= now)
        .order_by(Notification.due_at, Notification.id).limit(limit)))
    for notification_id in ids:
        try:
            deliver(notification_id, now)
        except Exception:  # one broken row must not hold up the others
            db.session.rollback()
            log.exception("notification %s could not be handled", notification_id)
    return len(ids)


def deliver(notification_id: int, now: datetime) -> str:
    """Handle one pending notification; its state afterwards."""
    n = db.session.get(Notification, notification_id)
    if n is None or n.state != "pending":
        return n.state if n else "gone"
    entry, call = _entry_of(n), _judged(n.call_key)
    rule = _unwanted(n, entry, call)
    if rule:
        n.state, n.rule, n.done_at = "skipped", rule, now
    else:
        try:
            if n.channel == "mail":
                _send_mail(n, entry, call)
            else:
                _post_webhook(n, entry, call)
        except NotSent as exc:
            n.tries += 1
            n.last_error = str(exc)
            if not exc.temporary or n.tries >= MAX_TRIES:
                n.state, n.done_at = "failed", now
            else:
                n.due_at = now + timedelta(seconds=BACKOFF[min(n.tries, len(BACKOFF)) - 1])
        else:
            n.tries += 1
            n.state, n.done_at, n.last_error = "sent", now, ""
    record_event(n, now)
    db.session.commit()
    return n.state


def _judged(call_key: str) -> InboundCall | None:
    call = db.session.scalar(select(Call).where(Call.key == call_key))
    judged = classify(call.record(), load_policy()) if call is not None else None
    return judged if isinstance(judged, InboundCall) else None


def _entry_of(n: Notification) -> Entry | None:
    if not n.anchor_key or n.group_id is None:
        return None
    return db.session.scalar(select(Entry).where(
        Entry.group_id == n.group_id, Entry.party_key == n.party_key,
        Entry.anchor_key == n.anchor_key))


def _unwanted(n: Notification, entry: Entry | None, call: InboundCall | None) -> str:
    """The reason not to send any more, or ""."""
    if call is None:
        return "call_gone"
    values = NotifySettings.load().values("notifications")
    if n.channel == "mail":
        call_record = db.session.scalar(select(Call).where(Call.key == n.call_key)).record()
        members = {u.name: u.extension for u in db.session.scalars(select(User)) if u.name}
        facts = facts_of(call_record, call, members, True)
        policy = policy_of({**values, "recipients": "all"}, Settings.load().default_region or "DE")
        if not call_wants_telling(facts, policy):
            return "answered_meanwhile"
        user = db.session.get(User, n.user_id) if n.user_id else None
        if user is None or not user.notify_missed:
            return "not_opted_in"
        if not user.email:
            return "no_email"
    elif not call.missed:
        return "answered_meanwhile"
    if entry is not None and entry.state not in OPEN_STATES:
        return "closed_meanwhile"
    return ""


def facts_for(n: Notification, entry: Entry | None, call: InboundCall) -> dict:
    """What a mail and a webhook tell: caller, name, group, time of ringing, how often."""
    settings = Settings.load()
    region = settings.default_region or "DE"
    tz = ZoneInfo(settings.timezone or "UTC")
    group = db.session.get(Group, n.group_id) if n.group_id else None
    contact = _contact(call.e164)
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
    base = str(current_app.config.get("CALLBACK_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    return f"{base}/callback/entries/{entry.id}/timeline"


def _contact(e164: str | None):
    if not e164:
        return None
    try:
        from ..contacts.book import lookup
    except ImportError:
        return None
    return lookup(e164)


def _send_mail(n: Notification, entry: Entry | None, call: InboundCall) -> None:
    row = NotifySettings.load()
    values, mail = row.values("notifications"), row.values("mail")
    if not mail["host"] or not mail["sender"]:
        raise NotSent(N_("No mail server or sender is set in the notification settings."),
                      temporary=False)
    user = db.session.get(User, n.user_id)
    facts = facts_for(n, entry, call)
    contact = facts["contact"]
    vcard = ""
    if contact is not None:
        from ..contacts.book import vcard_of

        vcard = vcard_of(contact)
    message = build_message(MissedCallMail(
        caller_number=call.number, caller_e164=call.e164, caller_display=facts["display"],
        group=facts["group"], rang_at=call.at, timezone=facts["timezone"],
        times_called=facts["times_called"], entry_url=facts["entry_url"],
        recipient_name=user.display_name, recipient_email=user.email,
        language=user.language or values["language"], caller_name=facts["name"],
        caller_email=facts["email"], caller_vcard=vcard),
        sender=mail["sender"], link_prefix=values["link_prefix"],
        reply_to_caller=values["reply_to_caller"], attach_vcard=values["attach_vcard"])
    try:
        send(message, smtp_settings(mail))
    except MailError as exc:
        raise NotSent(exc.message, exc.temporary) from None


def smtp_settings(mail: dict) -> SmtpSettings:
    return SmtpSettings(host=mail["host"], port=int(mail["port"]), security=mail["security"],
                        username=mail["username"], password=mail["password"],
                        sender=mail["sender"], timeout=float(mail["timeout"]))


def _post_webhook(n: Notification, entry: Entry | None, call: InboundCall) -> None:
    group = db.session.get(Group, n.group_id) if n.group_id else None
    if group is None or not group.webhook_url:
        raise NotSent(N_("The group has no webhook any more."), temporary=False)
    values = NotifySettings.load().values("notifications")
    facts = {k: v for k, v in facts_for(n, entry, call).items()
             if k not in ("contact", "timezone")}
    try:
        post(group.webhook_url, payload(facts, values["mask_numbers"]))
    except WebhookError as exc:
        raise NotSent(str(exc)) from None
