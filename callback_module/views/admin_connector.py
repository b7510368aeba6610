"""Admin page for the PBX connector: which one runs, its own settings, a connection test."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..connector_form import (
    ConnectorForm,
    ask_for_secrets_again,
    connector_form,
    form_config,
    secrets_left_behind,
)
from ..connectors.base import Status
from ..connectors.cdr_database import mask_url_text
from ..connectors.registry import connector_names, get_connector_class
from ..extensions import db
from ..language import translate
from ..models import ConnectorConfig, Settings
from . import blueprint
from .auth import admin_required
from .lists import render_page, wants_fragment

log = logging.getLogger("callback.admin")
PAGE = "callback/admin/connector.html"
FIELDS = "callback/partials/connector_fields.html"
STATUS = "callback/partials/connector_status.html"


def _chosen_type(row: ConnectorConfig) -> str:
    wanted = request.form.get("type") if request.method == "POST" else request.args.get("type")
    # An unknown type falls back to the stored one; the select then says it is not a choice.
    if wanted in connector_names():
        return wanted
    return row.type if row.type in connector_names() else "demo"


def _page(form: ConnectorForm, fragment: str, status: int = 200, oob: tuple[str, ...] = (),
          result: Status | None = None) -> Response:
    return render_page(PAGE, fragment, oob, status, form=form, result=result)


@blueprint.route("/admin/connector", methods=["GET", "POST"])
@admin_required
def admin_connector() -> Any:
    row = ConnectorConfig.load()
    form = connector_form(row, _chosen_type(row))
    if request.method == "POST":
        # A stored secret is not carried over to another server (connector_form.py). A
        # required one left empty is asked for again: saved without it, the connector could
        # not even log in. An optional one (a database password: the new server may take none,
        # or the URL may carry one) is saved empty, and the flash says so.
        if form.validate() and ask_for_secrets_again(form, row, _(
                "Enter the secret again to use another server: the stored one is only sent to "
                "the server it was saved for.")):
            left_behind = secrets_left_behind(form, row)
            _save(row, form)
            flash(_("Connector settings saved."), "success")
            for spec in left_behind:
                flash(_("%(field)s: the stored value was not kept, as the server changed; "
                        "enter it again if the new server needs one.", field=_(spec.label)),
                      "warning")
            return redirect(url_for("callback.admin_connector"))
        db.session.rollback()
        flash(_("Nothing was saved: please correct the marked fields."), "error")
        return _page(form, FIELDS, 422)
    # A type switched by htmx gets that type's fields; the last test's result no longer holds.
    return _page(form, FIELDS, oob=(STATUS,))


@blueprint.route("/admin/connector/test", methods=["POST"])
@admin_required
def admin_connector_test() -> Response:
    row = ConnectorConfig.load()
    form = connector_form(row, _chosen_type(row))
    # The stored secret is only tested against its own server (connector_form.py): a required
    # one is asked for, an optional one is left out of the test, and the result says so.
    if not (form.validate() and ask_for_secrets_again(
            form, row, _("Enter the secret again to test another server."))):
        db.session.rollback()
        result = Status(False, _("Correct the marked fields, then test again."))
        # htmx swaps no 4xx answer (base.html): the fields' errors come along out of band.
        status = 200 if wants_fragment() else 422
        return _page(form, STATUS, status, oob=(FIELDS,), result=result)
    cls = form.connector
    left_behind = secrets_left_behind(form, row)
    connector = cls(form_config(form, row), instance_path=current_app.instance_path,
                    timezone=ZoneInfo(Settings.load().timezone or "UTC"))
    result = connector.check_status()
    db.session.rollback()  # a test stores nothing
    log.info("connection test of %s by %s: %s", cls.name, current_user.username,
             "ok" if result.ok else f"failed: {result.message}")
    message = " ".join([translate(result.message), *(
        _("(Tested without the stored value of %(field)s: it belongs to another "
          "server.)",
          field=_(spec.label)) for spec in left_behind)])
    return _page(form, STATUS, result=Status(result.ok, message))


def _save(row: ConnectorConfig, form: ConnectorForm) -> None:
    before_type, before = row.type, dict(row.config or {})
    row.type, row.config = form.connector.name, form_config(form, row)
    db.session.commit()
    # No cursor is touched: each connector keeps its own, named after it (sync.py).
    log.info("connector changed by %s: %s", current_user.username,
             _changes(before_type, before, row.type, row.config) or "nothing")


def _changes(before_type: str, before: dict[str, Any], after_type: str,
             after: dict[str, Any]) -> str:
    """What changed, for the log: secrets only as "changed", URLs without their password."""
    parts = [f"type {before_type} -> {after_type}"] if before_type != after_type else []
    old = before if before_type == after_type else {}
    cls = get_connector_class(after_type)
    for spec in cls.fields:
        if old.get(spec.name) == after.get(spec.name):
            continue
        if spec.name in cls.secret_fields or spec.kind == "secret":
            parts.append(f"{spec.name} changed")
        else:
            parts.append(f"{spec.name} {_loggable(old.get(spec.name))} -> "
                         f"{_loggable(after.get(spec.name))}")
    return ", ".join(parts)


def _loggable(value: Any) -> str:
    return repr(mask_url_text(value) if isinstance(value, str) else value)
