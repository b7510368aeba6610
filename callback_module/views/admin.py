"""Admin pages: the settings form (every key of settings_schema.SETTINGS)."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import available_timezones

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import logs
from ..extensions import db
from ..forms import SettingsForm
from ..models import Settings
from ..policy_loader import load_policy
from ..settings_schema import SETTINGS
from ..signals import entries_changed
from ..store import recompute_all
from . import blueprint
from .auth import admin_required

log = logging.getLogger("callback.admin")


@blueprint.route("/admin/settings", methods=["GET", "POST"])
@admin_required
def admin_settings() -> Any:
    settings = Settings.load()
    before = settings.as_dict()
    # The stored values fill in whatever a POST leaves out, as in the settings file.
    form = SettingsForm(data=before)
    status = 200
    if request.method == "POST":
        if form.validate():
            _save(settings, before, form.checked)
            flash(_("Settings saved."), "success")
            return redirect(url_for("callback.admin_settings"))
        db.session.rollback()
        status = 422
        flash(_("Nothing was saved: please correct the marked fields."), "error")
    return render_template("callback/admin/settings.html", form=form, settings=SETTINGS,
                           favourite_url=url_for("callback.lists", _external=True),
                           timezones=sorted(available_timezones())), status


def _save(settings: Settings, before: dict[str, Any], values: dict[str, Any]) -> None:
    settings.update(values)
    # Group types and the rules' switches change which calls are missed: rebuild every entry.
    changed = recompute_all(load_policy())
    db.session.commit()
    logs.set_level(values["log_level"])
    diff = {k: (before[k], v) for k, v in values.items() if before.get(k) != v}
    # The module log doubles as the audit trail of settings changes until there is one.
    log.info("settings changed by %s: %s", current_user.username,
             ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in diff.items()) or "nothing")
    if changed:
        entries_changed.send(current_app._get_current_object(), entry_ids=changed,
                             source="settings")
