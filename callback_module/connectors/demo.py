"""The demo PBX: a seeded, simulated Asterisk that writes Master.csv and queue_log lines.

A real connector, not a test mock: each fetch lets the simulated PBX write the calls that ended
since the last one into instance/demo/, then reads those files back through the same parsers as
the Asterisk files connector. On its first run it writes the last two hours of traffic, so the
list is full at once. Click-to-dial works: the call it places arrives with a later fetch
(:mod:`.demo_originate`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from ..i18n import N_
from . import demo_originate
from .base import Batch, Connector, ConnectorField, OriginateResult, Status
from .demo_traffic import DemoPbx
from .files import FollowedFiles
from .registry import register_connector


def _now() -> datetime:
    return datetime.now(UTC)  # one place, so tests can fix the simulated PBX's clock


@register_connector
class DemoConnector(Connector):
    name = "demo"
    label = N_("Demo PBX (simulated Asterisk)")
    can_originate = True
    fields = (
        ConnectorField("seed", N_("Seed"), "int", 7,
                       help=N_("The same seed gives the same calls.")),
        ConnectorField("rate_per_hour", N_("Calls per hour"), "int", 120),
        ConnectorField("backfill_minutes", N_("History written on first start (minutes)"),
                       "int", 120),
    )

    @property
    def directory(self) -> str:
        return os.path.join(self.instance_path, "demo")

    def _paths(self) -> tuple[str, str]:
        return (os.path.join(self.directory, "Master.csv"),
                os.path.join(self.directory, "queue_log"))

    def check_status(self) -> Status:
        return Status(True, N_("The demo PBX is simulated; it is always reachable."))

    def fetch(self, cursor: dict[str, Any] | None, now: datetime | None = None) -> Batch:
        cursor = dict(cursor or {})
        now = now or _now()
        since = (datetime.fromisoformat(cursor["sim_until"]) if "sim_until" in cursor
                 else now - timedelta(minutes=int(self.config["backfill_minutes"])))
        self.write_calls(since, now)
        originated = self._write_originated(cursor.get("originate"), now)
        master, queue_log = self._paths()
        batch = FollowedFiles([("cdr", master, None), ("queue_log", queue_log, None)],
                              self.timezone).read(cursor.get("files"))
        batch.cursor = {"sim_until": now.isoformat(), "files": batch.cursor,
                        "originate": originated}
        return batch

    def originate(self, extension: str, number: str, attempt_id: str) -> OriginateResult:
        """Take the request as Asterisk takes an async Originate; the call shows up later."""
        demo_originate.record(self.directory, demo_originate.OriginateRequest(
            attempt_id, extension, number, _now()))
        return OriginateResult(True, N_("The demo PBX rings %(extension)s, then dials %(number)s.",
                                        extension=extension, number=number), attempt_id)

    def _write_originated(self, cursor: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
        calls, cursor = demo_originate.ended_calls(self.directory, cursor, now, self.timezone)
        if calls:
            with open(self._paths()[0], "a", encoding="utf-8") as cdr:
                for call in sorted(calls, key=lambda c: (c.ends_at, c.linkedid)):
                    cdr.writelines(call.cdr_lines)
        return cursor

    def write_calls(self, since: datetime, until: datetime) -> int:
        """Append the calls that ended in [since, until) as Asterisk would; how many."""
        if until <= since:
            return 0
        pbx = DemoPbx(int(self.config["seed"]), rate_per_hour=float(self.config["rate_per_hour"]),
                      tz=self.timezone)
        calls = pbx.calls_between(since, until)
        os.makedirs(self.directory, exist_ok=True)
        master, queue_log = self._paths()
        with open(master, "a", encoding="utf-8") as cdr, \
                open(queue_log, "a", encoding="utf-8") as qlog:
            for call in calls:
                cdr.writelines(call.cdr_lines)
                qlog.writelines(call.queue_log_lines)
        return len(calls)
