"""A fake Asterisk Manager Interface for the tests: real TCP on 127.0.0.1, recorded events.

Speaks as ../shared/bin/ami_replay.py does (banner, Login, then the recorded events as fast as
the client reads, answering actions in between; ``drop_after`` closes the socket after K events
and the next connection resumes where it stopped; ``holds`` pauses the stream, as a call in
progress does), and also: refuses a wrong secret with
Asterisk's "Authentication failed", sends no events to a session that logged in with
``Events: off`` (as the connector's own short sessions do), answers the actions named in
``refuse_actions`` with ``Response: Error`` and the given message (as Asterisk does for a user
without the write class an action needs), and records every action received.
"""

from __future__ import annotations

import queue
import select
import socket
import threading
import time
from pathlib import Path

BANNER = "Asterisk Call Manager/9.0.0"


def recorded_events(capture: Path) -> list[str]:
    """The Event blocks of a raw capture (CRLF line ends, blank line between messages)."""
    text = capture.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n")
    _banner, _, rest = text.partition("\n")
    return [b for b in rest.split("\n\n") if b.strip().startswith("Event:")]


class AmiReplayServer:
    def __init__(self, events: list[str], *, username: str = "lab", secret: str = "labsecret",
                 drop_after: int = 0, max_drops: int = 0,
                 originate_reply: str = "Success", holds: tuple[int, ...] = (),
                 refuse_actions: dict[str, str] | None = None) -> None:
        self.events, self.username, self.secret = events, username, secret
        # lower-case action name -> Message of the Error answer, e.g. "Permission denied"
        self.refuse_actions = refuse_actions or {}
        # The stream stops before each of these event indexes until release() is called.
        self.holds, self.held = sorted(holds), threading.Event()
        self.drop_after, self.originate_reply = drop_after, originate_reply
        self.max_drops, self.drops = max_drops, 0  # max_drops 0: every connection drops
        self.pos = 0
        self.sent_at: dict[int, float] = {}  # event index -> time.monotonic() when sent
        self.actions: list[dict[str, str]] = []
        self.connections = 0
        self.streams = 0
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._stream_ended = threading.Condition()
        self._pushed: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> AmiReplayServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.close()
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.sendall(BANNER.encode() + b"\r\n")
            buf = bytearray()
            login = self._read_action(conn, buf)
            if login is None or login.get("Action", "").lower() != "login":
                return
            if login.get("Username") != self.username or login.get("Secret") != self.secret:
                self._send(conn, login, "Response: Error\nMessage: Authentication failed")
                return
            self._send(conn, login, "Response: Success\nMessage: Authentication accepted")
            streaming = login.get("Events", "on").lower() != "off"
            # One event stream at a time, or the two would split the events. A client that
            # reconnects at once may be quicker than the old stream's thread noticing the close:
            # wait for it a moment, as the PBX's own session would be gone by then.
            with self._stream_ended:
                if streaming and not self._stream_ended.wait_for(lambda: not self.streams, 3.0):
                    return
                self.streams += streaming
            try:
                self._stream(conn, buf, streaming)
            finally:
                with self._stream_ended:
                    self.streams -= streaming
                    self._stream_ended.notify_all()

    def push(self, event: str) -> None:
        """Send one more event to the listening session (after or between the recorded ones)."""
        self._pushed.put(event)

    def _stream(self, conn: socket.socket, buf: bytearray, streaming: bool) -> None:
        sent, listening = 0, streaming
        while not self._stop.is_set():
            if listening and not self._pushed.empty():
                conn.sendall(self._pushed.get().replace("\n", "\r\n").encode() + b"\r\n\r\n")
            pause = 0 if streaming and not self.held.is_set() else 0.05
            ready, _, _ = select.select([conn], [], [], pause)
            if ready:
                action = self._read_action(conn, buf)
                if action is None or not self._answer(conn, action):
                    return
                continue
            with self._lock:
                finished = self.pos >= len(self.events)
                if finished:
                    self.done.set()
                if not streaming or finished:
                    streaming = False
                    continue
                if self.holds and self.pos >= self.holds[0]:
                    self.held.set()
                    continue
                event, self.pos = self.events[self.pos], self.pos + 1
            conn.sendall(event.replace("\n", "\r\n").encode() + b"\r\n\r\n")
            self.sent_at[self.pos - 1] = time.monotonic()
            sent += 1
            if self.drop_after and sent >= self.drop_after and (
                    not self.max_drops or self.drops < self.max_drops):
                self.drops += 1
                self._hang_up(conn)
                return

    def release(self) -> None:
        """Go on past the current hold."""
        with self._lock:
            self.holds.pop(0)
            self.held.clear()

    @staticmethod
    def _hang_up(conn: socket.socket) -> None:
        """Close as a PBX going down does, but only after the client has read every event sent:
        closing with an unread Ping in our buffer would send a reset, and a reset lets the
        kernel throw away events the client has not read yet (a loss no real link drop causes
        between two whole events)."""
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(2.0)
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass

    def _answer(self, conn: socket.socket, action: dict[str, str]) -> bool:
        name = action.get("Action", "").lower()
        if name == "logoff":
            self._send(conn, action, "Response: Goodbye\nMessage: Thanks for all the fish.")
            return False
        if name in self.refuse_actions:
            self._send(conn, action, f"Response: Error\nMessage: {self.refuse_actions[name]}")
        elif name == "originate":
            self._send(conn, action, f"Response: {self.originate_reply}\nMessage: "
                       + ("Originate successfully queued" if self.originate_reply == "Success"
                          else "Originate failed"))
        elif name == "ping":
            self._send(conn, action, "Response: Success\nPing: Pong")
        else:
            self._send(conn, action, "Response: Success\nMessage: replay")
        return True

    def _read_action(self, conn: socket.socket, buf: bytearray) -> dict[str, str] | None:
        while b"\r\n\r\n" not in buf:
            try:
                chunk = conn.recv(4096)
            except OSError:
                return None
            if not chunk:
                return None
            buf.extend(chunk)
        head, _, rest = bytes(buf).partition(b"\r\n\r\n")
        buf[:] = rest
        action = {}
        for line in head.decode().split("\r\n"):
            key, _, value = line.partition(":")
            action[key.strip()] = value.strip()
        self.actions.append(action)
        return action

    @staticmethod
    def _send(conn: socket.socket, action: dict[str, str], text: str) -> None:
        if "ActionID" in action:
            text += f"\nActionID: {action['ActionID']}"
        conn.sendall(text.replace("\n", "\r\n").encode() + b"\r\n\r\n")
