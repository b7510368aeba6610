"""The lists page (four tabs per group) and the one-click actions on its rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import numbers
from ..actions import ActionRefused, may_act, record_action
from ..extensions import db
from ..models import STATES, Attempt, Entry, Settings, User
from ..queries import count_by_state, current_intervals, list_entries
from . import blueprint

PER_PAGE = 50
RESULTS = {"answered": _l("answered"), "no_answer": _l("no answer"), "busy": _l("busy"),
           "failed": _l("failed"), "congestion": _l("congestion"), "reached": _l("reached"),
           "voicemail": _l("voicemail"), "wrong_number": _l("wrong number")}
STATE_LABELS = {"open": _l("Open"), "attempts": _l("Attempts"), "done": _l("Done"),
                "not_reached": _l("Not reached")}


def _now() -> datetime:
    return datetime.now(UTC)  # one place, so tests can fix the clock


def wants_fragment() -> bool:
    """An htmx request for a piece of the page; history restores and boosts want it whole."""
    return (request.headers.get("HX-Request") == "true"
            and not request.headers.get("HX-History-Restore-Request")
            and not request.headers.get("HX-Boosted"))


def render_fragments(fragment: str | None, oob: Sequence[str] = (), status: int = 200, /,
                     **context: Any) -> Response:
    """``fragment``, then each ``oob`` partial rendered with ``oob=True`` for hx-swap-oob.

    ``fragment=None`` answers only the oob partials: an outerHTML swap of nothing removes the
    target.
    """
    html = render_template(fragment, **context) if fragment else ""
    html += "".join(render_template(name, oob=True, **context) for name in oob)
    response = make_response(html, status)
    response.vary.add("HX-Request")
    return response


def render_page(page_template: str, fragment: str, oob: Sequence[str] = (), status: int = 200,
                /, **context: Any) -> Response:
    """The one place that decides: the whole page, or the fragment (plus oob partials)."""
    if wants_fragment():
        return render_fragments(fragment, oob, status, **context)
    response = make_response(render_template(page_template, **context), status)
    response.vary.add("HX-Request")
    return response


@dataclass
class RowFormat:
    """How rows show numbers, times and people; the same for page, swap and (later) push."""

    tz: tzinfo
    region: str
    now: datetime
    people: dict[str, str]

    @classmethod
    def current(cls) -> RowFormat:
        settings = Settings.load()
        people = {u.extension: u.display_name for u in db.session.scalars(
            select(User).where(User.extension != ""))}
        return cls(ZoneInfo(settings.timezone or "UTC"), settings.default_region or "DE",
                   _now(), people)

    def number(self, entry: Entry) -> str:
        return numbers.display(entry.number, entry.number_e164, self.region)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def time(self, at: datetime | None) -> str:
        """Only the clock time today; the date too on other days (in the PBX's zone)."""
        if at is None:
            return ""
        local = self.local(at)
        same_day = local.date() == self.local(self.now).date()
        return local.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M")

    def who(self, extension: str) -> str:
        name = self.people.get(extension)
        return f"{name} ({extension})" if name and extension else extension or _("unknown")

    def result(self, attempt: Attempt) -> str:
        value = attempt.outcome or attempt.result
        return str(RESULTS.get(value, value))

    def state(self, state: str) -> str:
        return str(STATE_LABELS.get(state, state))

    def age(self, entry: Entry) -> str:
        return format_age(self.now - entry.first_call_at)


def format_age(age: timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    if hours:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    return _("%(minutes)d min", minutes=minutes)


@blueprint.context_processor
def page_globals() -> dict[str, Any]:
    """What base.html needs on every page: the language and the user's skin."""
    view = (current_user.view or {}) if current_user.is_authenticated else {}
    return {"page_lang": str(get_locale() or "en"), "skin": view.get("skin", "light")}


def visible_group_ids(user: User) -> list[int] | None:
    """The groups whose lists the user works; None means all of them (admins)."""
    return None if user.is_admin else [g.id for g in user.groups]


def _tab(value: str | None) -> str:
    return value if value in STATES else "open"


def _page(value: str | None) -> int:
    return max(1, int(value)) if value and value.isdigit() else 1


def counters_context(tab: str) -> dict[str, Any]:
    counts = count_by_state(visible_group_ids(current_user), current_intervals(now=_now()))
    return {"tab": tab, "counts": counts}


def list_context(tab: str, page: int) -> dict[str, Any]:
    context = counters_context(tab)
    total = context["counts"][tab]
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    entries = list_entries([tab], visible_group_ids(current_user), current_intervals(now=_now()),
                           offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    context.update(entries=entries, page=page, pages=pages, total=total,
                   fmt=RowFormat.current(), groups=current_user.groups,
                   period=Settings.load().period, poll_seconds=Settings.load().poll_interval)
    return context


@blueprint.route("/")
@login_required
def lists() -> Response:
    context = list_context(_tab(request.args.get("tab")), _page(request.args.get("page")))
    return render_page("callback/lists.html", "callback/partials/entries_table.html",
                       ("callback/partials/counters.html",), 200, **context)


@blueprint.route("/entries/<int:entry_id>/<any(done, not_reached, reopen):kind>",
                 methods=["POST"])
@login_required
def record_entry_action(entry_id: int, kind: str) -> Response:
    entry = db.get_or_404(Entry, entry_id)
    if not may_act(current_user, entry):
        abort(403)
    tab, page = _tab(request.form.get("tab")), _page(request.form.get("page"))
    status, messages = 200, []
    try:
        record_action(entry, kind, current_user._get_current_object())
    except ActionRefused as exc:
        db.session.rollback()
        status, messages = 409, [("error", str(exc))]
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
