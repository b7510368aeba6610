"""The sync with the Asterisk files connector: incremental, guarded, recorded, idempotent."""

from __future__ import annotations

import os
import threading

from sqlalchemy import select

from callback_module import lease
from callback_module.extensions import db
from callback_module.models import ConnectorConfig, Cursor, Entry, SyncRun
from callback_module.sync import LEASE, run_sync

from conftest import FIXTURES, add_fixture_profile

RUN_A = FIXTURES / "runA_unanswered_yes"


def use_files(tmp_path, **config):
    cdr, qlog = tmp_path / "Master.csv", tmp_path / "queue_log"
    cdr.touch()
    qlog.touch()
    row = ConnectorConfig.load()
    row.type = "asterisk_files"
    row.config = {"cdr_path": str(cdr), "queue_log_path": str(qlog), **config}
    db.session.commit()
    return cdr, qlog


def entries():
    return sorted((e.group.name, e.number_e164 or "anonymous", e.state, e.count, len(e.attempts))
                  for e in db.session.scalars(select(Entry)))


def test_sync_follows_growing_files_and_reads_only_what_is_new(app, tmp_path):
    add_fixture_profile(1)
    cdr, qlog = use_files(tmp_path)
    lines = (RUN_A / "cdr-csv" / "Master.csv").read_text().splitlines(keepends=True)
    qlines = (RUN_A / "queue_log").read_text().splitlines(keepends=True)
    half = len(lines) // 2
    with open(cdr, "a") as f:
        f.writelines(lines[:half])
        f.write(lines[half][:40])  # Asterisk is half-way through writing this row
    first = run_sync("test")
    assert first.state == "ok" and first.lines_read == half and first.problems == 0
    with open(cdr, "a") as f:
        f.write(lines[half][40:])
        f.writelines(lines[half + 1:])
    with open(qlog, "a") as f:
        f.writelines(qlines)
    second = run_sync("test")
    assert second.lines_read == len(lines) - half + len(qlines)
    assert second.problems == 0
    third = run_sync("test")
    assert (third.lines_read, third.legs_new, third.entries_changed) == (0, 0, 0)
    assert entries() == [
        ("hotline", "+49301110005", "done", 1, 2), ("sales", "+49301110003", "open", 1, 0),
        ("sales", "+49301110004", "open", 1, 0), ("sales", "+49301110007", "open", 1, 0),
        ("support", "+49301110001", "done", 1, 3), ("support", "+49301110003", "done", 1, 1),
        ("support", "+49301110017", "open", 1, 0), ("support", "anonymous", "open", 1, 0)]


def test_rotation_loses_and_doubles_nothing(app, tmp_path):
    add_fixture_profile(1)
    cdr, _ = use_files(tmp_path)
    lines = (RUN_A / "cdr-csv" / "Master.csv").read_text().splitlines(keepends=True)
    cdr.write_text("".join(lines[:10]))
    run_sync("test")
    with open(cdr, "a") as f:
        f.writelines(lines[10:20])  # written before logrotate moved the file away
    os.rename(cdr, tmp_path / "Master.csv.1")
    cdr.write_text("".join(lines[20:]))
    run = run_sync("test")
    assert run.lines_read == len(lines) - 10 and run.problems == 0
    assert len(entries()) == 8


def test_a_broken_line_is_reported_and_nothing_else_is_lost(app, tmp_path):
    add_fixture_profile(1)
    cdr, _ = use_files(tmp_path)
    lines = (RUN_A / "cdr-csv" / "Master.csv").read_text().splitlines(keepends=True)
    broken = [*lines[:5], '"","+4930","4930555100","from-pstn","unterminated\n', *lines[5:]]
    cdr.write_text("".join(broken))
    run = run_sync("test")
    assert run.state == "ok" and run.problems == 1
    assert "Master.csv:6:" in run.problem_sample[0]
    assert len(entries()) == 8
    from pathlib import Path

    log = Path(app.config["CALLBACK_LOG_FILE"]).read_text()
    assert "Master.csv:6:" in log


def test_the_cursor_is_kept_with_the_data(app, tmp_path):
    add_fixture_profile(1)
    cdr, _ = use_files(tmp_path)
    cdr.write_text((RUN_A / "cdr-csv" / "Master.csv").read_text())
    run_sync("test")
    cursor = db.session.scalar(select(Cursor).where(Cursor.name == "asterisk_files"))
    assert cursor.value["cdr"]["position"]["offset"] == cdr.stat().st_size
    assert cursor.value["cdr"]["kind"] == "cdr_csv"


def test_a_second_sync_at_the_same_time_is_refused(app, tmp_path):
    add_fixture_profile(1)
    use_files(tmp_path)
    assert lease.acquire(LEASE, 60, holder="other-process")
    assert run_sync("test") is None
    lease.release(LEASE, holder="other-process")
    assert run_sync("test").state == "ok"


def test_a_failing_connector_is_recorded(app, tmp_path):
    add_fixture_profile(1)
    row = ConnectorConfig.load()
    row.type = "asterisk_files"
    row.config = {"cdr_path": str(tmp_path / "nocdr"), "queue_log_path": ""}
    db.session.commit()
    (tmp_path / "nocdr").write_text("this is not a cdr file\n")
    run = run_sync("test")
    assert run.state == "failed" and "not a CDR CSV or queue_log file" in run.error
    assert db.session.scalar(select(SyncRun).where(SyncRun.id == run.id)).state == "failed"
    assert lease.acquire(LEASE, 1, holder="x")  # the failed run released the lease


def test_demo_connector_fills_the_list(app):
    add_fixture_profile(1)
    run = run_sync("test")
    assert run.connector == "demo" and run.state == "ok" and run.problems == 0
    assert run.legs_new > 100
    states = {e.state for e in db.session.scalars(select(Entry))}
    assert {"open", "done"} <= states


def test_threads_do_not_sync_twice(tmp_path):
    from conftest import make_app

    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'threads.db'}")
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
    results = []

    def worker():
        with app.app_context():
            run = run_sync("thread")
            results.append(None if run is None else (run.state, run.legs_new))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.app_context():
        ran = [r for r in results if r is not None]
        assert ran and all(state == "ok" for state, _ in ran)
        from callback_module.models import CallLeg

        # However the three threads met, every leg was stored exactly once.
        assert db.session.query(CallLeg).count() == sum(legs for _, legs in ran) > 0
        db.engine.dispose()
