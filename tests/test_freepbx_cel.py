"""FreePBX's cel table: a call's CDR rows are taken once CEL's LINKEDID_END says it has ended,
so a call is never judged on half its legs. Against the real MariaDB and PostgreSQL."""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pbx_database import RUN_A, cdr_rows, pbx, pbx_server, use_pbx  # noqa: F401  (fixtures)
from sqlalchemy import select

from callback_module.connectors import cel_table
from callback_module.connectors.freepbx_cdr import FreePbxCdrConnector
from callback_module.extensions import db
from callback_module.models import Call, Entry
from callback_module.sync import run_sync

from conftest import add_fixture_profile

S12 = "1795328164.45"  # queue support: 201 busy, then 202 answers
CEL_COLUMNS = ("eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis",
               "cid_dnid", "exten", "context", "channame", "appname", "appdata", "amaflags",
               "accountcode", "uniqueid", "linkedid", "peer", "userdeftype", "extra")
MARIADB_CEL = """CREATE TABLE cel (
  id int(11) NOT NULL auto_increment, eventtype varchar(30) NOT NULL,
  eventtime datetime NOT NULL, cid_name varchar(80) NOT NULL, cid_num varchar(80) NOT NULL,
  cid_ani varchar(80) NOT NULL, cid_rdnis varchar(80) NOT NULL, cid_dnid varchar(80) NOT NULL,
  exten varchar(80) NOT NULL, context varchar(80) NOT NULL, channame varchar(80) NOT NULL,
  appname varchar(80) NOT NULL, appdata varchar(1024) NOT NULL, amaflags int(11) NOT NULL,
  accountcode varchar(20) NOT NULL, uniqueid varchar(32) NOT NULL,
  linkedid varchar(32) NOT NULL, peer varchar(80) NOT NULL,
  userdeftype varchar(255) NOT NULL, extra varchar(512) NOT NULL,
  PRIMARY KEY (id), KEY uniqueid_index (uniqueid), KEY linkedid_index (linkedid))"""
PG_CEL = (MARIADB_CEL.split(",\n  PRIMARY KEY")[0]
          .replace("id int(11) NOT NULL auto_increment", "id serial PRIMARY KEY")
          .replace("datetime", "timestamp").replace("int(11)", "integer") + ")")
# cel.h's enum ast_cel_event_type, from 1: what cel_odbc writes into a numeric eventtype column.
CEL_EVENTS = ("CHAN_START", "CHAN_END", "HANGUP", "ANSWER", "APP_START", "APP_END",
              "BRIDGE_ENTER", "BRIDGE_EXIT", "PARK_START", "PARK_END", "BLINDTRANSFER",
              "ATTENDEDTRANSFER", "USER_DEFINED", "LINKEDID_END", "PICKUP", "FORWARD",
              "LOCAL_OPTIMIZE", "LOCAL_OPTIMIZE_BEGIN", "STREAM_BEGIN", "STREAM_END", "DTMF")
# The shapes of cel table the tests make: FreePBX's, a numeric eventtype, one without linkedid
# (a table the connector cannot query as it needs).
CEL_SHAPES = {"text": lambda ddl: ddl,
              "integer": lambda ddl: ddl.replace("eventtype varchar(30)", "eventtype integer"),
              "without linkedid": lambda ddl: ddl.replace("linkedid varchar(32) NOT NULL, ", "")
              .replace(", KEY linkedid_index (linkedid)", "")}


def cel_rows(keep=lambda row: True) -> list[dict]:
    """Run A's CEL events as FreePBX's cel table holds them (cel_full.csv has every field)."""
    out = []
    with open(RUN_A / "cel-custom" / "cel_full.csv", newline="") as f:
        for cells in csv.reader(f):
            when = datetime.fromtimestamp(float(cells[2]), UTC).replace(tzinfo=None)
            row = dict(zip(CEL_COLUMNS, [cells[0], when, *cells[3:15], cells[15], cells[16],
                                         cells[17], cells[20], cells[21]], strict=True))
            row["amaflags"] = 3
            if keep(row):
                out.append(row)
    return out


@pytest.fixture
def cel(pbx, request, monkeypatch):
    """A cel table of the shape the test names (indirect parameter; FreePBX's by default)."""
    shape = getattr(request, "param", "text")
    monkeypatch.setattr(cel_table, "_warned", {})  # each test sees its own warnings
    pbx.execute("DROP TABLE IF EXISTS cel")
    pbx.execute(CEL_SHAPES[shape](MARIADB_CEL if pbx.kind == "mariadb" else PG_CEL))
    names = [n for n in CEL_COLUMNS if not (shape == "without linkedid" and n == "linkedid")]

    def insert(rows: list[dict]) -> None:
        if shape == "integer":
            rows = [{**r, "eventtype": CEL_EVENTS.index(r["eventtype"]) + 1} for r in rows]
        pbx.execute(f"INSERT INTO cel ({', '.join(names)}) VALUES "
                    f"({', '.join(':' + n for n in names)})",
                    [{n: r[n] for n in names} for r in rows])
    yield insert
    pbx.execute("DROP TABLE IF EXISTS cel")


def s12_rows(started_ago: timedelta) -> list[dict]:
    """S12's CDR rows as if the call had just happened."""
    rows = [r for r in cdr_rows(RUN_A / "cdr-csv" / "Master.csv") if r["linkedid"] == S12]
    shift = datetime.now(UTC).replace(tzinfo=None) - started_ago - rows[0]["calldate"]
    return [{**r, "calldate": r["calldate"] + shift} for r in rows]


def s12_legs() -> int:
    call = db.session.scalar(select(Call).where(Call.key == S12))
    return len(call.legs) if call else 0


@pytest.mark.parametrize("cel", ["text", "integer"], indirect=True)
def test_a_call_is_taken_once_cel_says_it_has_ended(app, pbx, cel):
    add_fixture_profile(1)
    cel(cel_rows(lambda r: not (r["linkedid"] == S12 and r["eventtype"] == "LINKEDID_END")))
    busy, *rest = s12_rows(timedelta(seconds=20))
    assert busy["disposition"] == "BUSY"
    pbx.insert_cdr([busy])
    use_pbx(pbx.connector_url())
    assert run_sync("test").legs_new == 0  # 201 was busy; the call goes on
    pbx.insert_cdr(rest)
    assert run_sync("test").legs_new == 0 and s12_legs() == 0  # no LINKEDID_END yet
    cel(cel_rows(lambda r: r["linkedid"] == S12 and r["eventtype"] == "LINKEDID_END"))
    run = run_sync("test")
    assert run.legs_new == 2 and s12_legs() == 2
    # judged on all its legs at once: answered by 202, so never an entry, never a mail
    assert db.session.scalar(select(Entry).where(Entry.number_e164 == "+49301110008")) is None
    assert run_sync("test").legs_new == 0


def test_without_call_ends_in_cel_nothing_is_held(app, pbx, cel):
    """CEL on with a short event list (no LINKEDID_END): the rows are taken as they come."""
    add_fixture_profile(1)
    cel(cel_rows(lambda r: r["eventtype"] == "CHAN_START"))
    pbx.insert_cdr(s12_rows(timedelta(seconds=20))[:1])
    use_pbx(pbx.connector_url())
    assert run_sync("test").legs_new == 1


def test_a_call_whose_end_never_comes_is_taken_after_a_while(app, pbx, cel):
    """The PBX died before LINKEDID_END: after half the look-back the rows are taken anyway,
    while still inside the window."""
    add_fixture_profile(1)
    cel(cel_rows(lambda r: r["linkedid"] != S12))
    pbx.insert_cdr(s12_rows(timedelta(minutes=61)))
    use_pbx(pbx.connector_url(), lookback_minutes=120)
    assert run_sync("test").legs_new == 2


def test_an_empty_cel_table_name_reads_no_cel(app, pbx, cel):
    add_fixture_profile(1)
    cel(cel_rows(lambda r: not (r["linkedid"] == S12 and r["eventtype"] == "LINKEDID_END")))
    pbx.insert_cdr(s12_rows(timedelta(seconds=20)))
    use_pbx(pbx.connector_url(), cel_table="")
    assert run_sync("test").legs_new == 2


def test_the_status_says_cel_is_used(pbx, cel, tmp_path):
    cel(cel_rows())
    connector = FreePbxCdrConnector({"cdr_url": pbx.connector_url()},
                                    instance_path=str(tmp_path), timezone=UTC)
    status = connector.check_status()
    assert status.ok and "once table cel says they have ended" in status.message


def cel_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelname == "WARNING" and "Cannot read the CEL table cel" in r.getMessage()]


@pytest.mark.parametrize("cel", ["without linkedid"], indirect=True)
def test_a_cel_table_that_cannot_be_read_holds_nothing(app, pbx, cel, caplog, tmp_path):
    """CEL only refines the timing: a failing CEL query must not stop the CDR sync."""
    add_fixture_profile(1)
    cel(cel_rows(lambda r: not (r["linkedid"] == S12 and r["eventtype"] == "LINKEDID_END")))
    pbx.insert_cdr(s12_rows(timedelta(seconds=20)))
    pbx.insert_queue_log([{"time": datetime.now(UTC).replace(tzinfo=None), "callid": S12,
                           "queuename": "support", "agent": "NONE", "event": "ENTERQUEUE",
                           "data1": "", "data2": "0301110008", "data3": "1", "data4": "",
                           "data5": ""}])
    use_pbx(pbx.connector_url())
    run = run_sync("test")
    # the queue_log read after the failed query works too (PostgreSQL: a savepoint)
    assert run.state == "ok" and run.legs_new == 2 and run.queue_events_new == 1, run.error
    assert s12_legs() == 2
    assert len(cel_warnings(caplog)) == 1 and "linkedid" in cel_warnings(caplog)[0]
    assert run_sync("test").state == "ok" and len(cel_warnings(caplog)) == 1  # not every poll
    status = FreePbxCdrConnector({"cdr_url": pbx.connector_url()}, instance_path=str(tmp_path),
                                 timezone=UTC).check_status()
    assert status.ok and "says they have ended" not in status.message


def test_a_cel_table_without_select_grant_holds_nothing(app, pbx, cel, caplog):
    """PostgreSQL shows a table the user may not read (MariaDB hides it: nothing to read)."""
    if pbx.kind != "postgresql":
        pytest.skip("MariaDB hides tables without a grant")
    add_fixture_profile(1)
    cel(cel_rows(lambda r: not (r["linkedid"] == S12 and r["eventtype"] == "LINKEDID_END")))
    pbx.insert_cdr(s12_rows(timedelta(seconds=20)))
    user = f"cbnocel_{uuid.uuid4().hex[:8]}"
    pbx.execute(f"CREATE ROLE {user} LOGIN PASSWORD 'ro-pw'")
    pbx.execute(f"GRANT SELECT ON cdr, queue_log TO {user}")
    try:
        use_pbx(pbx.connector_url(user=user), password="ro-pw")
        run = run_sync("test")
        assert run.state == "ok" and run.legs_new == 2, run.error
        assert len(cel_warnings(caplog)) == 1 and "permission denied" in cel_warnings(caplog)[0]
    finally:
        pbx.execute(f"DROP OWNED BY {user}")
        pbx.execute(f"DROP ROLE {user}")
