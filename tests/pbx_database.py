"""A FreePBX-like ``asteriskcdrdb`` of the test run's own, on the real MariaDB and PostgreSQL.

The cdr table is FreePBX's, exactly: installlib's cdr.sql plus the columns the cdr module adds,
no key, uniqueid varchar(32). MariaDB gets FreePBX's realtime queue_log (time as text, data and
data1..5); PostgreSQL Asterisk's alembic one (time as timestamp, data1..5), so both kinds are read.
"""

from __future__ import annotations

import copy
import csv
import os
import socket
import uuid
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from callback_module.extensions import db
from callback_module.models import ConnectorConfig, Cursor
from callback_module.parsers.cdr import csv_columns

from conftest import FIXTURES, service_missing

RUN_A = FIXTURES / "runA_unanswered_yes"
MASTER, QUEUE_LOG = RUN_A / "cdr-csv" / "Master.csv", RUN_A / "queue_log"
SERVERS = {"mariadb": "MariaDB on 127.0.0.1:3306", "postgresql": "PostgreSQL on 127.0.0.1:5432"}

MYSQL_ADMIN_URL = os.environ.get("CALLBACK_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")
PG_ADMIN_URL = os.environ.get("CALLBACK_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

MARIADB_CDR = """CREATE TABLE cdr (
  calldate datetime NOT NULL default '0000-00-00 00:00:00',
  clid varchar(80) NOT NULL default '', src varchar(80) NOT NULL default '',
  dst varchar(80) NOT NULL default '', dcontext varchar(80) NOT NULL default '',
  channel varchar(80) NOT NULL default '', dstchannel varchar(80) NOT NULL default '',
  lastapp varchar(80) NOT NULL default '', lastdata varchar(80) NOT NULL default '',
  duration int(11) NOT NULL default '0', billsec int(11) NOT NULL default '0',
  disposition varchar(45) NOT NULL default '', amaflags int(11) NOT NULL default '0',
  accountcode varchar(20) NOT NULL default '', uniqueid varchar(32) NOT NULL default '',
  userfield varchar(255) NOT NULL default '', did varchar(50) NOT NULL default '',
  recordingfile varchar(255) NOT NULL default '',
  cnum varchar(80) NOT NULL default '', cnam varchar(80) NOT NULL default '',
  outbound_cnum varchar(80) NOT NULL default '', outbound_cnam varchar(80) NOT NULL default '',
  dst_cnam varchar(80) NOT NULL default '', linkedid varchar(32) NOT NULL default '',
  peeraccount varchar(80) NOT NULL default '', sequence int(11) NOT NULL default '0',
  KEY calldate (calldate), KEY dst (dst), KEY accountcode (accountcode),
  KEY uniqueid (uniqueid), KEY did (did), KEY recordingfile (recordingfile))"""
MARIADB_QUEUE_LOG = """CREATE TABLE queue_log (
  id int(10) unsigned NOT NULL auto_increment, time char(26) default NULL,
  callid varchar(32) NOT NULL default '', queuename varchar(32) NOT NULL default '',
  agent varchar(32) NOT NULL default '', event varchar(32) NOT NULL default '',
  data varchar(100) NOT NULL default '', data1 varchar(100), data2 varchar(100),
  data3 varchar(100), data4 varchar(100), data5 varchar(100), PRIMARY KEY (id))"""
# FreePBX only ships MySQL DDL; this is the same table in PostgreSQL's types.
PG_CDR = (MARIADB_CDR.split(",\n  KEY")[0].replace(" default '0000-00-00 00:00:00'", "")
          .replace("datetime", "{calldate_type}").replace("int(11)", "integer") + ")")
PG_QUEUE_LOG = """CREATE TABLE queue_log (
  id bigserial PRIMARY KEY, time timestamp, callid varchar(80), queuename varchar(256),
  agent varchar(80), event varchar(32), data1 varchar(100), data2 varchar(100),
  data3 varchar(100), data4 varchar(100), data5 varchar(100))"""
AMAFLAGS = {"OMIT": 1, "BILLING": 2, "DOCUMENTATION": 3}
FREEPBX_TEXT = ("clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
                "disposition", "accountcode", "uniqueid", "userfield", "linkedid",
                "peeraccount")


class PbxDatabase:
    """One throw-away database on one server; ``reset()`` recreates its tables."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = f"asteriskcdrdb_test_{uuid.uuid4().hex[:10]}"
        admin = MYSQL_ADMIN_URL if kind == "mariadb" else PG_ADMIN_URL
        self.admin = create_engine(admin, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:  # raises OperationalError if the server is down
            conn.execute(text(f"CREATE DATABASE {self.name}"))
        self.url = make_url(admin).set(database=self.name)
        self.engine = create_engine(self.url)
        self.port = self.url.port or (3306 if kind == "mariadb" else 5432)

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as conn:
            force = " WITH (FORCE)" if self.kind == "postgresql" else ""
            conn.execute(text(f"DROP DATABASE IF EXISTS {self.name}{force}"))
        self.admin.dispose()

    def reset(self, calldate_type: str = "timestamp") -> None:
        with self.engine.begin() as conn:
            for name in ("cdr", "queue_log"):
                conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            if self.kind == "mariadb":
                conn.execute(text(MARIADB_CDR))
                conn.execute(text(MARIADB_QUEUE_LOG))
            else:
                conn.execute(text(PG_CDR.format(calldate_type=calldate_type)))
                conn.execute(text(PG_QUEUE_LOG))

    def connector_url(self, port: int | None = None, user: str | None = None,
                      database: str | None = None) -> str:
        url = self.url.set(port=port or self.port, database=database or self.name)
        if user is not None:
            url = url.set(username=user, password=None)
        return url.render_as_string(hide_password=False)

    def execute(self, sql: str, rows: list[dict] | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), rows or {})

    def insert_cdr(self, rows: list[dict]) -> None:
        if rows:
            names = list(rows[0])
            self.execute(f"INSERT INTO cdr ({', '.join(names)}) VALUES "
                         f"({', '.join(':' + n for n in names)})", rows)

    def insert_queue_log(self, rows: list[dict]) -> None:
        for row in rows:
            if self.kind == "mariadb":
                row = {**row, "time": row["time"].strftime("%Y-%m-%d %H:%M:%S.%f")}
            names = list(row)
            self.execute(f"INSERT INTO queue_log ({', '.join(names)}) VALUES "
                         f"({', '.join(':' + n for n in names)})", [row])


def cdr_rows(master_csv: Path, tz: tzinfo = UTC) -> list[dict]:
    """Master.csv's rows as FreePBX writes them: calldate = start in the PBX's time zone."""
    rows = []
    with open(master_csv, newline="") as f:
        for cells in csv.reader(f):
            value = dict(zip(csv_columns(cells), cells, strict=True))
            start = datetime.fromisoformat(value["start"]).replace(tzinfo=UTC).astimezone(tz)
            row = {name: value.get(name, "") for name in FREEPBX_TEXT}
            row.update(calldate=start.replace(tzinfo=None), duration=int(value["duration"]),
                       billsec=int(value["billsec"]), amaflags=AMAFLAGS[value["amaflags"]],
                       sequence=int(value["sequence"]), did="", recordingfile="", cnum="",
                       cnam="", outbound_cnum="", outbound_cnam="", dst_cnam="")
            rows.append(row)
    return rows


def queue_log_rows(queue_log: Path, tz: tzinfo = UTC) -> list[dict]:
    """queue_log file lines as Asterisk's realtime driver writes them: local time, data1..5."""
    rows = []
    for line in queue_log.read_text().splitlines():
        epoch, callid, queue, agent, event, *data = line.split("|")
        at = datetime.fromtimestamp(int(epoch), UTC).astimezone(tz).replace(tzinfo=None)
        data = (data + [""] * 5)[:5]
        rows.append({"time": at, "callid": callid, "queuename": queue, "agent": agent,
                     "event": event, **{f"data{i + 1}": d for i, d in enumerate(data)}})
    return rows


@pytest.fixture(scope="session", params=list(SERVERS))
def pbx_server(request):
    """This test run's database on each server; a skip (a failure under CI) without it."""
    try:
        server = PbxDatabase(request.param)
    except OperationalError as exc:
        service_missing(SERVERS[request.param], exc)
    yield server
    server.drop()


@pytest.fixture
def pbx(pbx_server):
    """The database with fresh, empty cdr and queue_log tables."""
    pbx_server.reset()
    return pbx_server


def load_run_a(pbx: PbxDatabase, tz: tzinfo = UTC) -> tuple[list[dict], list[dict]]:
    rows, events = cdr_rows(MASTER, tz), queue_log_rows(QUEUE_LOG, tz)
    pbx.insert_cdr(rows)
    pbx.insert_queue_log(events)
    return rows, events


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def use_pbx(cdr_url: str, **config) -> None:
    row = ConnectorConfig.load()
    row.type, row.config = "freepbx_cdr", {"cdr_url": cdr_url, **config}
    db.session.commit()


def cursor_value() -> dict | None:
    cursor = db.session.scalar(select(Cursor).where(Cursor.name == "freepbx_cdr"))
    return copy.deepcopy(cursor.value) if cursor else None
