"""A small blocking AMI client: connect, read the banner, log in, send actions, read messages.

Written by hand rather than taken from PyPI. The candidates were read (trial installs):
``panoramisk`` is asyncio-only (a loop thread of its own inside the APScheduler worker, last
release 2021, fixed reconnect delay); ``asterisk-ami`` is threaded but has a fixed 0.5 s
reconnect loop without backoff, shares its futures dict between threads without a lock, and
raises a bare ``Exception`` on a bad banner inside its reader thread; ``astami`` has no event
subscription at all; ``pystrix`` is LGPL-3. AMI is a line protocol (``Key: Value``, a blank
line ends a message), so one class of stdlib socket code gives exactly what the worker needs:
read timeouts for ping-based dead-link detection, reconnect with exponential backoff (in
:mod:`.listener`), errors in words an admin understands, and no new dependency.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import time
from collections.abc import Callable

from .protocol import (
    BANNER_PREFIX,
    BlockReader,
    MalformedMessage,
    Message,
    format_action,
    parse_block,
)

_ids = itertools.count(1)


class AmiError(Exception):
    """The PBX could not be reached or refused us; ``str()`` says why, never the secret."""


class ConnectionClosed(AmiError):
    """The PBX closed the connection (a restart, a `manager reload`, a network drop)."""


class AmiConnection:
    """One TCP session with the Asterisk Manager Interface."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.host, self.port, self.timeout = host, int(port), timeout
        self.banner = ""
        self._sock: socket.socket | None = None
        self._reader = BlockReader()
        self._pending: list[Message] = []
        self.malformed: Callable[[str, MalformedMessage], None] | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def open(self) -> str:
        """Connect and read the banner; AmiError in words when that fails."""
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except ConnectionRefusedError:
            raise AmiError(f"connection refused by {self.where} (is Asterisk running, with the "
                           "manager enabled on this port in manager.conf?)") from None
        except TimeoutError:
            raise AmiError(f"no answer from {self.where} within {self.timeout:g} s "
                           "(wrong host, or a firewall in the way?)") from None
        except socket.gaierror:
            raise AmiError(f"unknown host {self.host!r}") from None
        except OSError as exc:
            raise AmiError(f"cannot reach {self.where}: {exc.strerror or exc}") from None
        while self._reader.take_banner() is None:
            self._recv(self.timeout, "greeting")
        self.banner = self._reader.banner or ""
        if not self.banner.startswith(BANNER_PREFIX):
            self.close()
            raise AmiError(f"{self.where} is not an Asterisk Manager Interface (it greeted "
                           f"with {self.banner[:60]!r})")
        return self.banner

    def login(self, username: str, secret: str, events: str = "off") -> None:
        """Log in; ``events`` is "off", "on" or a list of classes such as "call,agent,cdr"."""
        reply = self.request("Login", {"Username": username, "Secret": secret,
                                       "Events": events})
        if reply.get("Response", "").lower() != "success":
            self.close()
            raise AmiError(f"the PBX refused the login of {username!r}: "
                           f"{reply.get('Message') or 'no reason given'} "
                           "(wrong username or secret, or not allowed from this address?)")

    def send_action(self, action: str, fields: dict[str, str] | None = None) -> str:
        """Send an action; returns its ActionID (one is added unless given)."""
        fields = dict(fields or {})
        fields.setdefault("ActionID", f"callback-{next(_ids)}")
        data = format_action(action, fields)
        try:
            self._socket().sendall(data)
        except OSError as exc:
            raise ConnectionClosed(f"lost the connection to {self.where}: {exc}") from None
        return fields["ActionID"]

    def request(self, action: str, fields: dict[str, str] | None = None,
                on_other: Callable[[Message], None] | None = None) -> Message:
        """Send an action and wait for its Response; events read meanwhile go to ``on_other``
        (or wait in line for :meth:`read_message`)."""
        action_id = self.send_action(action, fields)
        while True:
            message = self.read_message(self.timeout)
            if message is None:
                raise AmiError(f"{self.where} did not answer {action} within "
                               f"{self.timeout:g} s")
            if "Response" in message and message.get("ActionID", action_id) == action_id:
                return message
            if on_other is not None:
                on_other(message)
            else:
                self._pending.append(message)

    def read_message(self, timeout: float | None) -> Message | None:
        """The next message, or None when nothing complete came within ``timeout`` seconds."""
        if self._pending:
            return self._pending.pop(0)
        while True:
            for block in self._reader.blocks():
                try:
                    self._pending.append(parse_block(block))
                except MalformedMessage as exc:
                    if self.malformed is not None:
                        self.malformed(block, exc)
            if self._pending:
                return self._pending.pop(0)
            if not self._recv(timeout, None):
                return None

    def logoff(self) -> None:
        """Say goodbye politely; errors do not matter any more at this point."""
        with contextlib.suppress(AmiError, ValueError):
            action_id = self.send_action("Logoff")
            deadline = time.monotonic() + 1.0
            while (left := deadline - time.monotonic()) > 0:  # wait for the Goodbye
                reply = self.read_message(left)
                if reply is None or reply.get("ActionID") == action_id:
                    break

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise ConnectionClosed(f"not connected to {self.where}")
        return self._sock

    def _recv(self, timeout: float | None, waiting_for: str | None) -> bool:
        sock = self._socket()
        sock.settimeout(timeout)
        try:
            data = sock.recv(65536)
        except TimeoutError:
            if waiting_for:
                self.close()
                raise AmiError(f"{self.where} accepted the connection but sent no "
                               f"{waiting_for} within {timeout:g} s (not an AMI port?)") from None
            return False
        except OSError as exc:
            self.close()
            raise ConnectionClosed(f"lost the connection to {self.where}: {exc}") from None
        if not data:
            self.close()
            raise ConnectionClosed(f"{self.where} closed the connection")
        self._reader.feed(data)
        return True
