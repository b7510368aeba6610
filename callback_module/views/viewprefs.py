"""Per-user view settings kept on the server (User.view): skin, font size, groups, columns.

The lists read them through ``prefs()``; the toolbar on the lists page changes them one press
at a time with ``POST /callback/view``. It also sets the user's own language (User.language,
"" = the browser's), so an agent can switch without an admin.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import abort, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..extensions import db
from ..forms import LANGUAGE_LABELS
from ..language import LANGUAGES
from ..models import Group, User
from . import blueprint
from . import lists as list_views

DEFAULTS: dict[str, Any] = {"skin": "light", "font_step": 0, "groups": [], "summarize": True,
                            "show_group": True}
SKINS = ("light", "dark")
FONT_STEPS = range(-3, 4)
# Root font sizes per step: about 8 % apart, so a press is visible but never a jump.
FONT_SIZES = {-3: "12px", -2: "13px", -1: "14px", 0: "15px", 1: "16.5px", 2: "18px", 3: "20px"}
FONT_MOVES = {"bigger": 1, "smaller": -1, "reset": 0}
BOOLEANS = {"true": True, "false": False}
# The keys the toolbar posts; tab and page only say where to go back to.
FORM_KEYS = {"skin", "font", "groups", "summarize", "show_group", "language", "tab", "page",
             "csrf_token"}
TABLE_KEYS = {"groups", "summarize", "show_group"}


def prefs(user: Any) -> dict[str, Any]:
    """The user's view settings over the defaults; a stored value that is not valid is ignored."""
    stored = (getattr(user, "view", None) or {}) if getattr(user, "is_authenticated", False) \
        else {}
    view = dict(DEFAULTS)
    if stored.get("skin") in SKINS:
        view["skin"] = stored["skin"]
    if stored.get("font_step") in FONT_STEPS and not isinstance(stored["font_step"], bool):
        view["font_step"] = stored["font_step"]
    if isinstance(stored.get("groups"), list):
        view["groups"] = [g for g in stored["groups"] if isinstance(g, int)]
    for key in ("summarize", "show_group"):
        if isinstance(stored.get(key), bool):
            view[key] = stored[key]
    return view


def font_size(step: int) -> str | None:
    """The root font size for ``step``; None for the default, so the stylesheet's stays."""
    return None if step == 0 else FONT_SIZES.get(step)


def selectable_groups(user: User) -> list[Group]:
    """The groups the user may show: their own, or every group for admins."""
    if user.is_admin:
        return list(db.session.scalars(select(Group).order_by(Group.name)))
    return list(user.groups)


def shown_group_ids(user: User) -> list[int] | None:
    """The groups the lists show: the chosen ones among those allowed; None = all (admins).

    Chosen groups the user lost (or that were deleted) drop out; when none is left, the
    lists fall back to all of the user's groups rather than to an empty list.
    """
    chosen = set(prefs(user)["groups"])
    allowed = None if user.is_admin else [g.id for g in user.groups]
    if not chosen:
        return allowed
    candidates = [g.id for g in selectable_groups(user)] if allowed is None else allowed
    narrowed = [g for g in candidates if g in chosen]
    return narrowed or allowed


def toolbar_context(user: User) -> dict[str, Any]:
    view = prefs(user)
    choices = selectable_groups(user)
    shown = shown_group_ids(user)
    return {"view": view, "group_choices": choices,
            "shown_groups": None if shown is None else [g for g in choices if g.id in shown],
            "view_font_size": FONT_SIZES[view["font_step"]],
            "font_percent": round(float(FONT_SIZES[view["font_step"]][:-2]) / 15 * 100),
            "languages": LANGUAGE_LABELS, "language": user.language or ""}


def _refuse(message: str) -> NoReturn:
    abort(make_response(message, 400, {"Content-Type": "text/plain; charset=utf-8"}))


def _checked_changes(form: Any, user: User, view: dict[str, Any]) -> dict[str, Any]:
    """The new values the form asks for; anything unknown or out of range is a 400."""
    unknown = sorted(set(form) - FORM_KEYS)
    if unknown:
        _refuse(_("Unknown view setting: %(key)s", key=", ".join(unknown)))
    changes: dict[str, Any] = {}
    if "skin" in form:
        if form["skin"] not in SKINS:
            _refuse(_("Unknown skin: %(value)s", value=form["skin"]))
        changes["skin"] = form["skin"]
    if "font" in form:
        move = FONT_MOVES.get(form["font"])
        if move is None:
            _refuse(_("Unknown font size step: %(value)s", value=form["font"]))
        # At either end a further press changes nothing: the button is disabled there anyway.
        changes["font_step"] = max(-3, min(3, view["font_step"] + move)) if move else 0
    for key in ("summarize", "show_group"):
        if key in form:
            if form[key] not in BOOLEANS:
                _refuse(_("%(key)s must be true or false", key=key))
            changes[key] = BOOLEANS[form[key]]
    if "groups" in form:
        # The groups form sends an empty value first, so "none ticked" (= all) still arrives.
        values = [v for v in form.getlist("groups") if v != ""]
        allowed = {g.id for g in selectable_groups(user)}
        if any(not v.isdigit() or int(v) not in allowed for v in values):
            _refuse(_("You can only choose among your own groups."))
        chosen = sorted({int(v) for v in values})
        changes["groups"] = [] if set(chosen) == allowed else chosen
    if "language" in form:
        if form["language"] not in ("", *LANGUAGES):
            _refuse(_("Unknown language: %(value)s", value=form["language"]))
        changes["language"] = form["language"]
    if not changes:
        _refuse(_("No view setting given."))
    return changes


@blueprint.route("/view", methods=["POST"])
@login_required
def update_view() -> Response:
    user: User = current_user._get_current_object()
    view = prefs(user)
    changes = _checked_changes(request.form, user, view)
    if "language" in changes:
        user.language = changes.pop("language")  # the user's own column, not a view setting
    view.update(changes)
    user.view = view  # a new dict: the JSON column notices only assignments
    db.session.commit()
    tab = list_views._tab(request.form.get("tab"))
    page = list_views._page(request.form.get("page"))
    if not list_views.wants_fragment():
        return redirect(url_for("callback.lists", tab=tab, page=page))
    if "language" in request.form:
        # Every word on the page changes: htmx reloads it whole.
        response = make_response("", 200)
        response.headers["HX-Refresh"] = "true"
        return response
    if TABLE_KEYS & set(request.form):
        context = list_views.list_context(tab, page)
        return list_views.render_fragments(
            "callback/partials/entries_table.html",
            ("callback/partials/counters.html", "callback/partials/view_toolbar.html"),
            200, **context)
    return list_views.render_fragments("callback/partials/view_toolbar.html", (), 200,
                                       tab=tab, page=page, **toolbar_context(user))
