"""Sending a mail over SMTP, with errors an admin can act on (SPEC §5).

:func:`send` raises :class:`MailError` for everything that can go wrong between here and the
mail server; its text says what happened in words and never contains the password, so the
queue can put it in the timeline and the log and the settings page can show it as it is.
"""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr

from ..i18n import N_, Text

SECURITY = ("none", "starttls", "tls")


class MailError(Exception):
    """A mail did not go out. ``message`` is English, made with ``N_`` (shown translated).

    ``temporary`` is the server's or the network's word that trying again later may work
    (no connection, a 4xx answer); False when a setting or an address must change first.
    """

    def __init__(self, message: Text, *, temporary: bool) -> None:
        super().__init__(message)
        self.message = message
        self.temporary = temporary


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    """How to reach the mail server. ``security``: "none", "starttls" or "tls" (port 465).

    ``verify`` checks the server's certificate against the system's CAs, or against
    ``cafile`` when given (a company CA, a self-signed server); off only for a test setup.
    """

    host: str
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)  # repr=False: settings get logged
    sender: str = ""
    timeout: float = 20.0
    verify: bool = True
    cafile: str = ""

    def __post_init__(self) -> None:
        if self.security not in SECURITY:
            raise ValueError(f"security must be one of {', '.join(SECURITY)}, "
                             f"not {self.security!r}")


def send(message: EmailMessage, smtp: SmtpSettings) -> None:
    """Deliver ``message`` to its To/Cc recipients; MailError when it did not go out."""
    server = f"{smtp.host}:{smtp.port}"
    try:
        _deliver(message, smtp, server)
    except smtplib.SMTPAuthenticationError as exc:
        raise _error(smtp, N_("The mail server %(server)s refused the login of %(user)s: "
                              "wrong user name or password? (%(reply)s)"), exc, server,
                     user=smtp.username) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        replies = "; ".join(f"{to}: {_reply(*answer)}" for to, answer in exc.recipients.items())
        temporary = all(code < 500 for code, _ in exc.recipients.values())
        raise _error(smtp, N_("The mail server %(server)s refused the recipient: %(reply)s"),
                     exc, server, reply=replies, temporary=temporary) from exc
    except smtplib.SMTPSenderRefused as exc:
        raise _error(smtp, N_("The mail server %(server)s refused the sender %(sender)s: "
                              "%(reply)s"), exc, server, sender=exc.sender) from exc
    except smtplib.SMTPServerDisconnected as exc:
        if isinstance(exc.__context__, TimeoutError):  # smtplib's word for a read timeout
            raise _timeout(smtp, exc, server) from exc
        raise _error(smtp, N_("The mail server %(server)s closed the connection unexpectedly; "
                              "check the port and the security setting (TLS or STARTTLS)."),
                     exc, server, temporary=True) from exc
    except smtplib.SMTPResponseException as exc:
        raise _error(smtp, N_("The mail server %(server)s answered: %(reply)s"),
                     exc, server) from exc
    except ssl.SSLCertVerificationError as exc:
        raise _error(smtp, N_("The certificate of the mail server %(server)s was not "
                              "accepted: %(reason)s"), exc, server,
                     reason=exc.verify_message or str(exc), temporary=False) from exc
    except ssl.SSLError as exc:
        raise _error(smtp, N_("The encrypted connection to the mail server %(server)s failed "
                              "(%(reason)s); check the port and the security setting."),
                     exc, server, reason=exc.reason or str(exc), temporary=False) from exc
    except TimeoutError as exc:
        raise _timeout(smtp, exc, server) from exc
    except ConnectionRefusedError as exc:
        raise _error(smtp, N_("The mail server %(server)s refused the connection: is it "
                              "running, and are the host and port right?"), exc, server,
                     temporary=True) from exc
    except socket.gaierror as exc:
        raise _error(smtp, N_("The mail server's name %(host)s is unknown (%(reason)s)."),
                     exc, server, host=smtp.host, reason=exc.strerror, temporary=True) from exc
    except OSError as exc:  # also smtplib's other errors: SMTPException is an OSError
        raise _error(smtp, N_("The mail server %(server)s cannot be reached: %(reason)s"),
                     exc, server, reason=exc.strerror or str(exc), temporary=True) from exc


def _deliver(message: EmailMessage, smtp: SmtpSettings, server: str) -> None:
    if smtp.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout,
                                                context=_tls_context(smtp))
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    with client:
        client.ehlo()
        if smtp.security == "starttls":
            if not client.has_extn("starttls"):
                raise MailError(N_("The mail server %(server)s does not offer STARTTLS; "
                                   "choose TLS or no encryption, or check the port.",
                                   server=server), temporary=False)
            client.starttls(context=_tls_context(smtp))
            client.ehlo()
        if smtp.username:
            if not client.has_extn("auth"):
                # Servers hide AUTH on an unencrypted connection, so this is mostly the
                # security setting.
                raise MailError(N_("The mail server %(server)s offers no login on this "
                                   "connection; it may need STARTTLS or TLS.", server=server),
                                temporary=False)
            if (smtp.username + smtp.password).isascii():
                client.login(smtp.username, smtp.password)
            else:
                _login_utf8(client, smtp)
        refused = client.send_message(message, from_addr=parseaddr(smtp.sender)[1] or None)
    if refused:  # some recipients took it, these did not
        raise smtplib.SMTPRecipientsRefused(refused)


def _login_utf8(client: smtplib.SMTP, smtp: SmtpSettings) -> None:
    """AUTH PLAIN with UTF-8 credentials (RFC 4616): smtplib sends them as ASCII only, so a
    password like "Grüße2024" would fail before it even reached the server."""
    token = base64.b64encode(f"\0{smtp.username}\0{smtp.password}".encode()).decode("ascii")
    code, reply = client.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _tls_context(smtp: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=smtp.cafile or None)
    if not smtp.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _timeout(smtp: SmtpSettings, exc: Exception, server: str) -> MailError:
    return _error(smtp, N_("The mail server %(server)s did not answer within %(timeout)s "
                           "seconds."), exc, server, timeout=f"{smtp.timeout:g}",
                  temporary=True)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def _error(smtp: SmtpSettings, template: str, exc: Exception, server: str, *,
           temporary: bool | None = None, **args: str) -> MailError:
    # ``template`` comes marked with N_ at the raise, where pybabel finds it; here it gets
    # its arguments.
    code = getattr(exc, "smtp_code", None)
    if "%(reply)s" in template and "reply" not in args:
        args["reply"] = _reply(code or 0, getattr(exc, "smtp_error", b"") or str(exc))
    if temporary is None:  # SMTP's own rule: 4xx try again, 5xx give up
        temporary = code is None or 400 <= code < 500
    # Nothing of ours echoes the password, but a server's reply might: it goes out in words.
    args = {k: str(v).replace(smtp.password, "********") if smtp.password else str(v)
            for k, v in {"server": server, **args}.items()}
    return MailError(N_(template, **args), temporary=temporary)
