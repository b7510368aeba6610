"""The FreePBX CDR database connector against the real MariaDB and PostgreSQL of this machine.

Each test run makes its own asteriskcdrdb_test_* database on each server (dropped at the end);
each test recreates FreePBX's cdr table and a realtime queue_log table and loads run A of the
recorded Asterisk data into them, as FreePBX would have written it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pbx_database import (  # noqa: F401  (fixtures)
    MASTER,
    QUEUE_LOG,
    RUN_A,
    cdr_rows,
    cursor_value,
    load_run_a,
    pbx,
    pbx_server,
    queue_log_rows,
    use_pbx,
)
from test_fixtures_expected import expected, got

from callback_module.connectors import cdr_polling
from callback_module.connectors.freepbx_cdr import FreePbxCdrConnector
from callback_module.extensions import db
from callback_module.models import CallLeg
from callback_module.parsers.cdr import detect_cdr_layout, parse_cdr
from callback_module.parsers.queue_log import parse_queue_log
from callback_module.sync import run_sync

from conftest import add_fixture_profile

S06C = "SIP/carrier-00000014"  # 202 reaches +49301110001: closes the support entry of S01


@pytest.mark.parametrize("profile", [1, 2])
def test_sync_gives_expected_entries_and_nothing_twice(app, pbx, profile):
    add_fixture_profile(profile)
    rows, events = load_run_a(pbx)
    use_pbx(pbx.connector_url())
    run = run_sync("test")
    assert run.state == "ok" and run.problems == 0, run.error
    assert run.legs_new == len(rows) == 42
    assert run.queue_events_new == sum(e["callid"] != "NONE" for e in events)
    assert got() == expected(profile)
    again = run_sync("test")
    assert (again.lines_read, again.legs_new, again.queue_events_new, again.entries_changed) == (
        0, 0, 0, 0)
    assert got() == expected(profile)


def export_legs() -> list:
    """Run A's legs as the file parser reads the cdr table export (calldate, no answer/end)."""
    lines = (RUN_A / "cdr_sqlite3_master_db.csv").read_text().splitlines()
    layout = detect_cdr_layout(lines[:5])
    return sorted(parse_cdr(enumerate(lines, 1), layout, UTC, "export"), key=lambda x: x.key)


def test_legs_are_the_file_parsers_legs_in_the_pbx_time_zone(pbx, tmp_path):
    berlin = ZoneInfo("Europe/Berlin")
    load_run_a(pbx, berlin)  # FreePBX writes calldate in the PBX's local time
    connector = FreePbxCdrConnector({"cdr_url": pbx.connector_url()},
                                    instance_path=str(tmp_path), timezone=berlin)
    batch = connector.fetch(None)
    assert sorted(batch.legs, key=lambda x: x.key) == export_legs()
    lines = enumerate(QUEUE_LOG.read_text().splitlines(), 1)
    assert batch.queue_events == list(parse_queue_log(lines, "queue_log"))
    assert batch.queue_events[0].at == datetime(2026, 11, 22, 6, 11, 6, tzinfo=UTC)


@pytest.mark.parametrize("pbx_server", ["postgresql"], indirect=True)  # PostgreSQL's type
def test_a_timestamptz_calldate_is_taken_as_it_is(pbx_server, tmp_path):
    pbx_server.reset(calldate_type="timestamptz")
    rows = cdr_rows(MASTER)
    pbx_server.insert_cdr([{**r, "calldate": r["calldate"].replace(tzinfo=UTC)} for r in rows])
    connector = FreePbxCdrConnector({"cdr_url": pbx_server.connector_url()},
                                    instance_path=str(tmp_path), timezone=ZoneInfo("Asia/Tokyo"))
    assert sorted(connector.fetch(None).legs, key=lambda x: x.key) == export_legs()


def test_read_between_gives_the_calls_that_ended_in_a_gap(pbx, tmp_path):
    berlin = ZoneInfo("Europe/Berlin")
    load_run_a(pbx, berlin)
    connector = FreePbxCdrConnector({"cdr_url": pbx.connector_url()},
                                    instance_path=str(tmp_path), timezone=berlin)
    since = datetime(2026, 11, 22, 6, 12, 40, tzinfo=UTC)
    until = datetime(2026, 11, 22, 6, 13, 40, tzinfo=UTC)
    ends: dict[str, datetime] = {}
    for leg in export_legs():
        ends[leg.call_key] = max(leg.end, ends.get(leg.call_key, leg.end))
    inside = {key for key, end in ends.items() if since <= end <= until}
    batch = connector.read_between(since, until)
    assert {leg.call_key for leg in batch.legs} == inside == {
        "1795327948.12", "1795327975.15", "1795327981.17", "1795328013.19"}  # S05 to S06c
    assert sorted(batch.legs, key=lambda x: x.key) == [
        leg for leg in export_legs() if leg.call_key in inside]


@pytest.mark.parametrize("lookback, picked_up", [(120, True), (1, False)], ids=["inside",
                                                                               "outside"])
def test_a_row_written_late_is_read_inside_the_lookback(app, pbx, lookback, picked_up):
    add_fixture_profile(1)
    rows, _ = cdr_rows(MASTER), pbx.insert_queue_log(queue_log_rows(QUEUE_LOG))
    late = [r for r in rows if r["dstchannel"] == S06C]
    pbx.insert_cdr([r for r in rows if r["dstchannel"] != S06C])
    use_pbx(pbx.connector_url(), lookback_minutes=lookback)
    assert run_sync("test").legs_new == len(rows) - 1
    assert ("support", "+49301110001", "done", 1, 3) not in got()
    # S06c's row arrives now, dated 3 minutes before the newest row already read.
    pbx.insert_cdr(late)
    second = run_sync("test")
    assert second.state == "ok" and second.legs_new == (1 if picked_up else 0)
    assert (got() == expected(1)) is picked_up
    seen = cursor_value()["cdr"]["seen"]
    watermark = datetime.fromisoformat(cursor_value()["cdr"]["watermark"])
    # The cursor keeps the keys of the look-back window only: bounded by it, not by history.
    in_window = [r for r in rows if r["calldate"] >= watermark - timedelta(minutes=lookback)
                 and (picked_up or r["dstchannel"] != S06C)]
    assert sorted(k for keys in seen.values() for k in keys) == sorted(
        f"{r['uniqueid']}/{r['sequence']}" for r in in_window)


def test_a_backlog_is_read_over_several_polls_without_loss(app, pbx, monkeypatch):
    monkeypatch.setattr(cdr_polling, "MAX_NEW_ROWS", 5)
    add_fixture_profile(1)
    rows, _ = load_run_a(pbx)
    use_pbx(pbx.connector_url())
    runs = [run_sync("test") for _ in range(12)]
    assert all(r.state == "ok" for r in runs)
    new = [r.legs_new for r in runs]
    # At least 5 a poll; more when the last call's other rows come along (fetched by uniqueid).
    assert all(n >= 5 for n in new[:6]) and sum(new) == len(rows) and new[-1] == 0, new
    assert db.session.query(CallLeg).count() == len(rows)
    assert got() == expected(1)


def test_tables_without_optional_columns_are_read(app, pbx):
    add_fixture_profile(1)
    load_run_a(pbx)
    for name in ("did", "sequence", "recordingfile"):
        pbx.execute(f"ALTER TABLE cdr DROP COLUMN {name}")
    use_pbx(pbx.connector_url())
    run = run_sync("test")
    assert run.state == "ok" and run.legs_new == 42, run.error
    assert got() == expected(1)
    assert run_sync("test").legs_new == 0  # keyed by uniqueid/channel/dstchannel/start now


def test_the_status_names_what_it_found(pbx):
    config = {"cdr_url": pbx.connector_url()}
    status = FreePbxCdrConnector(config, instance_path="", timezone=UTC).check_status()
    assert status.ok and "empty so far" in status.message, status.message
    assert "Queue events from table queue_log" in status.message
    load_run_a(pbx)
    status = FreePbxCdrConnector(config, instance_path="", timezone=UTC).check_status()
    assert "newest call in table cdr at 2026-11-22 06:16:46" in status.message
    pbx.execute("DROP TABLE queue_log")
    status = FreePbxCdrConnector(config, instance_path="", timezone=UTC).check_status()
    assert status.ok and "No table queue_log: queue calls are judged from CDR alone" in (
        status.message)


def test_passwords_are_never_shown():
    inline = {"cdr_url": "mysql+pymysql://callback:pa55word@pbx/asteriskcdrdb",
              "password": "field-secret"}
    public = FreePbxCdrConnector(inline, instance_path="", timezone=UTC).public_config()
    assert public["password"] == ""
    assert public["cdr_url"] == "mysql+pymysql://callback:***@pbx/asteriskcdrdb"
    assert "password" in FreePbxCdrConnector.secret_fields
