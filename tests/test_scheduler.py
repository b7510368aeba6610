"""The scheduler: never under TESTING; the worker runs the sync and stops when told."""

from __future__ import annotations

from sqlalchemy import func, select

from callback_module.extensions import db
from callback_module.models import Entry, SyncRun
from callback_module.scheduler import start_scheduler

from conftest import add_fixture_profile, make_app


def test_not_started_under_testing(app):
    assert start_scheduler(app) is None
    assert app.extensions["callback"].scheduler is None


def test_not_started_in_the_reloaders_watching_parent(tmp_path, monkeypatch):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", TESTING=False)
    app.debug = True
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert start_scheduler(app) is None


def test_worker_runs_the_sync_then_stops_cleanly(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", TESTING=False)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
    result = app.test_cli_runner().invoke(args=["callback", "worker", "--max-seconds", "3"])
    assert result.exit_code == 0, result.output
    assert "worker stopped" in result.output
    with app.app_context():
        runs = db.session.scalar(select(func.count()).select_from(SyncRun))
        assert runs >= 1
        assert db.session.scalar(select(func.count()).select_from(Entry)) > 0
        assert not app.extensions["callback"].scheduler.running
        db.engine.dispose()


def test_worker_refuses_under_testing(app):
    result = app.test_cli_runner().invoke(args=["callback", "worker", "--max-seconds", "1"])
    assert result.exit_code == 1 and "does not run under TESTING" in result.output
