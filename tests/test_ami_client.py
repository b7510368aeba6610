"""The AMI client in words: check_status for each way a login fails, and Originate exactly."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC

import pytest
from ami_replay_server import AmiReplayServer

from callback_module.connectors.ami import AsteriskAmiConnector
from callback_module.connectors.ami.client import AmiConnection, AmiError


def connector(port: int, secret: str = "labsecret", **extra) -> AsteriskAmiConnector:
    return AsteriskAmiConnector({"host": "127.0.0.1", "port": port, "username": "lab",
                                 "secret": secret, **extra}, instance_path="/tmp", timezone=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OtherServer:
    """A TCP server that is not Asterisk: greets with ``greeting`` (or says nothing)."""

    def __init__(self, greeting: bytes | None) -> None:
        self.greeting = greeting
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self.conns.append(conn)
        if self.greeting is not None:
            conn.sendall(self.greeting)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


def test_status_ok_logs_in_and_out():
    with AmiReplayServer([]) as server:
        status = connector(server.port).check_status()
    assert status.ok, status.message
    assert status.message == (f"Logged in to Asterisk Call Manager/9.0.0 at 127.0.0.1:"
                              f"{server.port} as lab.")
    assert [a["Action"] for a in server.actions] == ["Login", "Logoff"]
    assert server.actions[0]["Events"] == "off"


def test_status_says_wrong_secret_and_never_shows_it(caplog):
    caplog.set_level(logging.DEBUG)
    with AmiReplayServer([]) as server:
        status = connector(server.port, secret="not-the-secret").check_status()
    assert not status.ok
    assert "Authentication failed" in status.message
    assert "refused the login of 'lab'" in status.message
    assert "not-the-secret" not in status.message + caplog.text


def test_status_says_connection_refused():
    port = free_port()
    status = connector(port).check_status()
    assert not status.ok
    assert f"connection refused by 127.0.0.1:{port}" in status.message


def test_status_says_not_an_ami_server():
    other = OtherServer(b"SSH-2.0-OpenSSH_9.6\r\n")
    try:
        status = connector(other.port).check_status()
    finally:
        other.close()
    assert not status.ok
    assert "is not an Asterisk Manager Interface (it greeted with 'SSH-2.0-OpenSSH_9.6')" \
        in status.message


def test_status_says_timeout_when_nothing_greets():
    other = OtherServer(None)
    try:
        conn = AmiConnection("127.0.0.1", other.port, timeout=0.3)
        with pytest.raises(AmiError) as raised:
            conn.open()
    finally:
        other.close()
    assert str(raised.value) == (f"127.0.0.1:{other.port} accepted the connection but sent "
                                 "no greeting within 0.3 s (not an AMI port?)")


def test_originate_sends_exactly_this_action():
    with AmiReplayServer([]) as server:
        result = connector(server.port).originate("201", "0301110003", "cb-1795328130.00000042")
    assert result.ok and result.call_key == "cb-1795328130.00000042"
    assert result.message == "The PBX rings 201, then dials 0301110003."
    originate = next(a for a in server.actions if a["Action"] == "Originate")
    assert originate == {
        "Action": "Originate", "Channel": "Local/201@from-internal", "Context": "from-internal",
        "Exten": "0301110003", "Priority": "1", "CallerID": '"Callback 0301110003" <0301110003>',
        "Timeout": "30000", "Async": "true", "ChannelId": "cb-1795328130.00000042",
        "ActionID": "cb-1795328130.00000042"}
    assert [a["Action"] for a in server.actions] == ["Login", "Originate", "Logoff"]


def test_originate_channel_and_context_are_settings():
    with AmiReplayServer([]) as server:
        connector(server.port, originate_channel="Local/{extension}@originate-skipvm",
                  originate_context="from-internal-custom").originate("202", "+4930555", "a1")
    originate = next(a for a in server.actions if a["Action"] == "Originate")
    assert originate["Channel"] == "Local/202@originate-skipvm"
    assert originate["Context"] == "from-internal-custom"


def test_originate_refusals_are_said_in_words():
    with AmiReplayServer([], originate_reply="Error") as server:
        result = connector(server.port).originate("201", "0301110003", "a2")
        assert not result.ok and result.message == "The PBX refused the call: Originate failed."
        bad = connector(server.port).originate("201", "0301\r\nAction: Command", "a3")
        assert not bad.ok and "only digits, +, * and # can be dialled" in bad.message
        template = connector(server.port, originate_channel="PJSIP/{ext}").originate(
            "201", "0301", "a4")
        assert not template.ok and "{extension}" in template.message
    assert all(a.get("Exten") != "0301\r\nAction: Command" for a in server.actions)
    down = connector(free_port()).originate("201", "0301110003", "a5")
    assert not down.ok and "connection refused" in down.message
