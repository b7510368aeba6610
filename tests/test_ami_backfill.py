"""Calls that ended while the AMI link was down come from the CDR database, none twice.

The replay loses a stretch of the stream (S05 to S06c: four whole calls) and drops the
connection there, as a PBX link outage does; the CDR source holds run A's rows. Afterwards the
lists and the leg count equal an uninterrupted run: the lost calls from the backfill, every
other call from AMI only.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from ami_replay_server import AmiReplayServer, recorded_events
from sqlalchemy import func, select
from test_ami_connector import configure
from test_fixtures_expected import RUNS, expected, got

from callback_module.connectors import registry
from callback_module.connectors.ami import backfill as ami_backfill
from callback_module.connectors.ami import connector as ami_connector
from callback_module.connectors.base import Batch, Connector, ConnectorField
from callback_module.extensions import db
from callback_module.models import Call, CallLeg, Cursor
from callback_module.parsers.cdr import detect_cdr_layout, parse_cdr
from callback_module.sync import build_connector, run_sync

from conftest import FIXTURES, add_fixture_profile

MASTER = FIXTURES / RUNS[0] / "cdr-csv" / "Master.csv"
LOST = {"1795327948.12", "1795327975.15", "1795327981.17", "1795328013.19"}  # S05..S06c


class FakeCdrDatabase(Connector):
    """Stands in for freepbx_cdr: run A's CDR rows, by end time."""

    name = "freepbx_cdr"
    fields = (ConnectorField("cdr_url", "URL"), ConnectorField("queue_log_table", "q"))
    windows: list[tuple[datetime, datetime]] = []

    def read_between(self, since: datetime, until: datetime) -> Batch:
        self.windows.append((since, until))
        lines = list(enumerate(MASTER.read_text().splitlines(), 1))
        legs = list(parse_cdr(lines, detect_cdr_layout([t for _, t in lines[:5]]), UTC, "cdr"))
        ends: dict[str, datetime] = {}
        for leg in legs:
            ends[leg.call_key] = max(leg.end, ends.get(leg.call_key, leg.end))
        return Batch(legs=[leg for leg in legs if since <= ends[leg.call_key] <= until])


@pytest.fixture(autouse=True)
def _clean():
    yield
    for listener in list(ami_connector._listeners.values()):
        listener.stop(timeout=2)
    ami_connector._listeners.clear()


def lossy_stream() -> tuple[list[str], int]:
    events = recorded_events(FIXTURES / RUNS[0] / "ami_events.raw")
    first = next(i for i, e in enumerate(events) if e.startswith("Event: Newchannel")
                 and "Uniqueid: 1795327948.12\n" in e)
    after = next(i for i, e in enumerate(events) if e.startswith("Event: Newchannel")
                 and "Uniqueid: 1795328026.21\n" in e)
    return events[:first] + events[after:], first


def run_until_backfilled(server: AmiReplayServer) -> None:
    listener = build_connector().start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert run_sync("test").state == "ok"
        cursor = db.session.scalar(select(Cursor).where(Cursor.name == "asterisk_ami"))
        if server.done.is_set() and not listener.assembler._ended and cursor and \
                cursor.value.get("gaps_seen", 0) >= len(listener.gaps) >= 1 and \
                not cursor.value.get("gaps"):
            return
        time.sleep(0.05)
    raise AssertionError("the backfill did not happen")


def legs_by_call() -> dict[str, int]:
    return dict(db.session.execute(select(Call.key, func.count(CallLeg.id)).join(CallLeg)
                                   .group_by(Call.key)).all())


def test_calls_lost_in_an_outage_come_from_the_cdr_database_once(app, monkeypatch):
    monkeypatch.setitem(registry._connectors, "freepbx_cdr", FakeCdrDatabase)
    monkeypatch.setattr(ami_backfill, "SETTLE_SECONDS", 1.0)
    monkeypatch.setattr(FakeCdrDatabase, "windows", [])
    add_fixture_profile(1)
    events, cut = lossy_stream()
    with AmiReplayServer(events, drop_after=cut, max_drops=1) as server:
        configure(server.port, cdr_url="mysql+pymysql://callback@127.0.0.1/asteriskcdrdb")
        run_until_backfilled(server)
    assert got() == expected(1)
    per_call = legs_by_call()
    assert sum(per_call.values()) == MASTER.read_text().count("\n")  # nothing twice, none lost
    assert set(per_call) >= LOST
    (since, until), = FakeCdrDatabase.windows
    assert since < datetime(2026, 11, 22, 6, 12, 28, tzinfo=UTC) < until  # S05's start


def test_without_a_cdr_source_the_gap_is_reported(app, monkeypatch, caplog):
    monkeypatch.setattr(ami_backfill, "SETTLE_SECONDS", 0.0)
    add_fixture_profile(1)
    events, cut = lossy_stream()
    with AmiReplayServer(events, drop_after=cut, max_drops=1) as server:
        configure(server.port)
        run_until_backfilled(server)
    assert not LOST & set(legs_by_call())
    assert "while the AMI link was down, may be missing: set cdr_url" in caplog.text

