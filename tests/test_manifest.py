"""module.yaml: loaded and checked at start; one instance only; one name everywhere."""

from __future__ import annotations

import pytest
from flask import Flask

from callback_module import init_app
from callback_module.manifest import ManifestError, load_manifest, validate_manifest

GOOD = {"id": "callback", "name": "Callback", "version": "0.1.0", "url_prefix": "/callback",
        "entry_point": "callback_module:init_app", "single_instance": True}


def test_the_shipped_manifest_is_valid():
    manifest = load_manifest()
    assert (manifest.id, manifest.name, manifest.url_prefix) == ("callback", "Callback",
                                                                  "/callback")


@pytest.mark.parametrize("change, message", [
    ({"name": "Rückruf"}, "This module must be named 'Callback'; 'Rückruf' is refused."),
    ({"single_instance": False}, "module.yaml must say single_instance: true"),
    ({"id": "other"}, "module.yaml id must be 'callback'"),
    ({"url_prefix": "/cb"}, "url_prefix must be '/callback'"),
    ({"version": "one"}, "version 'one' is not like 1.2.3."),
    ({"colour": "red"}, "unknown key 'colour'"),
], ids=["other-name", "not-single", "other-id", "other-prefix", "bad-version", "unknown-key"])
def test_a_wrong_manifest_is_refused_in_one_sentence(change, message):
    with pytest.raises(ManifestError) as error:
        validate_manifest({**GOOD, **change})
    assert message in str(error.value)
    assert str(error.value).count(".") >= 1


def test_a_manifest_file_with_another_name_stops_the_start(tmp_path, monkeypatch):
    bad = tmp_path / "module.yaml"
    bad.write_text("id: callback\nname: Rueckruf\nversion: 0.1.0\nurl_prefix: /callback\n"
                   "entry_point: x:y\nsingle_instance: true\n")
    monkeypatch.setattr("callback_module.manifest.manifest_path", lambda: bad)
    with pytest.raises(ManifestError, match="must be named 'Callback'"):
        init_app(Flask("host"))


def test_a_second_instance_is_refused(app):
    with pytest.raises(RuntimeError, match="already installed in this app; it runs only once"):
        init_app(app)


def test_one_name_everywhere(app):
    manifest = app.extensions["callback"].manifest
    assert app.blueprints["callback"].name == manifest.id
    rules = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("callback.")]
    assert rules and all(r.startswith(manifest.url_prefix) for r in rules)
    from callback_module.extensions import db
    from callback_module.scheduler import SYNC_JOB

    assert all(t.startswith("callback_") for t in db.metadata.tables)
    assert f"{manifest.id}.sync" == SYNC_JOB
    assert "callback" in app.cli.commands
    assert app.blueprints["callback"].static_url_path == "/static"


def test_mounts_into_a_host_app(tmp_path):
    host = Flask("host", instance_path=str(tmp_path))
    host.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="x", TESTING=True,
                       CALLBACK_LOG_FILE=str(tmp_path / "log"))
    state = init_app(host)
    assert host.extensions["callback"] is state
    assert host.test_client().get("/callback/login").status_code == 200
