"""The lists page (four tabs per group) and how its rows show; the rows' actions: entries.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from flask import make_response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import numbers
from ..call_results import REASONS
from ..calling_in import ringing_numbers
from ..claims import live_claims, seconds_left
from ..dial import connector_can_dial
from ..extensions import db
from ..language import closed_reason, translate
from ..models import OPEN_STATES, STATES, Attempt, Claim, Entry, EntryCall, Settings, User
from ..notify.settings import RULE_LABELS
from ..queries import count_by_state, current_intervals, list_entries
from ..rules.entries import OUTCOMES
from . import blueprint, viewprefs

PER_PAGE = 50
RESULTS = {"answered": _l("answered"), "no_answer": _l("no answer"), "busy": _l("busy"),
           "failed": _l("failed"), "congestion": _l("congestion"), "reached": _l("reached"),
           "voicemail": _l("voicemail"), "wrong_number": _l("wrong number")}
ENDINGS = {"abandoned": _l("caller hung up"), "timeout": _l("queue timeout"),
           "no_agents": _l("no agents"), "left_by_key": _l("left by key"),
           "withdrawn": _l("withdrawn"), "busy": _l("busy"), "no_answer": _l("no answer"),
           "voicemail": _l("voicemail"), "answered": _l("answered too briefly")}
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
    show_group: bool = True  # the viewer's view settings (viewprefs), so the live push,
    summarize: bool = True   # which renders rows outside a page, shows the same columns
    claims: dict[int, Claim] = field(default_factory=dict)  # live ones, by entry id
    viewer_id: int | None = None
    can_call: bool = False  # the active connector can place calls
    ringing: set[str] = field(default_factory=set)  # callers on the line now (E.164)

    @classmethod
    def current(cls) -> RowFormat:
        settings = Settings.load()
        people = {u.extension: u.display_name for u in db.session.scalars(
            select(User).where(User.extension != ""))}
        view = viewprefs.prefs(current_user)
        return cls(ZoneInfo(settings.timezone or "UTC"), settings.default_region or "DE",
                   _now(), people, view["show_group"], view["summarize"],
                   claims=live_claims(),
                   viewer_id=current_user.id if current_user.is_authenticated else None,
                   can_call=connector_can_dial(), ringing=ringing_numbers())

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

    def ended(self, call: EntryCall) -> str:
        return str(ENDINGS.get(call.ended, call.ended or _("missed")))

    def result(self, attempt: Attempt) -> str:
        """The PBX's result, then the agent's outcome where one was set: "answered → voicemail"."""
        text = str(RESULTS.get(attempt.result, attempt.result))
        if attempt.outcome and attempt.outcome != attempt.result:
            text += " → " + str(RESULTS.get(attempt.outcome, attempt.outcome))
        return text

    def outcomes(self) -> list[tuple[str, str]]:
        return [(value, str(RESULTS[value])) for value in OUTCOMES]

    def claim(self, entry: Entry) -> Claim | None:
        """Who is calling back now; a closed entry has nobody left to call."""
        return self.claims.get(entry.id) if entry.state in OPEN_STATES else None

    def calling_in(self, entry: Entry) -> bool:
        """The caller of this open entry is on the line right now."""
        return entry.state in OPEN_STATES and entry.number_e164 in self.ringing

    def notify_rule(self, rule: str) -> str:
        return translate(RULE_LABELS[rule]) if rule in RULE_LABELS else rule

    def originate_reason(self, reason: str) -> str:
        return translate(REASONS.get(reason, REASONS["unknown"]))

    def claim_left(self, claim: Claim) -> str:
        left = seconds_left(claim)
        return f"{left // 60}:{left % 60:02d}"

    def state(self, state: str) -> str:
        return str(STATE_LABELS.get(state, state))

    def reason(self, stored: str | None) -> str:
        """Why the entry closed, in the viewer's language; stored in English ("reached by 202")."""
        return closed_reason(stored)

    def age(self, entry: Entry) -> str:
        return format_age(self.now - entry.first_call_at)

    def age_seconds(self, entry: Entry) -> int:
        return max(0, int((self.now - entry.first_call_at).total_seconds()))

    def due_in(self, entry: Entry) -> int | None:
        """Seconds until the group's "first attempt within N minutes" target passes (negative:
        overdue); None when it does not apply (no target, or an attempt was made)."""
        target = entry.group.target_minutes if entry.group else 0
        if not target or entry.state != "open":
            return None
        due = entry.first_call_at + timedelta(minutes=target)
        return int((due - self.now).total_seconds())


def format_age(age: timedelta) -> str:
    """How long a caller has waited; live.js counts on with the same words (AGE_FORMATS)."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h", days=days, hours=hours)
    if hours:
        return _("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    return _("%(minutes)s min", minutes=minutes)


def age_formats() -> dict[str, str]:
    """format_age's words with {d} {h} {m} for the browser to fill in."""
    return {"d": _("%(days)s d %(hours)s h", days="{d}", hours="{h}"),
            "h": _("%(hours)s h %(minutes)s min", hours="{h}", minutes="{m}"),
            "m": _("%(minutes)s min", minutes="{m}")}


@blueprint.context_processor
def page_globals() -> dict[str, Any]:
    """What base.html needs on every page: the language, the user's skin and font size."""
    view = viewprefs.prefs(current_user)
    return {"page_lang": str(get_locale() or "en"), "skin": view["skin"],
            "font_size": viewprefs.font_size(view["font_step"]), "age_formats": age_formats}


def visible_group_ids(user: User) -> list[int] | None:
    """The groups whose lists the user shows (their choice among those allowed); None = all."""
    return viewprefs.shown_group_ids(user)


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
                   **viewprefs.toolbar_context(current_user),
                   period=Settings.load().period, poll_seconds=Settings.load().poll_interval)
    return context


@blueprint.route("/")
@login_required
def lists() -> Response:
    if not wants_fragment():  # a page opened, not a poll: the agent is here
        from .auth import mark_seen

        mark_seen(current_user._get_current_object())
    context = list_context(_tab(request.args.get("tab")), _page(request.args.get("page")))
    return render_page("callback/lists.html", "callback/partials/entries_table.html",
                       ("callback/partials/counters.html",), 200, **context)
