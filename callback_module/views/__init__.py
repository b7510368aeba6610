"""The one blueprint, ``callback``; its views live in the modules imported below."""

from flask import Blueprint

from .. import asset_dir

blueprint = Blueprint("callback", __name__, template_folder=str(asset_dir("templates")),
                      static_folder=str(asset_dir("static") / "callback"),
                      static_url_path="/static")

from . import admin, auth, lists, live  # noqa: E402,F401
