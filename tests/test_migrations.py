"""`flask db upgrade` builds the schema of the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from callback_module.extensions import db

from conftest import make_app


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_gives_the_models_schema(request, tmp_path, backend):
    url = (f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite"
           else request.getfixturevalue("pg_database"))
    app = make_app(tmp_path, url)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"callback_entries", "callback_calls", "callback_settings"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
