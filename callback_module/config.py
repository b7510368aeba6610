"""Flask config defaults of the module; every key can come from the environment (CALLBACK_…)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

# Our own keys carry the module's name; `CALLBACK_CLAIM_SECONDS=5` in the environment sets
# CALLBACK_CLAIM_SECONDS, while `CALLBACK_SQLALCHEMY_DATABASE_URI` sets Flask's own key.
MODULE_DEFAULTS = {
    "CALLBACK_CLAIM_SECONDS": 120,
    "CALLBACK_REDIS_URL": "",
    "CALLBACK_DEMO_SEED": 7,
    "CALLBACK_DEMO_BACKFILL_MINUTES": 120,
    "CALLBACK_RUN_SCHEDULER": False,
    "CALLBACK_LOG_FILE": "",
    "CALLBACK_LOGIN_MAX_FAILURES": 5,
    "CALLBACK_LOGIN_WINDOW_SECONDS": 300,
    # How people reach the lists: the links in mails and webhooks (the worker has no request).
    "CALLBACK_BASE_URL": "http://127.0.0.1:5000",
}


def apply_defaults(app: Flask) -> None:
    for key, value in MODULE_DEFAULTS.items():
        app.config.setdefault(key, value)
    # The server pings every socket, so proxies keep it open and dead clients are noticed.
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"ping_interval": 25})
    # Agents keep the list open all day: tie the CSRF token to the session, not to an hour.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI",
                          "sqlite:///" + str(Path(app.instance_path) / "callback.db"))
    app.config.setdefault("CALLBACK_LOG_FILE", str(Path(app.instance_path) / "callback.log"))
    if not app.config["CALLBACK_LOG_FILE"]:
        app.config["CALLBACK_LOG_FILE"] = str(Path(app.instance_path) / "callback.log")


def add_translations(app: Flask, directory: str) -> None:
    """Flask-Babel finds the module's catalog after the host app's own (';'-separated)."""
    directories = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations").split(";")
    if directory not in (os.path.join(app.root_path, d) for d in directories):
        app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join([*directories, directory])
    state = app.extensions.get("babel")  # a host that set up Flask-Babel before init_app
    if state is not None and directory not in state.translation_directories:
        state.translation_directories.append(directory)


def load_environment(app: Flask) -> None:
    """CALLBACK_X=… sets X (Flask's and extensions' keys) or CALLBACK_X (the module's own)."""
    before = dict(app.config)
    app.config.from_prefixed_env("CALLBACK")
    for key in MODULE_DEFAULTS:
        short = key.removeprefix("CALLBACK_")
        if short in app.config and app.config.get(short) != before.get(short):
            app.config[key] = app.config.pop(short)


def secret_key(instance_path: str) -> str:
    """A random key kept in instance/, so sessions survive restarts without a key in the repo."""
    path = Path(instance_path) / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    os.makedirs(instance_path, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
