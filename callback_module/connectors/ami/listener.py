"""The AMI listener: one background thread of the worker holding one AMI session.

It logs in with the event classes the assembler needs, pings when the line is quiet (a silent
PBX and a dead link look alike until a Ping goes unanswered), reconnects with exponential
backoff after a drop or a PBX restart, and hands finished calls to the sync through a
thread-safe queue. Each outage is remembered as a gap in PBX time, for the CDR backfill.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .assembler import Assembler, FinishedCall
from .client import AmiConnection, AmiError
from .protocol import Message

log = logging.getLogger("callback.ami")
# AST_CONTROL_* numbers of OriginateResponse's Reason (include/asterisk/frame.h).
ORIGINATE_REASONS = {"0": "failed", "1": "hung up", "3": "no answer", "4": "answered",
                     "5": "busy", "8": "congestion"}


@dataclass(frozen=True)
class AmiSettings:
    host: str
    port: int
    username: str
    secret: str
    # dialplan: VarSet QUEUESTATUS and Newexten (VoiceMail); system: FullyBooted, Shutdown.
    events: str = "system,call,agent,cdr,dialplan"
    ping_interval: float = 10.0
    dead_after: float = 25.0
    backoff_min: float = 0.5
    backoff_max: float = 30.0
    read_timeout: float = 0.1


class Outbox:
    """Finished calls, numbered. A fetch gets those after the number its cursor holds; a number
    is only forgotten once a later cursor shows it was committed, so a failed sync loses none."""

    def __init__(self) -> None:
        self._queue: queue.Queue[FinishedCall] = queue.Queue()
        self._items: list[tuple[int, FinishedCall]] = []
        self._seq = 0
        self._lock = threading.Lock()

    def put(self, calls: list[FinishedCall]) -> None:
        for call in calls:
            self._queue.put(call)

    def since(self, committed: int) -> list[tuple[int, FinishedCall]]:
        with self._lock:
            while True:
                try:
                    call = self._queue.get_nowait()
                except queue.Empty:
                    break
                self._seq += 1
                self._items.append((self._seq, call))
            self._items = [item for item in self._items if item[0] > committed]
            return list(self._items)


class AmiListener:
    def __init__(self, settings: AmiSettings, assembler: Assembler, *,
                 on_call_ended: Callable[[], None] | None = None,
                 on_originate: Callable[[dict[str, str]], None] | None = None) -> None:
        self.settings, self.assembler = settings, assembler
        self.on_call_ended, self.on_originate = on_call_ended, on_originate
        self.session = uuid.uuid4().hex[:12]
        self.outbox = Outbox()
        # (last event before, first event after: PBX time; when noticed: time.time())
        self.gaps: list[tuple[float, float, float]] = []
        self.connections = 0
        self.connected = threading.Event()
        self.last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: AmiConnection | None = None
        self._down_since: float | None = None
        self._listing: set[str] | None = None
        self._listing_action = ""  # ActionID of this connection's CoreShowChannels
        self._listing_refused = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="callback-ami", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading; calls that have ended are handed over at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._deliver(self.assembler.flush())

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """Was it asked to stop? Its thread may still be alive, e.g. stuck connecting past
        :meth:`stop`'s timeout; it ends on its own and hands nothing more to anyone."""
        return self._stop.is_set()

    def _run(self) -> None:
        delay, s = self.settings.backoff_min, self.settings
        while not self._stop.is_set():
            conn = AmiConnection(s.host, s.port, timeout=5.0)
            conn.malformed = lambda block, exc: log.warning(
                "AMI: skipped a malformed message (%s): %r", exc, block[:200])
            try:
                conn.open()
                conn.login(s.username, s.secret, s.events)
            except AmiError as exc:
                conn.close()
                if str(exc) != self.last_error:
                    log.warning("AMI: %s; trying again, waiting up to %g s between tries",
                                exc, s.backoff_max)
                self.last_error = str(exc)
                self._stop.wait(delay)
                delay = min(delay * 2, s.backoff_max)
                continue
            delay, self.last_error = s.backoff_min, ""
            self.connections += 1
            log.info("AMI: connected to %s (%s)", conn.where, conn.banner)
            try:
                self._read(conn)
            except AmiError as exc:
                if not self._stop.is_set():
                    log.warning("AMI: %s; reconnecting", exc)
            finally:
                if self._stop.is_set():
                    conn.logoff()
                conn.close()
                self.connected.clear()
            self._down_since = self.assembler.last_ts

    def _read(self, conn: AmiConnection) -> None:
        s = self.settings
        self.connected.set()
        started = time.monotonic()
        self.assembler.resume(started)
        # Which channels are alive now: calls of before a gap whose channels are gone ended
        # while we could not hear them.
        self._listing = set() if self.connections > 1 else None
        self._listing_action = conn.send_action("CoreShowChannels")
        last_rx = last_ping = started
        while not self._stop.is_set():
            message = conn.read_message(s.read_timeout)
            now = time.monotonic()
            if message is not None:
                last_rx = now
                self._dispatch(message, now, started)
            else:
                self._deliver(self.assembler.tick(now))
            if now - last_rx >= s.ping_interval and now - last_ping >= s.ping_interval:
                conn.send_action("Ping")
                last_ping = now
            if now - last_rx >= s.dead_after:
                raise AmiError(f"no answer from {conn.where} for {s.dead_after:g} s, not even "
                               "to a Ping: the link is dead")

    def _dispatch(self, message: Message, now: float, connected_at: float) -> None:
        event = message.get("Event")
        if event is None:
            self._response(message)
            return
        if event == "OriginateResponse":
            self._originate_response(message)
            return
        if self._down_since is not None and "Timestamp" in message:
            self.gaps.append((self._down_since, float(message["Timestamp"]), time.time()))
            self._down_since = None
        if event == "CoreShowChannel" and self._listing is not None:
            self._listing.add(message.get("Uniqueid", ""))
        try:
            if event == "CoreShowChannelsComplete" and self._listing is not None:
                self.assembler.reconcile(self._listing, connected_at)
                self._listing = None
            self._deliver(self.assembler.feed(message, now))
        except Exception:  # one odd event must not stop the listener
            log.exception("AMI: event %s skipped", event)

    def _response(self, message: Message) -> None:
        """A Response to our Ping or CoreShowChannels; only a refused listing matters."""
        if message.get("ActionID") != self._listing_action or \
                message.get("Response", "").lower() != "error":
            return
        self._listing = None  # no list follows: nothing to reconcile this time
        if not self._listing_refused:  # once: the answer is the same at every reconnect
            self._listing_refused = True
            # Asterisk checks actions against the user's write classes; CoreShowChannels is
            # registered with EVENT_FLAG_SYSTEM | EVENT_FLAG_REPORTING (manager.c).
            log.warning("AMI: the PBX refused CoreShowChannels (%s): the AMI user needs write "
                        "= reporting (or system) in manager.conf, or calls that end while the "
                        "link is down are not noticed (they stay open for up to %d h).",
                        message.get("Message") or "no reason given",
                        self.assembler.max_idle // 3600)

    def _originate_response(self, message: Message) -> None:
        result = {"action_id": message.get("ActionID", ""),
                  "response": message.get("Response", ""), "channel": message.get("Channel", ""),
                  "uniqueid": message.get("Uniqueid", ""), "reason": message.get("Reason", ""),
                  "meaning": ORIGINATE_REASONS.get(message.get("Reason", ""), "unknown")}
        log.info("AMI: originate %s: %s (%s)", result["action_id"], result["response"],
                 result["meaning"])
        if self.on_originate is not None:
            try:
                self.on_originate(result)
            except Exception:
                log.exception("on_originate failed")

    def _deliver(self, calls: list[FinishedCall]) -> None:
        if not calls:
            return
        self.outbox.put(calls)
        if self.on_call_ended is not None:
            try:
                self.on_call_ended()
            except Exception:
                log.exception("on_call_ended failed")
