"""Callback: one shared, live list of the calls a team missed, for Asterisk and FreePBX.

``init_app(app)`` mounts the module into a host Flask app; ``create_app()`` runs it standalone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event

from .config import add_translations, apply_defaults, load_environment, secret_key
from .extensions import babel, csrf, db, login_manager, migrate, sock
from .manifest import Manifest, ManifestError, load_manifest

__version__ = "0.1.0"
__all__ = ["CallbackState", "ManifestError", "create_app", "init_app"]

PACKAGE_DIR = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """templates/ and static/ sit beside the package in a checkout and inside it in a wheel."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


@dataclass
class CallbackState:
    """What ``app.extensions["callback"]`` holds."""

    manifest: Manifest
    scheduler: Any = None
    live: Any = None  # live.receivers.LivePublisher: its .broadcaster feeds the websockets
    writer: Any = None  # writer.BackgroundWriter, where the live connector runs (the worker)


def init_app(app: Flask) -> CallbackState:
    """Wire the module into ``app``; refuses to run twice in one app."""
    if "callback" in app.extensions:
        raise RuntimeError("Callback is already installed in this app; it runs only once.")
    manifest = load_manifest()
    apply_defaults(app)
    load_environment(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(app.instance_path)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "callback.login"
    csrf.init_app(app)
    add_translations(app, str(PACKAGE_DIR / "translations"))
    if "babel" not in app.extensions:
        babel.init_app(app, locale_selector=_locale)
    sock.init_app(app)

    from . import connectors as _connectors  # noqa: F401  (registers the connectors)
    from .cli import cli
    from .logs import setup_logging
    from .views import blueprint

    app.register_blueprint(blueprint, url_prefix=manifest.url_prefix)
    app.cli.add_command(cli)
    setup_logging(app)
    with app.app_context():
        _sqlite_pragmas()
    from .live.receivers import init_live
    from .notify.planner import init_notify

    init_notify(app)
    state = CallbackState(manifest=manifest, live=init_live(app))
    app.extensions["callback"] = state
    return state


def create_app(test_config: dict[str, Any] | None = None,
               instance_path: str | None = None) -> Flask:
    """The standalone app: the module alone, on SQLite and the demo PBX by default."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    if test_config:
        app.config.update(test_config)
    init_app(app)

    @app.route("/")
    def index():
        from flask import redirect, url_for

        return redirect(url_for("callback.lists"))

    return app


def _locale() -> str | None:
    from flask import request
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False) and current_user.language:
        return current_user.language
    return request.accept_languages.best_match(["de", "en"]) if request else None


def _sqlite_pragmas() -> None:
    # The scheduler thread and the web threads write at once: WAL lets readers go on while
    # one writes, and the busy timeout makes a writer wait instead of failing at once.
    if db.engine.dialect.name != "sqlite":
        return

    @event.listens_for(db.engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


logging.getLogger("callback").addHandler(logging.NullHandler())
