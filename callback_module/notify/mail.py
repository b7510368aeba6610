"""The missed-call mail: composed from the templates in the recipient's language (SPEC §5).

The notification queue builds a :class:`MissedCallMail` per recipient, turns it into a message
with :func:`build_message` (inside an app context: the templates and the catalog are the app's)
and hands that to :func:`~callback_module.notify.smtp.send`. Everything the mail shows comes in
the dataclass, so composing needs no database and a test needs no PBX.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from babel.dates import format_date, format_time, get_datetime_format
from flask import current_app, render_template
from flask_babel import force_locale

from .. import numbers
from ..i18n import N_
from ..language import LANGUAGES, translate
from .smtp import MailError, SmtpSettings, send

__all__ = ["LINK_PREFIXES", "MailError", "MissedCallMail", "SmtpSettings", "build_message",
           "check_link_prefix", "phone_link", "send", "test_message"]

LINK_PREFIXES = ("tel:", "phone:", "callto:")
# estos: "at most 9 characters plus a colon"; the characters are those of a URI scheme
# (RFC 3986), so no prefix can turn the link into something else (javascript: is too long).
_CUSTOM_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:$")
_MAX_PREFIX = 9


@dataclass(frozen=True, kw_only=True)
class MissedCallMail:
    """What one recipient is told about one missed call."""

    caller_number: str  # as the PBX wrote it
    caller_e164: str | None  # None: withheld or no public number (an extension)
    caller_display: str  # numbers.display(): national at home, international abroad
    group: str  # the group's name
    rang_at: datetime  # aware: when the call started ringing
    timezone: tzinfo  # the PBX's: the time is shown as the people there read their clocks
    times_called: int  # how often this caller called, this call included
    entry_url: str  # absolute link to the entry's timeline
    recipient_name: str
    recipient_email: str
    language: str  # "de" or "en"; "" (a user who follows the browser): the app's default
    caller_name: str = ""  # from the address book; "" unknown
    caller_email: str = ""
    caller_vcard: str = ""  # the caller's vCard text, attached when the policy says so


def check_link_prefix(value: str) -> str:
    """The link prefix as stored: tel:, phone:, callto:, a custom scheme, or "" (plain text).

    Raises ValueError with an English message made with ``N_`` (the form shows it translated).
    """
    value = (value or "").strip()
    if value in ("", *LINK_PREFIXES):
        return value
    if not value.endswith(":"):
        raise ValueError(N_("The link prefix must end with a colon, like tel:."))
    if len(value) - 1 > _MAX_PREFIX:
        raise ValueError(N_("The link prefix may have at most %(max)s characters before the "
                            "colon, not %(count)s.", max=_MAX_PREFIX, count=len(value) - 1))
    if not _CUSTOM_PREFIX.match(value):
        raise ValueError(N_("The link prefix must start with a letter and may contain only "
                            "letters, digits, +, - and . before the colon."))
    return value.lower()  # URI schemes are case-insensitive; one spelling in the links


def phone_link(e164: str, prefix: str) -> str | None:
    """The click-to-call target for a number, or None when numbers are plain text."""
    prefix = check_link_prefix(prefix)
    return prefix + e164 if prefix and e164 else None


def build_message(mail: MissedCallMail, *, sender: str, link_prefix: str,
                  reply_to_caller: bool, attach_vcard: bool) -> EmailMessage:
    """The mail for ``mail.recipient_email``: text and HTML, Reply-To and vCard as asked."""
    language = _language(mail.language)
    with force_locale(language):
        number = _number_text(mail)
        if _withheld(mail) and not mail.caller_name:
            # its own sentence: German needs another case here than in "Nummer: unterdrückt"
            subject = translate(N_("Missed call from a withheld number in %(group)s",
                                   group=mail.group))
        else:
            caller = f"{mail.caller_name} ({number})" if mail.caller_name else number
            subject = translate(N_("Missed call from %(caller)s in %(group)s",
                                   caller=caller, group=mail.group))
        reply_to = _address(mail.caller_name, mail.caller_email) if reply_to_caller else None
        context = {
            "mail": mail, "number": number, "subject": subject, "reply_to": reply_to,
            "phone_href": phone_link(mail.caller_e164 or "", link_prefix),
            "language": language,
            "rang_at": _local_time(mail.rang_at, mail.timezone, language),
        }
        text = render_template("callback/mail/missed_call.txt", **context)
        html = render_template("callback/mail/missed_call.html", **context)
    message = _message(subject, sender, _address(mail.recipient_name, mail.recipient_email)
                       or mail.recipient_email)
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if attach_vcard and mail.caller_vcard.strip():
        # As bytes with CRLF, as RFC 6350 wants them: text would be re-encoded with the
        # email package's own line ends. add_attachment turns the mail into multipart/mixed.
        vcard = "\r\n".join(mail.caller_vcard.strip().splitlines()) + "\r\n"
        message.add_attachment(vcard.encode("utf-8"), "text", "vcard",
                               filename=_vcard_filename(mail.caller_name),
                               params={"charset": "utf-8"})
    message["Content-Language"] = language  # last: set_content drops content headers
    return message


def test_message(to: str, sender: str, language: str) -> EmailMessage:
    """The admin's "send test mail": proves the server, the login and the sender work."""
    language = _language(language)
    with force_locale(language):
        subject = translate(N_("Test mail from Callback"))
        body = translate(N_("This is a test mail from Callback. If you can read it, the mail "
                            "settings work and missed-call notifications can reach you."))
    message = _message(subject, sender, to)
    message.set_content(body + "\n")
    message["Content-Language"] = language
    return message


test_message.__test__ = False  # pytest would collect it from a test module that imports it


def _message(subject: str, sender: str, to: str | Address) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = _one_line(subject)
    message["From"] = sender
    message["To"] = to
    message["Date"] = datetime.now(UTC)
    # make_msgid() alone asks DNS for this host's name, which can hang on a badly set-up
    # server; the sender's domain is ours to use anyway.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("callback", domain=domain)
    # RFC 3834: a machine wrote this. Exchange honours only its own header; both keep
    # out-of-office replies and read receipts from coming back to the sender.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    return message


def _language(value: str) -> str:
    # No browser to follow in a mail: the language the site shows by default.
    return value if value in LANGUAGES else current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def _withheld(mail: MissedCallMail) -> bool:
    return mail.caller_e164 is None and numbers.is_withheld(mail.caller_number)


def _number_text(mail: MissedCallMail) -> str:
    if _withheld(mail):
        return translate(N_("withheld"))
    return mail.caller_display or mail.caller_number


def _local_time(moment: datetime, zone: tzinfo, language: str) -> str:
    # Babel directly, not Flask-Babel's format_datetime: that one converts to the app's
    # display time zone, and the mail must show the PBX's.
    local = moment.astimezone(zone)
    when = (str(get_datetime_format("long", locale=language)).replace("'", "")
            .replace("{1}", format_date(local, "full", locale=language))
            .replace("{0}", format_time(local, "short", locale=language)))
    return f"{when} ({local.tzname()})" if local.tzname() else when


def _address(name: str, email: str) -> Address | None:
    """An address for a header, or None when there is none or it does not parse (an address
    book's typo must not cost the recipient the whole mail)."""
    if not email.strip():
        return None
    try:
        return Address(display_name=_one_line(name), addr_spec=email.strip())
    except Exception:  # the email package raises several kinds for odd addresses
        return None


def _one_line(text: str) -> str:
    # Names come from outside (the address book, the PBX); a line break in a header would be
    # refused by the email package or, worse, start a header of its own.
    return " ".join(text.split())


def _vcard_filename(name: str) -> str:
    stem = re.sub(r"[^\w\- ]+", "", name).strip()[:60].strip()
    return f"{stem or 'contact'}.vcf"
