"""The missed-call mail: composed in both languages, and sent to a real SMTP server (aiosmtpd on
127.0.0.1, plain, STARTTLS and TLS with a certificate made for the test)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
import vobject
from aiosmtpd.smtp import AuthResult, LoginPassword
from smtp_server import free_port, smtp_server  # noqa: F401  (smtp_server: the fixture)

from callback_module.notify import mail
from callback_module.notify.mail import MailError, MissedCallMail, SmtpSettings

PASSWORD = "Tr0ub4dor&3-secret"
SENDER = "Callback <callback@example.com>"
VCARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jürgen Fischer\r\nN:Fischer;Jürgen;;;\r\n"
         "ORG:Fischer & Söhne\r\nTEL;TYPE=WORK:+49301110003\r\nEMAIL:j.fischer@example.com\r\n"
         "END:VCARD\r\n")
CALL = MissedCallMail(
    caller_number="0301110003", caller_e164="+49301110003", caller_display="030 1110003",
    caller_name="Jana Fischer", caller_email="jana@fischer.example", group="support",
    rang_at=datetime(2026, 11, 22, 12, 5, tzinfo=UTC), timezone=ZoneInfo("Europe/Berlin"),
    times_called=3,
    entry_url="http://pbx.example/callback/entries/17/timeline",
    recipient_name="Anna Agent", recipient_email="anna@example.com", language="en")


def build(call: MissedCallMail = CALL, **options) -> EmailMessage:
    kwargs = {"sender": SENDER, "link_prefix": "tel:", "reply_to_caller": True,
              "attach_vcard": True, **options}
    return mail.build_message(call, **kwargs)


def bodies(message: EmailMessage) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"anna", PASSWORD.encode())
    # handled=False: aiosmtpd itself answers 535 to a wrong password
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert file, server context)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return str(cert), context


def settings(port: int, **changes) -> SmtpSettings:
    return SmtpSettings(**{"host": "127.0.0.1", "port": port, "security": "none",
                           "sender": SENDER, "timeout": 5, **changes})


# Composing

def test_the_mail_arrives_with_text_html_and_proper_headers(app, smtp_server):
    inbox, port = smtp_server()
    call = replace(CALL, recipient_name="Jürgen Müller, Vertrieb")
    mail.send(build(call, attach_vcard=False), settings(port))
    received, envelope, _ = inbox.only()
    assert envelope.mail_from == "callback@example.com"
    assert envelope.rcpt_tos == ["anna@example.com"]
    assert received.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in received.iter_parts()] == ["text/plain", "text/html"]
    assert received["Subject"] == "Missed call from Jana Fischer (030 1110003) in support"
    assert received["To"].addresses[0].display_name == "Jürgen Müller, Vertrieb"
    assert received["To"].addresses[0].addr_spec == "anna@example.com"
    assert b"=?utf-8?" in envelope.content.split(b"\r\n\r\n")[0]  # the name encoded, not raw
    assert received["From"] == SENDER
    assert received["Message-ID"].endswith("@example.com>") and received["Date"].datetime
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["X-Auto-Response-Suppress"] == "All"
    assert received["Content-Language"] == "en"


def test_the_english_mail_shows_the_facts(app):
    text, html = bodies(build())
    for body in (text, html):
        assert "Hello Anna Agent," in body and "you missed a call in support." in body
        assert "Jana Fischer" in body and "030 1110003" in body
        assert "Sunday, November 22, 2026, 1:05\u202fPM (CET)" in body  # the PBX's clock
        assert "Reply to this mail to write to Jana Fischer." in body
    assert "Caller: Jana Fischer\n" in text and "Group: support\n" in text
    assert "Calls from this caller: 3\n" in text
    assert "Open in Callback: http://pbx.example/callback/entries/17/timeline\n" in text
    assert '<a href="http://pbx.example/callback/entries/17/timeline"' in html
    assert "<script" not in html and "<link" not in html and "<style" not in html


def test_the_german_mail_shows_the_time_as_germans_write_it(app):
    message = build(replace(CALL, language="de"))
    text, html = bodies(message)
    assert "Sonntag, 22. November 2026, 13:05 (CET)" in text
    assert "Sonntag, 22. November 2026, 13:05 (CET)" in html and '<html lang="de">' in html
    assert message["Content-Language"] == "de"


def test_a_user_who_follows_the_browser_gets_the_sites_language(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "de"
    message = build(replace(CALL, language=""))
    assert message["Content-Language"] == "de" and '<html lang="de">' in bodies(message)[1]


def test_the_german_mail_speaks_german(app):
    message = build(replace(CALL, language="de"))
    text, html = bodies(message)
    assert message["Subject"] == "Verpasster Anruf von Jana Fischer (030 1110003) in support"
    for body in (text, html):
        assert "Hallo Anna Agent," in body
        assert "Sie haben einen Anruf in support verpasst." in body
        assert "In Callback öffnen" in body
        assert "you missed" not in body and "Open in Callback" not in body
    assert "Anrufer: Jana Fischer\n" in text and "Nummer: 030 1110003 <tel:" in text
    assert "Anrufe dieses Anrufers: 3\n" in text
    withheld = build(replace(CALL, language="de", caller_number="anonymous", caller_e164=None,
                             caller_display="anonymous", caller_name=""))
    assert withheld["Subject"] == "Verpasster Anruf von unterdrückter Nummer in support"
    assert "Nummer: unterdrückt\n" in bodies(withheld)[0]
    assert mail.test_message("anna@example.com", SENDER, "de")["Subject"] == "Testmail von Callback"


def test_a_hostile_caller_name_is_escaped_in_html(app):
    call = replace(CALL, caller_name="<script>alert(1)</script>", group="R&D <team>")
    text, html = bodies(build(call))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "R&amp;D &lt;team&gt;" in html
    assert "Caller: <script>alert(1)</script>\n" in text  # plain text stays as it is


def test_a_line_break_in_a_name_starts_no_header(app):
    call = replace(CALL, caller_name="Evil\r\nBcc: victim@example.com", recipient_name="A\nB")
    raw = build(call).as_bytes()
    headers = raw.split(b"\n\n")[0]
    assert not [line for line in headers.splitlines() if line.lower().startswith(b"bcc")]
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Bcc"] is None and message["To"].addresses[0].display_name == "A B"


@pytest.mark.parametrize("prefix", ["tel:", "phone:", "callto:", "sip:", "x-pbx9.ab:"])
def test_the_number_links_with_each_prefix(app, prefix):
    text, html = bodies(build(link_prefix=prefix))
    assert f'<a href="{prefix}+49301110003" style="color:#1f6feb">030 1110003</a>' in html
    assert f"030 1110003 <{prefix}+49301110003>" in text


def test_without_a_prefix_the_number_is_plain_text(app):
    text, html = bodies(build(link_prefix=""))
    assert "030 1110003" in html and "+49301110003" not in html
    assert "Number: 030 1110003\n" in text


def test_a_withheld_number_is_no_link(app):
    call = replace(CALL, caller_number="anonymous", caller_e164=None, caller_display="anonymous",
                   caller_name="")
    message = build(call)
    text, html = bodies(message)
    assert message["Subject"] == "Missed call from a withheld number in support"
    assert "Number: withheld\n" in text and "Caller: unknown\n" in text
    assert "tel:" not in html and "tel:" not in text


# The link prefix

@pytest.mark.parametrize(("prefix", "link"), [
    pytest.param("tel:", "tel:+49301110003", id="tel"),
    pytest.param("phone:", "phone:+49301110003", id="phone"),
    pytest.param("callto:", "callto:+49301110003", id="callto"),
    pytest.param(" sip: ", "sip:+49301110003", id="custom-trimmed"),
    pytest.param("Skype:", "skype:+49301110003", id="custom-one-spelling"),
    pytest.param("abcdefghi:", "abcdefghi:+49301110003", id="custom-9-characters"),
    pytest.param("", None, id="plain-text"),
])
def test_phone_link(prefix, link):
    assert mail.phone_link("+49301110003", prefix) == link


@pytest.mark.parametrize(("prefix", "words"), [
    pytest.param("abcdefghij:", "at most 9 characters before the colon, not 10", id="too-long"),
    pytest.param("javascript:", "at most 9 characters", id="javascript-is-too-long"),
    pytest.param("tel", "must end with a colon", id="no-colon"),
    pytest.param("tel:/", "must end with a colon", id="colon-not-last"),
    pytest.param("1tel:", "must start with a letter", id="starts-with-a-digit"),
    pytest.param("te l:", "only letters, digits, +, - and .", id="space"),
    pytest.param("tél:", "only letters, digits, +, - and .", id="not-ascii"),
    pytest.param("a\"b:", "only letters, digits, +, - and .", id="quote"),
    pytest.param(":", "must start with a letter", id="colon-alone"),
])
def test_a_bad_custom_prefix_is_refused(prefix, words):
    with pytest.raises(ValueError, match="link prefix") as error:
        mail.check_link_prefix(prefix)
    assert words in str(error.value)
    assert error.value.args[0].template.startswith("The link prefix")  # N_: translatable


# Reply-To and the vCard

@pytest.mark.parametrize(("enabled", "email", "reply_to"), [
    pytest.param(True, "jana@fischer.example", "Jana Fischer <jana@fischer.example>",
                 id="known-and-enabled"),
    pytest.param(True, "", None, id="unknown"),
    pytest.param(False, "jana@fischer.example", None, id="disabled"),
    pytest.param(True, "not an address", None, id="unusable-address"),
])
def test_reply_to_is_the_caller_only_when_known_and_enabled(app, enabled, email, reply_to):
    message = build(replace(CALL, caller_email=email), reply_to_caller=enabled)
    assert message["Reply-To"] == reply_to
    assert ("Reply to this mail" in bodies(message)[0]) is (reply_to is not None)


def test_the_vcard_arrives_and_parses_back_to_the_same_contact(app, smtp_server):
    inbox, port = smtp_server()
    call = replace(CALL, caller_name="Jürgen Fischer", caller_vcard=VCARD)
    mail.send(build(call), settings(port))
    received, _, _ = inbox.only()
    assert received.get_content_type() == "multipart/mixed"
    assert received.get_body(("html",)) is not None
    (attachment,) = received.iter_attachments()
    assert attachment.get_content_type() == "text/vcard"
    assert attachment.get_filename() == "Jürgen Fischer.vcf"
    assert attachment.get_content_charset() == "utf-8"
    card = vobject.readOne(attachment.get_content())
    assert card.fn.value == "Jürgen Fischer" and card.org.value == ["Fischer & Söhne"]
    assert (card.n.value.family, card.n.value.given) == ("Fischer", "Jürgen")
    assert card.tel.value == "+49301110003" and card.email.value == "j.fischer@example.com"


@pytest.mark.parametrize(("attach", "vcard"), [(False, VCARD), (True, ""), (True, " \n")])
def test_no_vcard_when_unknown_or_disabled(app, attach, vcard):
    message = build(replace(CALL, caller_vcard=vcard), attach_vcard=attach)
    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []


# Sending

def test_the_test_mail_arrives(app, smtp_server):
    inbox, port = smtp_server()
    mail.send(mail.test_message("admin@example.com", SENDER, "en"), settings(port))
    received, envelope, _ = inbox.only()
    assert envelope.rcpt_tos == ["admin@example.com"]
    assert received["Subject"] == "Test mail from Callback"
    assert "If you can read it, the mail settings work" in received.get_content()
    assert received["Auto-Submitted"] == "auto-generated"


def test_a_login_with_user_and_password(app, smtp_server):
    inbox, port = smtp_server(authenticator=authenticator, auth_require_tls=False)
    mail.send(build(), settings(port, username="anna", password=PASSWORD))
    _, _, session = inbox.only()
    assert session.authenticated and session.auth_data.login == b"anna"


def test_a_wrong_password_says_so_without_the_password(app, smtp_server):
    inbox, port = smtp_server(authenticator=authenticator, auth_require_tls=False)
    smtp = settings(port, username="anna", password=PASSWORD + "-wrong")
    with pytest.raises(MailError) as error:
        mail.send(build(), smtp)
    assert str(error.value).startswith(f"The mail server 127.0.0.1:{port} refused the login "
                                       "of anna: wrong user name or password?")
    assert "535" in str(error.value) and not error.value.temporary
    assert PASSWORD not in str(error.value) and PASSWORD not in repr(smtp)
    assert inbox.received == []


def test_a_server_that_echoes_the_password_does_not_leak_it(app, smtp_server):
    def echoing(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False,
                          message=f"535 5.7.8 {auth_data.password.decode()} is wrong")

    _, port = smtp_server(authenticator=echoing, auth_require_tls=False)
    with pytest.raises(MailError) as error:
        mail.send(build(), settings(port, username="anna", password=PASSWORD))
    assert "******** is wrong" in str(error.value) and PASSWORD not in str(error.value)


def test_a_refused_connection(app):
    port = free_port()  # nobody listens there
    with pytest.raises(MailError) as error:
        mail.send(build(), settings(port, username="anna", password=PASSWORD))
    assert str(error.value) == (f"The mail server 127.0.0.1:{port} refused the connection: is "
                                "it running, and are the host and port right?")
    assert error.value.temporary and PASSWORD not in str(error.value)


def test_a_server_that_never_answers(app):
    with socket.socket() as silent:  # takes the connection (backlog), never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(MailError) as error:
            mail.send(build(), settings(port, timeout=0.3))
    assert str(error.value) == (f"The mail server 127.0.0.1:{port} did not answer within 0.3 "
                                "seconds.")
    assert error.value.temporary


def test_a_refused_recipient(app, smtp_server):
    _, port = smtp_server()
    with pytest.raises(MailError) as error:
        mail.send(build(replace(CALL, recipient_email="nobody@example.com")), settings(port))
    assert "refused the recipient: nobody@example.com: 550 5.1.1" in str(error.value)
    assert not error.value.temporary


def test_starttls_not_offered(app, smtp_server):
    _, port = smtp_server()
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        mail.send(build(), settings(port, security="starttls"))


def test_no_login_offered_without_encryption(app, smtp_server):
    _, port = smtp_server(authenticator=authenticator)  # AUTH only after STARTTLS, as it should be
    with pytest.raises(MailError, match="offers no login on this connection; it may need "
                                        "STARTTLS or TLS"):
        mail.send(build(), settings(port, username="anna", password=PASSWORD))


def test_starttls_then_login(app, smtp_server, certificate):
    cafile, context = certificate
    inbox, port = smtp_server(tls_context=context, require_starttls=True,
                              authenticator=authenticator)
    mail.send(build(), settings(port, security="starttls", cafile=cafile, username="anna",
                                password=PASSWORD))
    _, _, session = inbox.only()
    assert session.ssl is not None and session.authenticated


def test_tls_from_the_start(app, smtp_server, certificate):
    cafile, context = certificate
    inbox, port = smtp_server(ssl_context=context)
    mail.send(build(), settings(port, security="tls", cafile=cafile))
    assert len(inbox.received) == 1


def test_an_unknown_certificate_is_refused_unless_told_otherwise(app, smtp_server, certificate):
    _, context = certificate
    inbox, port = smtp_server(ssl_context=context)
    with pytest.raises(MailError, match=r"certificate of the mail server 127\.0\.0\.1:\d+ was "
                                        r"not accepted: self.signed certificate"):
        mail.send(build(), settings(port, security="tls"))
    mail.send(build(), settings(port, security="tls", verify=False))
    assert len(inbox.received) == 1


def test_an_unknown_security_setting_is_refused():
    with pytest.raises(ValueError, match="security must be one of none, starttls, tls"):
        SmtpSettings(host="127.0.0.1", security="ssl")
