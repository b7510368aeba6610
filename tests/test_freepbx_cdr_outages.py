"""The FreePBX CDR database connector when things go wrong: failures in words, outages lost.

Against the real MariaDB and PostgreSQL of this machine, as tests/test_freepbx_cdr.py; the
connection is cut through a loopback proxy the test starts and stops.
"""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pbx_database import (  # noqa: F401  (fixtures)
    MASTER,
    QUEUE_LOG,
    cdr_rows,
    cursor_value,
    free_port,
    load_run_a,
    pbx,
    pbx_server,
    queue_log_rows,
    use_pbx,
)
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tcp_proxy import TcpProxy
from test_fixtures_expected import expected, got

from callback_module.connectors import cdr_database
from callback_module.connectors.freepbx_cdr import FreePbxCdrConnector
from callback_module.extensions import db
from callback_module.models import CallLeg
from callback_module.sync import run_sync

from conftest import add_fixture_profile


def test_a_select_only_user_reads_and_the_session_is_read_only(app, pbx):
    add_fixture_profile(1)
    load_run_a(pbx)
    user = f"cbro_{uuid.uuid4().hex[:8]}"
    if pbx.kind == "mariadb":
        pbx.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'ro-pw'")
        pbx.execute(f"GRANT SELECT ON {pbx.name}.* TO '{user}'@'%'")
    else:
        pbx.execute(f"CREATE ROLE {user} LOGIN PASSWORD 'ro-pw'")
        pbx.execute(f"GRANT SELECT ON cdr, queue_log TO {user}")
    try:
        use_pbx(pbx.connector_url(user=user), password="ro-pw")
        run = run_sync("test")
        assert run.state == "ok" and run.legs_new == 42, run.error
        assert got() == expected(1)
        # Even with the admin's account, the connector's own session cannot write.
        engine = cdr_database.make_engine(cdr_database.database_url(pbx.connector_url()))
        with engine.connect() as conn, pytest.raises(DBAPIError, match=r"(?i)read.only"):
            conn.execute(text("INSERT INTO cdr (src) VALUES ('x')"))
        engine.dispose()
    finally:
        if pbx.kind == "mariadb":
            pbx.execute(f"DROP USER '{user}'@'%'")
        else:
            pbx.execute(f"DROP OWNED BY {user}")
            pbx.execute(f"DROP ROLE {user}")


BREAKAGES = {
    # PostgreSQL here trusts every local user, so its wrong login is a user that does not exist.
    "wrong password": ("Access denied for user", lambda p: {"password": "wrong-Secret-9"}
                       if p.kind == "mariadb" else {"cdr_url": p.connector_url(user="nobody")}),
    "refused": ("Connection refused by 127.0.0.1:",
                lambda p: {"cdr_url": p.connector_url(port=free_port())}),
    "unknown database": ("Unknown database 'asteriskcdrdb_missing'",
                         lambda p: {"cdr_url": p.connector_url(database="asteriskcdrdb_missing")}),
    "no table": ("No table 'cdr_missing'", lambda p: {"table": "cdr_missing"}),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_a_broken_connection_says_why_and_keeps_the_cursor(app, pbx, breakage):
    add_fixture_profile(1)
    rows, _ = load_run_a(pbx)
    good = {"cdr_url": pbx.connector_url()}
    use_pbx(**good)
    assert run_sync("test").legs_new == len(rows)
    before = cursor_value()
    words, change = BREAKAGES[breakage]
    bad = {**good, **change(pbx)}
    use_pbx(**bad)
    status = FreePbxCdrConnector(bad, instance_path="", timezone=UTC).check_status()
    assert not status.ok and words in status.message and "wrong-Secret-9" not in status.message
    run = run_sync("test")
    assert run.state == "failed" and words in run.error and "wrong-Secret-9" not in run.error
    assert cursor_value() == before
    log = Path(app.config["CALLBACK_LOG_FILE"])
    assert words in log.read_text() and "wrong-Secret-9" not in log.read_text()
    use_pbx(**good)
    back = run_sync("test")
    assert back.state == "ok" and back.legs_new == 0 and got() == expected(1)


def test_a_server_that_does_not_answer_times_out(app, pbx, monkeypatch):
    monkeypatch.setattr(cdr_database, "CONNECT_TIMEOUT_S", 1)
    monkeypatch.setattr(cdr_database, "QUERY_TIMEOUT_S", 1)
    with socket.socket() as silent:  # accepts TCP connections (backlog), never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        config = {"cdr_url": pbx.connector_url(port=silent.getsockname()[1])}
        started = datetime.now(UTC)
        status = FreePbxCdrConnector(config, instance_path="", timezone=UTC).check_status()
    assert not status.ok and "No answer from 127.0.0.1:" in status.message
    assert "timeout" in status.message
    assert datetime.now(UTC) - started < timedelta(seconds=10)


def test_rows_written_while_the_connection_is_down_are_read_once_it_is_back(app, pbx):
    add_fixture_profile(1)
    rows, events = cdr_rows(MASTER), queue_log_rows(QUEUE_LOG)
    pbx.insert_cdr(rows[:20])
    pbx.insert_queue_log(events[:10])
    with TcpProxy(pbx.port) as proxy:
        use_pbx(pbx.connector_url(port=proxy.port))
        first = run_sync("test")
        assert first.state == "ok" and first.legs_new == 20 and proxy.connections >= 1
        proxy.stop()  # the PBX's database goes away, open connections with it
        pbx.insert_cdr(rows[20:])
        pbx.insert_queue_log(events[10:])
        before = cursor_value()
        down = run_sync("test")
        assert down.state == "failed" and "Connection refused" in down.error
        assert cursor_value() == before
        proxy.start()  # same port: the connector just connects again
        back = run_sync("test")
        assert back.state == "ok" and back.legs_new == len(rows) - 20, back.error
        assert run_sync("test").legs_new == 0
    assert db.session.query(CallLeg).count() == len(rows)
    assert got() == expected(1)


def test_one_connector_instance_reconnects_after_the_proxy_restarts(pbx, tmp_path):
    rows = cdr_rows(MASTER)
    pbx.insert_cdr(rows[:10])
    with TcpProxy(pbx.port) as proxy:
        connector = FreePbxCdrConnector({"cdr_url": pbx.connector_url(port=proxy.port)},
                                        instance_path=str(tmp_path), timezone=UTC)
        first = connector.fetch(None)
        proxy.stop()
        pbx.insert_cdr(rows[10:])
        proxy.start()
        second = connector.fetch(first.cursor)
    keys = [leg.key for leg in first.legs + second.legs]
    assert len(keys) == len(set(keys)) == len(rows)
