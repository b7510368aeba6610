"""The Asterisk Manager Interface connector: live calls, click-to-dial, "calling in now".

The worker calls :meth:`~AsteriskAmiConnector.start`: a listener thread holds the AMI session
and hands finished calls over; ``on_call_ended`` tells the worker to sync at once. The sync
builds a fresh connector object for every run, so listeners live in a module registry keyed by
host, port and user, and any instance's :meth:`fetch` finds the running one. Without a running
listener (``flask callback sync``) a fetch reads nothing new from AMI.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from ...i18n import N_, join
from ..base import Batch, Connector, ConnectorField, OriginateResult, Status
from ..registry import register_connector
from .assembler import Assembler
from .backfill import backfill, cdr_source, gap_after_restart
from .client import AmiConnection, AmiError
from .listener import AmiListener, AmiSettings

_listeners: dict[tuple[str, int, str], AmiListener] = {}
_lock = threading.Lock()
_NUMBER = re.compile(r"[0-9+*#]{1,40}")
_EXTENSION = re.compile(r"[\w+*#.-]{1,40}")
THROUGH_MARGIN = 10.0  # s: calls ended this close to the last event may not be handed over yet


@register_connector
class AsteriskAmiConnector(Connector):
    name = "asterisk_ami"
    label = N_("Asterisk Manager Interface (live)")
    can_originate = True
    fields = (
        ConnectorField("host", N_("AMI host"), "text", "127.0.0.1", required=True),
        ConnectorField("port", N_("AMI port"), "int", 5038),
        ConnectorField("username", N_("AMI user"), "text", "callback", required=True,
                       help=N_("A manager.conf user with read = system,call,agent,cdr,"
                               "dialplan and write = originate,reporting.")),
        ConnectorField("secret", N_("AMI secret"), "secret", "", required=True),
        ConnectorField("originate_channel", N_("Channel rung first"), "text",
                       "Local/{extension}@from-internal",
                       help=N_("{extension} is the agent's extension. FreePBX: "
                               "Local/{extension}@originate-skipvm; or PJSIP/{extension}.")),
        ConnectorField("originate_context", N_("Context of the number dialled"), "text",
                       "from-internal"),
        ConnectorField("cdr_url", N_("CDR database (backfill)"), "text", "",
                       help=N_("Optional: calls that end while the AMI link is down are read "
                               "from here (FreePBX asteriskcdrdb).")),
    )
    secret_fields = frozenset({"secret"})

    @property
    def key(self) -> tuple[str, int, str]:
        return (str(self.config["host"]), int(self.config["port"]), str(self.config["username"]))

    @property
    def listener(self) -> AmiListener | None:
        return _listeners.get(self.key)

    def settings(self, **overrides: Any) -> AmiSettings:
        host, port, username = self.key
        return AmiSettings(host, port, username, str(self.config["secret"]), **overrides)

    def _session(self) -> AmiConnection:
        """A short session of its own, events off (for status and click-to-dial)."""
        host, port, username = self.key
        conn = AmiConnection(host, port, timeout=5.0)
        conn.open()
        conn.login(username, str(self.config["secret"]), events="off")
        return conn

    def check_status(self) -> Status:
        conn = None
        try:
            conn = self._session()
            banner = conn.banner
            conn.logoff()
        except AmiError as exc:
            return Status(False, N_("Cannot use the AMI: %(reason)s.", reason=str(exc)))
        finally:
            if conn is not None:
                conn.close()
        message = N_("Logged in to %(banner)s at %(host)s:%(port)s as %(user)s.", banner=banner,
                     host=self.key[0], port=self.key[1], user=self.key[2])
        listener = self.listener
        if listener is not None and listener.running and not listener.connected.is_set():
            message = join([message, N_("The worker's listener is reconnecting (%(reason)s).",
                                        reason=listener.last_error)], " ")
        return Status(True, message)

    def start(self, on_call_ended: Callable[[], None] | None = None,
              on_ringing: Callable[[str, bool], None] | None = None,
              on_originate: Callable[[dict[str, str]], None] | None = None,
              **settings: Any) -> AmiListener:
        """Start the listener thread (once per PBX and user in this process). A listener
        asked to stop is never reused, even while its thread is still winding down."""
        with _lock:
            listener = _listeners.get(self.key)
            if listener is None or not listener.running or listener.stopping:
                listener = AmiListener(self.settings(**settings),
                                       Assembler(self.timezone, on_ringing=on_ringing),
                                       on_call_ended=on_call_ended, on_originate=on_originate)
                _listeners[self.key] = listener
                listener.start()
            return listener

    def stop(self) -> None:
        """Stop the listener; what it finished stays for the next fetch (the worker's last
        sync)."""
        listener = self.listener
        if listener is not None:
            listener.stop()

    def ringing_numbers(self) -> list[str]:
        """The numbers of callers on the line right now (withheld ones left out)."""
        listener = self.listener
        return listener.assembler.ringing_numbers() if listener is not None else []

    def fetch(self, cursor: dict[str, Any] | None) -> Batch:
        cursor = copy.deepcopy(cursor or {})
        batch = Batch()
        listener = self.listener
        first_ts = listener.assembler.first_ts if listener is not None else None
        if listener is not None and first_ts is not None:
            same = cursor.get("session") == listener.session
            if not same:
                restart_gap = gap_after_restart(cursor, first_ts, time.time())
                cursor["gaps"] = (cursor.get("gaps") or []) + ([restart_gap] if restart_gap
                                                               else [])
                cursor.update(session=listener.session, seq=0, gaps_seen=0)
            items = listener.outbox.since(int(cursor.get("seq", 0)))
            for _seq, call in items:
                batch.legs.extend(call.legs)
                batch.queue_events.extend(call.queue_events)
            gaps = listener.gaps[int(cursor.get("gaps_seen", 0)):]
            cursor["gaps"] = (cursor.get("gaps") or []) + [list(g) for g in gaps]
            cursor["gaps_seen"] = len(listener.gaps)
            if items:
                cursor["seq"] = items[-1][0]
            last_ts = listener.assembler.last_ts or first_ts
            cursor["through"] = max(float(cursor.get("through") or 0), last_ts - THROUGH_MARGIN)
            batch.lines_read = len(items)
        if cursor.get("gaps"):
            backfill(cursor, batch, lambda: cdr_source(
                str(self.config["cdr_url"]), instance_path=self.instance_path,
                timezone=self.timezone), time.time())
        batch.cursor = cursor
        return batch

    def originate(self, extension: str, number: str, attempt_id: str) -> OriginateResult:
        """Ring ``extension``, then dial ``number`` (Originate, Async): the answer says only that
        the PBX took the job; the OriginateResponse event reaches the listener later."""
        if not _EXTENSION.fullmatch(extension or "") or not _NUMBER.fullmatch(number or ""):
            return OriginateResult(False, N_("Cannot dial %(number)s from %(extension)s: only "
                                             "digits, +, * and # can be dialled.",
                                             number=repr(number), extension=repr(extension)))
        try:
            channel = str(self.config["originate_channel"]).format(extension=extension)
        except (KeyError, IndexError, ValueError):
            return OriginateResult(False, N_("The connector's 'Channel rung first' setting "
                                             "must contain {extension} and no other {…}."))
        fields = {"Channel": channel, "Context": str(self.config["originate_context"]),
                  "Exten": number, "Priority": "1", "CallerID": f'"Callback {number}" <{number}>',
                  "Timeout": "30000", "Async": "true", "ChannelId": attempt_id,
                  "ActionID": attempt_id}
        conn = None
        try:
            conn = self._session()
            reply = conn.request("Originate", fields, on_other=lambda _message: None)
            conn.logoff()
        except (AmiError, ValueError) as exc:
            return OriginateResult(False, N_("The PBX could not be asked to place the call: "
                                             "%(reason)s.", reason=str(exc)))
        finally:
            if conn is not None:
                conn.close()
        if reply.get("Response", "").lower() != "success":
            return OriginateResult(False, N_("The PBX refused the call: %(reason)s.",
                                             reason=reply.get("Message") or "no reason given"))
        return OriginateResult(True, N_("The PBX rings %(extension)s, then dials %(number)s.",
                                        extension=extension, number=number), attempt_id)
