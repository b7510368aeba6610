"""The one blueprint, ``callback``; its views live in the modules imported below."""

from flask import Blueprint

from .. import asset_dir

blueprint = Blueprint("callback", __name__, template_folder=str(asset_dir("templates")),
                      static_folder=str(asset_dir("static") / "callback"),
                      static_url_path="/static")

from . import (  # noqa: E402,F401
    account,
    admin,
    admin_connector,
    admin_contacts,
    admin_groups,
    admin_log,
    admin_notify,
    admin_users,
    api,
    auth,
    entries,
    lists,
    live,
    viewprefs,
)
