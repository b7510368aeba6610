"""The CLI of SPEC §8, run as an admin would run it."""

from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import select

from callback_module.extensions import db
from callback_module.models import Group, Settings, User

from conftest import FIXTURES, add_fixture_profile

RUN_B = FIXTURES / "runB_default_cdr"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner(mix_stderr=False) if _mixes() else app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["callback", *args], catch_exceptions=False)
    return invoke


def _mixes() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def test_import_then_entries_json_has_the_spec_shape(cli):
    assert cli("settings", "import", str(FIXTURES / "profile1.yaml")).exit_code == 0
    result = cli("import", str(RUN_B / "cdr-csv" / "Master.csv"), str(RUN_B / "queue_log"))
    assert result.exit_code == 0, result.output
    out = cli("entries", "--period", "all", "--json")
    entries = json.loads(out.stdout)
    assert len(entries) == 8
    s01 = next(e for e in entries if e["number_e164"] == "+49301110001")
    assert set(s01) >= {"id", "group", "number", "number_e164", "name", "count", "state",
                        "first_call_at", "last_call_at", "calls", "attempts", "closed_reason"}
    assert (s01["group"], s01["name"], s01["state"], s01["count"]) == ("support", "Mueller",
                                                                       "done", 1)
    assert s01["calls"][0] == {"at": "2026-11-22T06:17:11+00:00", "linkedid": "1795328231.0",
                               "ring_s": 8, "ended": "abandoned", "rang": ["201", "202"]}
    assert [a["result"] for a in s01["attempts"]] == ["busy", "no_answer", "answered"]
    assert s01["attempts"][2]["by"] == "202" and s01["attempts"][2]["talk_s"] == 3
    assert s01["closed_reason"] == "reached by 202"
    anonymous = next(e for e in entries if e["number"] == "anonymous")
    assert anonymous["number_e164"] is None and anonymous["calls"][0]["ended"] == "timeout"


def test_entries_filters_by_state_group_and_period(cli):
    cli("settings", "import", str(FIXTURES / "profile1.yaml"))
    cli("import", str(RUN_B / "cdr-csv" / "Master.csv"))
    def count(*args):
        return len(json.loads(cli("entries", "--json", *args).stdout))
    assert count("--period", "all", "--state", "open") == 5
    assert count("--period", "all", "--group", "sales") == 3
    assert count("--period", "all", "--group", "sales", "--state", "done") == 0
    assert cli("entries", "--group", "nope", "--json").exit_code != 0
    assert "FORTNIGHT" in cli("entries", "--period", "FORTNIGHT", "--json").stderr


def test_import_with_columns_reads_cdr_custom(cli):
    cli("settings", "import", str(FIXTURES / "profile1.yaml"))
    fields = (FIXTURES / "config" / "cdr_custom.conf").read_text().split("fields = ")[1].strip()
    result = cli("import", "--columns", fields, str(RUN_B / "cdr-custom" / "cdr_custom.csv"))
    assert result.exit_code == 0 and "0 lines skipped" in result.output
    assert len(json.loads(cli("entries", "--period", "all", "--json").stdout)) == 8


def test_import_reports_broken_lines_and_keeps_the_rest(cli, tmp_path):
    cli("settings", "import", str(FIXTURES / "profile1.yaml"))
    lines = (RUN_B / "cdr-csv" / "Master.csv").read_bytes().splitlines(keepends=True)
    broken = tmp_path / "Master.csv"
    broken.write_bytes(b"".join([*lines[:3], b'"x","1","2",3\n', b"\x00\x00\x00\n", *lines[3:]]))
    result = cli("import", str(broken))
    assert result.exit_code == 0
    assert "Master.csv:4:" in result.stderr and "Master.csv:5:" in result.stderr
    assert "2 lines skipped" in result.stdout
    assert len(json.loads(cli("entries", "--period", "all", "--json").stdout)) == 8


def test_import_refuses_a_file_it_cannot_recognise(cli, tmp_path):
    odd = tmp_path / "notes.txt"
    odd.write_text("hello world\n")
    result = cli("import", str(odd))
    assert result.exit_code == 1
    assert "notes.txt: not a CDR CSV or queue_log file (first line: hello world)" in result.stderr


def test_settings_export_import_round_trip(cli, tmp_path):
    add_fixture_profile(1)
    exported = tmp_path / "settings.yaml"
    assert cli("settings", "export", str(exported)).exit_code == 0
    data = yaml.safe_load(exported.read_text())
    assert data["settings"]["timezone"] == "UTC"
    assert {"name": "support", "type": "queue", "pbx_id": "support",
            "members": ["201", "202"], "target_minutes": 0, "webhook_url": ""} in data["groups"]
    assert "password" not in exported.read_text() and "pbkdf2" not in exported.read_text()
    data["settings"]["poll_interval"] = 30
    exported.write_text(yaml.safe_dump(data))
    assert cli("settings", "import", str(exported)).exit_code == 0
    assert Settings.load().poll_interval == 30


@pytest.mark.parametrize("bad, key", [
    ({"settings": {"poll_interval": 0}}, "poll_interval"),
    ({"settings": {"period": "FORTNIGHT"}}, "period"),
    ({"settings": {"skip_sundays": "yes"}}, "skip_sundays"),
    ({"settings": {"timezone": "Mars/Base"}}, "timezone"),
    ({"settings": {"colour": "red"}}, "colour"),
    ({"groups": [{"name": "x", "type": "circle", "pbx_id": "1"}]}, "groups.x.type"),
    ({"users": [{"username": "z", "role": "boss"}]}, "users.z.role"),
    ({"connector": {"type": "asterisk_ami2"}}, "connector.type"),
    ({"connector": {"type": "demo", "speed": 3}}, "connector.speed"),
    ({"notifications": {"recipients": "everyone"}}, "notifications.recipients"),
    ({"notifications": {"link_prefix": "skype-for-business:"}}, "notifications.link_prefix"),
    ({"notifications": {"excluded_numbers": ["door"]}}, "notifications.excluded_numbers"),
    ({"mail": {"port": 70000}}, "mail.port"),
    ({"mail": {"security": "ssl3"}}, "mail.security"),
    ({"groups": [{"name": "x", "type": "queue", "pbx_id": "1", "webhook_url": "ftp://x"}]},
     "groups.x.webhook_url"),
    ({"users": [{"username": "z", "notify": "yes"}]}, "users.z.notify"),
    ({"users": [{"username": "z", "email": "z@"}]}, "users.z.email"),
], ids=["range", "choice", "type", "timezone", "unknown-setting", "group-type", "role",
        "connector-type", "connector-key", "recipients", "link-prefix", "excluded-number",
        "smtp-port", "smtp-security", "webhook-url", "user-notify", "user-email"])
def test_a_bad_value_refuses_the_whole_file_naming_the_key(cli, tmp_path, bad, key):
    add_fixture_profile(1)
    good = {"settings": {"poll_interval": 42},
            "groups": [{"name": "new", "type": "queue", "pbx_id": "400"}]}
    for section, value in bad.items():
        if section == "settings":
            good["settings"] = {**good["settings"], **value}
        else:
            good[section] = good.get(section, []) + value if isinstance(value, list) else value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(good))
    result = cli("settings", "import", str(path))
    assert result.exit_code == 1
    assert f"{key}:" in result.stderr and "Nothing was changed" in result.stderr
    db.session.expire_all()
    assert Settings.load().poll_interval == 10
    assert db.session.scalar(select(Group).where(Group.name == "new")) is None


SLACK = "https://hooks.slack.example/services/T000/B000/XyZ-w3bh00k-t0ken"


def support() -> Group:
    db.session.expire_all()
    return db.session.scalars(select(Group).where(Group.name == "support")).one()


def test_a_webhook_url_is_exported_masked_and_read_back_kept(cli, tmp_path):
    add_fixture_profile(1)
    support().webhook_url = SLACK
    db.session.commit()
    exported = tmp_path / "settings.yaml"
    assert cli("settings", "export", str(exported)).exit_code == 0
    text = exported.read_text()
    assert "XyZ-w3bh00k-t0ken" not in text and "hooks.slack.example" not in text
    groups = {g["name"]: g for g in yaml.safe_load(text)["groups"]}
    assert groups["support"]["webhook_url"] == "***"
    assert all(g["webhook_url"] == "" for name, g in groups.items() if name != "support")
    # Read back (also with --replace): the stored URL stays; a new one given replaces it.
    assert cli("settings", "import", str(exported)).exit_code == 0
    assert cli("settings", "import", "--replace", str(exported)).exit_code == 0
    assert support().webhook_url == SLACK
    data = yaml.safe_load(text)
    data["groups"] = [{**g, "webhook_url": "https://chat.example.org/hooks/new"}
                      if g["name"] == "support" else g for g in data["groups"]]
    exported.write_text(yaml.safe_dump(data))
    assert cli("settings", "import", str(exported)).exit_code == 0
    assert support().webhook_url == "https://chat.example.org/hooks/new"


@pytest.mark.parametrize("group", [
    {"name": "new", "type": "queue", "pbx_id": "400", "webhook_url": "***"},
    {"name": "support", "type": "queue", "pbx_id": "support", "webhook_url": "***"},
], ids=["new-group", "group-without-webhook"])
def test_a_masked_webhook_url_with_none_stored_is_refused(cli, tmp_path, group):
    add_fixture_profile(1)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"settings": {"poll_interval": 42}, "groups": [group]}))
    result = cli("settings", "import", str(path))
    assert result.exit_code == 1
    assert (f"groups.{group['name']}.webhook_url: is masked; give the URL" in result.stderr
            and "Nothing was changed" in result.stderr)
    db.session.expire_all()
    assert Settings.load().poll_interval == 10
    assert db.session.scalar(select(Group).where(Group.name == "new")) is None
    assert support().webhook_url == ""


def test_settings_import_replace_removes_what_is_missing(cli, tmp_path):
    add_fixture_profile(1)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({
        "groups": [{"name": "support", "type": "queue", "pbx_id": "support",
                    "members": ["201"]}],
        "users": [{"username": "anna", "groups": ["support"], "extension": 201}]}))
    assert cli("settings", "import", "--replace", str(path)).exit_code == 0
    assert [g.name for g in db.session.scalars(select(Group))] == ["support"]
    assert [u.username for u in db.session.scalars(select(User))] == ["anna"]
    assert db.session.scalar(select(User)).extension == "201"


def test_users_add_passwd_list(cli):
    add_fixture_profile(1)
    result = cli("users", "add", "fred", "--name", "Fred", "--extension", "205",
                 "--group", "support")
    assert result.exit_code == 0 and "password: " in result.output
    password = result.output.rsplit("password: ", 1)[1].strip()
    fred = db.session.scalar(select(User).where(User.username == "fred"))
    assert fred.check_password(password) and [g.name for g in fred.groups] == ["support"]
    assert cli("users", "passwd", "fred", "--password", "s3cret-pw").exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.username == "fred")).check_password(
        "s3cret-pw")
    listing = cli("users", "list").output
    assert "fred" in listing and "support" in listing and "205" in listing
    assert cli("users", "add", "fred").exit_code != 0


def test_sync_command_runs_one_sync(cli):
    add_fixture_profile(1)
    result = cli("sync")
    assert result.exit_code == 0 and result.output.startswith("sync ok:")


def test_a_password_in_a_database_url_is_never_exported(cli, tmp_path):
    add_fixture_profile(1)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"connector": {
        "type": "freepbx_cdr", "cdr_url": "mysql+pymysql://callback:s3cret@pbx/asteriskcdrdb"}}))
    assert cli("settings", "import", str(path)).exit_code == 0
    exported = tmp_path / "out.yaml"
    cli("settings", "export", str(exported))
    assert "s3cret" not in exported.read_text()
    assert "mysql+pymysql://callback:***@pbx/asteriskcdrdb" in exported.read_text()
    assert cli("settings", "import", str(exported)).exit_code == 0  # read back: password kept
    from callback_module.models import ConnectorConfig

    db.session.expire_all()
    assert ConnectorConfig.load().config["cdr_url"].endswith("callback:s3cret@pbx/asteriskcdrdb")
