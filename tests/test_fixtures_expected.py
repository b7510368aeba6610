"""The recorded real Asterisk data must give EXPECTED.md, through the sync and the import.

Every file source of both runs, with both settings profiles, read by the Asterisk files
connector as a live PBX would grow them (the same check ../shared/bin/check-fixtures makes
through the CLI import).
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from sqlalchemy import select

from callback_module.extensions import db
from callback_module.models import ConnectorConfig, Entry
from callback_module.settings_file import apply_settings_file, parse_settings_file
from callback_module.sync import run_sync

from conftest import FIXTURES

SOURCES = {
    "master": ["cdr-csv/Master.csv"],
    "custom": ["cdr-custom/cdr_custom.csv"],
    "sqlite3-export": ["cdr_sqlite3_master_db.csv"],
    "master+queue_log": ["cdr-csv/Master.csv", "queue_log"],
}
RUNS = ["runA_unanswered_yes", "runB_default_cdr"]


def expected(profile: int) -> list[tuple]:
    table = json.loads((FIXTURES / f"expected{profile}.json").read_text())["entries"]
    return sorted((x["group"], x["number"], x["state"], x["calls"], x["attempts"])
                  for x in table)


def got() -> list[tuple]:
    return sorted((e.group.name, e.number_e164 or "anonymous", e.state, e.count,
                   len(e.attempts)) for e in db.session.scalars(select(Entry)))


@pytest.mark.parametrize("profile", [1, 2])
@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("run", RUNS)
def test_sync_of_recorded_files_gives_expected_entries(app, tmp_path, run, source, profile):
    apply_settings_file(parse_settings_file((FIXTURES / f"profile{profile}.yaml").read_text()))
    files = SOURCES[source]
    cdr = tmp_path / files[0].split("/")[-1]
    shutil.copy(FIXTURES / run / files[0], cdr)
    qlog = ""
    if len(files) > 1:
        qlog = str(tmp_path / "queue_log")
        shutil.copy(FIXTURES / run / files[1], qlog)
    columns = ""
    if source == "custom":
        conf = (FIXTURES / "config" / "cdr_custom.conf").read_text()
        columns = yaml.safe_load(conf.split("fields =")[1].splitlines()[0].strip())
    row = ConnectorConfig.load()
    row.type = "asterisk_files"
    row.config = {"cdr_path": str(cdr), "queue_log_path": qlog, "cdr_columns": columns}
    db.session.commit()
    sync = run_sync("test")
    assert sync.state == "ok" and sync.problems == 0, sync.error
    assert got() == expected(profile)
    again = run_sync("test")
    assert again.entries_changed == 0 and got() == expected(profile)
