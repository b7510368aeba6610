"""Every config key can come from the environment with the CALLBACK_ prefix (SPEC §8)."""

from __future__ import annotations

from callback_module import create_app


def test_environment_sets_flask_and_module_keys(monkeypatch, tmp_path):
    monkeypatch.setenv("CALLBACK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("CALLBACK_CLAIM_SECONDS", "5")
    monkeypatch.setenv("CALLBACK_SECRET_KEY", "from-env")
    app = create_app({"TESTING": True, "CALLBACK_LOG_FILE": str(tmp_path / "log")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"
    assert app.config["CALLBACK_CLAIM_SECONDS"] == 5
    assert app.config["SECRET_KEY"] == "from-env"


def test_defaults_need_no_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("CALLBACK_SQLALCHEMY_DATABASE_URI", raising=False)
    app = create_app({"TESTING": True, "CALLBACK_LOG_FILE": str(tmp_path / "log")})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/callback.db")
    assert app.config["CALLBACK_CLAIM_SECONDS"] == 120
