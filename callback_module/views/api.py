"""The JSON API under /callback/api (SPEC §8): entries by state and group, and the lookup the
PBX dialplan asks for returning callers (SPEC §6). Session login; 401 JSON without one."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import numbers
from ..extensions import db
from ..models import OPEN_STATES, STATES, Entry, Group, Settings
from ..queries import current_intervals, list_entries
from ..serializers import entry_json
from . import blueprint
from .lists import visible_group_ids


def _error(message: str, status: int = 400) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@blueprint.get("/api/entries")
@login_required
def api_entries() -> Response:
    """``?state=open&group=support&period=TODAY|…|all``; all states and groups when left out."""
    state = request.args.get("state")
    if state and state not in STATES:
        return _error(f"state must be one of {', '.join(STATES)}")
    allowed = visible_group_ids(current_user)
    group_ids = allowed
    if name := request.args.get("group"):
        group = db.session.scalar(select(Group).where(Group.name == name))
        if group is None or (allowed is not None and group.id not in allowed):
            return _error(f"no group named {name!r} that you may see", 404)
        group_ids = [group.id]
    try:
        intervals = current_intervals(request.args.get("period"))
    except ValueError as exc:
        return _error(str(exc))
    entries = list_entries([state] if state else None, group_ids, intervals)
    return jsonify([entry_json(e) for e in entries])


@blueprint.get("/api/lookup")
@login_required
def api_lookup() -> Response:
    """Does this number have an open entry, and who tried it last? For routing a returning
    caller to the agent who already knows the case."""
    number = request.args.get("number", "")
    if numbers.is_withheld(number):
        return _error("a withheld number has no entries")
    settings = Settings.load()
    e164 = numbers.to_e164(number, settings.default_region)
    if e164 is None:
        return _error(f"{number!r} is not a phone number")
    entries = list(db.session.scalars(
        select(Entry).where(Entry.party_key == e164, Entry.state.in_(OPEN_STATES))
        .order_by(Entry.first_call_at)))
    attempts = sorted((a for e in entries for a in e.attempts), key=lambda a: a.at)
    return jsonify({"number_e164": e164, "open": bool(entries),
                    "entries": [{"id": e.id, "group": e.group.name, "state": e.state,
                                 "count": e.count} for e in entries],
                    "last_attempt_by": attempts[-1].by if attempts else None})
