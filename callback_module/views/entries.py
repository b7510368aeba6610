"""One-click actions on an entry's row (Call, Claim, Done, Not reached, Reopen, outcome of an
attempt) and its timeline. Each answers htmx with the row, the counters and the message."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import claims, dial
from ..actions import ActionRefused, may_act, record_action
from ..extensions import db
from ..language import translate
from ..models import Entry, User
from ..timeline import load_timeline
from . import blueprint
from .lists import (
    RowFormat,
    _page,
    _tab,
    counters_context,
    render_fragments,
    render_page,
    wants_fragment,
)

# What an action may say besides the row: (status, category, message), or None.
Note = tuple[int, str, str] | None


def _act(entry_id: int, do: Callable[[Entry, User], Note]) -> Response:
    """Run ``do`` on the entry for the current user; answer with its row, or redirect back."""
    entry = db.get_or_404(Entry, entry_id)
    user = current_user._get_current_object()
    if not may_act(user, entry):
        abort(403)
    tab, page = _tab(request.form.get("tab")), _page(request.form.get("page"))
    status, messages = 200, []
    try:
        note = do(entry, user)
    except ActionRefused as exc:
        db.session.rollback()
        note = (409, "error", str(exc))
    if note:
        status, messages = note[0], [note[1:]]
    if not wants_fragment():
        for category, message in messages:
            flash(message, category)
        return redirect(url_for("callback.lists", tab=tab, page=page))
    context = counters_context(tab)
    context.update(entry=db.session.get(Entry, entry_id), page=page, fmt=RowFormat.current(),
                   messages=messages)
    # The flash goes along even when empty: it clears the message of an earlier refusal.
    oob = ["callback/partials/counters.html", "callback/partials/flash.html"]
    # A row the rules removed (rare) is swapped for nothing, which drops it from the table.
    fragment = "callback/partials/entry_row.html" if context["entry"] else None
    return render_fragments(fragment, oob, status, **context)


@blueprint.route("/entries/<int:entry_id>/<any(done, not_reached, reopen):kind>",
                 methods=["POST"])
@login_required
def record_entry_action(entry_id: int, kind: str) -> Response:
    def do(entry: Entry, user: User) -> Note:
        record_action(entry, kind, user)
        return None

    return _act(entry_id, do)


@blueprint.route("/entries/<int:entry_id>/outcome", methods=["POST"])
@login_required
def set_outcome(entry_id: int) -> Response:
    call_key, outcome = request.form.get("call_key", ""), request.form.get("outcome", "")

    def do(entry: Entry, user: User) -> Note:
        record_action(entry, "outcome", user, call_key=call_key, outcome=outcome)
        return None

    return _act(entry_id, do)


@blueprint.route("/entries/<int:entry_id>/call", methods=["POST"])
@login_required
def call_entry(entry_id: int) -> Response:
    def do(entry: Entry, user: User) -> Note:
        result = dial.place_call(entry, user)
        message = translate(result.message)  # the connector's words, in the user's language
        return (200, "success", message) if result.ok else (409, "error", message)

    return _act(entry_id, do)


@blueprint.route("/entries/<int:entry_id>/claim", methods=["POST"])
@login_required
def claim_entry(entry_id: int) -> Response:
    def do(entry: Entry, user: User) -> Note:
        claims.claim(entry, user)
        return None

    return _act(entry_id, do)


@blueprint.route("/entries/<int:entry_id>/release", methods=["POST"])
@login_required
def release_entry(entry_id: int) -> Response:
    def do(entry: Entry, user: User) -> Note:
        if not claims.release(entry, user):
            return 200, "info", _("Nobody was calling this caller back.")
        return None

    return _act(entry_id, do)


@blueprint.route("/entries/<int:entry_id>/timeline")
@login_required
def entry_timeline(entry_id: int) -> Response:
    entry = db.get_or_404(Entry, entry_id)
    if not may_act(current_user, entry):
        abort(403)
    return render_page("callback/timeline.html", "callback/partials/timeline.html", (), 200,
                       entry=entry, items=load_timeline(entry), fmt=RowFormat.current())
