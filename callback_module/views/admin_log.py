"""The module log page: its last lines by level, a refresh, the download, the log level."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import logs
from ..extensions import db
from ..forms import LogLevelForm
from ..language import settings_error
from ..models import Settings
from ..settings_schema import LOG_LEVELS, SettingsError, check_value
from . import blueprint
from .auth import admin_required
from .lists import render_page

log = logging.getLogger("callback.admin")
SHOWN_LINES = 500


def _log_path() -> str | None:
    return current_app.config.get("CALLBACK_LOG_FILE") or None


def _filter_level(value: str | None) -> str:
    # The page filters what is shown; it falls back to everything for an unknown level.
    return value if value in LOG_LEVELS else "TRACE"


def _page(form: LogLevelForm, status: int = 200) -> Response:
    path, level = _log_path(), _filter_level(request.args.get("level"))
    lines = logs.read_log(path, level, SHOWN_LINES) if path else []
    return render_page("callback/admin/log.html", "callback/partials/log_lines.html", (),
                       status, form=form, lines=lines, level=level, levels=LOG_LEVELS,
                       path=path, limit=SHOWN_LINES)


@blueprint.route("/admin/log")
@admin_required
def admin_log() -> Response:
    return _page(LogLevelForm(log_level=Settings.load().log_level))


@blueprint.route("/admin/log/download")
@admin_required
def admin_log_download() -> Any:
    path = _log_path()
    if not path or not os.path.isfile(path):
        # Nothing was logged yet (the file is made on the first line): an empty file says so.
        return Response("", mimetype="text/plain", headers={
            "Content-Disposition": "attachment; filename=callback.log"})
    return send_file(path, mimetype="text/plain", as_attachment=True,
                     download_name="callback.log", max_age=0)


@blueprint.route("/admin/log/level", methods=["POST"])
@admin_required
def admin_log_level() -> Any:
    form = LogLevelForm()
    settings = Settings.load()
    if form.validate():
        try:
            level = check_value("log_level", form.log_level.data)
        except SettingsError as exc:
            form.log_level.errors = [settings_error(exc)]
        else:
            before = settings.log_level
            settings.log_level = level
            db.session.commit()
            logs.set_level(level)
            log.info("settings changed by %s: log_level %r -> %r", current_user.username,
                     before, level)
            flash(_("Log level set to %(level)s.", level=level), "success")
            return redirect(url_for("callback.admin_log"))
    db.session.rollback()
    return _page(form, 422)
