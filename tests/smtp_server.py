"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, keeping what it receives.

``smtp_server(**aiosmtpd options)`` (a fixture) starts one on a free port and gives
(inbox, port); ``MailServer().start()`` does the same for a server a test stops and starts
again on the same port, as a mail server going down and coming back does.
"""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session


class Inbox:
    """aiosmtpd's handler: keeps every message that arrived (parsed, and with its envelope
    and session: how the client logged in and encrypted). Refuses recipients nobody@…"""

    def __init__(self) -> None:
        self.received: list[tuple[Envelope, Session]] = []
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 <nobody@example.com>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope, session))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def only(self) -> tuple[EmailMessage, Envelope, Session]:
        assert len(self.received) == 1
        envelope, session = self.received[0]
        return self.messages[0], envelope, session

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailServer:
    def __init__(self, **options) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.options = options
        self._controller: Controller | None = None

    def start(self) -> MailServer:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                      **self.options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server():
    servers: list[MailServer] = []

    def start(**options) -> tuple[Inbox, int]:
        server = MailServer(**options).start()
        servers.append(server)
        return server.inbox, server.port

    yield start
    for server in servers:
        server.stop()
