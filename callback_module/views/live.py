"""The websocket at /callback/ws: pushes changed rows and the counters to one browser.

Each socket knows which tab and page its browser shows and which rows are on it, so a change
swaps exactly that entry's row (or appends it, or removes it) plus the counters out-of-band,
never the whole table. Rendering happens here, in the socket's own thread.
"""

from __future__ import annotations

import queue
from typing import Any

from flask import current_app, g, render_template, request
from flask_login import current_user

from ..extensions import db, sock
from ..i18n import load
from ..language import translate
from ..models import Entry, User
from ..queries import current_intervals, list_entries
from ..rules.period import in_period
from . import blueprint
from .lists import PER_PAGE, RowFormat, _now, _page, _tab, counters_context, visible_group_ids

WAIT_SECONDS = 1.0


@sock.route("/ws", bp=blueprint, endpoint="live_socket")
def live_socket(ws) -> None:
    if not current_user.is_authenticated:
        ws.close(reason=1008, message="login required")
        return
    view = LiveView(current_user.id, _tab(request.args.get("tab")),
                    _page(request.args.get("page")))
    broadcaster = current_app.extensions["callback"].live.broadcaster
    events = broadcaster.subscribe()
    try:
        view.shown = view.rows_on_page()
        db.session.remove()
        while ws.connected:
            try:
                batch = [events.get(timeout=WAIT_SECONDS)]
            except queue.Empty:
                continue
            while True:  # coalesce a burst (a sync) into one message
                try:
                    batch.append(events.get_nowait())
                except queue.Empty:
                    break
            frames = view.render(batch)
            db.session.remove()
            for frame in frames:
                ws.send(frame)
    finally:
        broadcaster.unsubscribe(events)
        db.session.remove()


class LiveView:
    """What one browser shows, and the fragments that bring it up to date."""

    def __init__(self, user_id: int, tab: str, page: int) -> None:
        self.user_id, self.tab, self.page = user_id, tab, page
        self.shown: set[int] = set()

    def _user(self) -> User | None:
        user = db.session.get(User, self.user_id)
        # The templates read current_user; give them the fresh row of this transaction.
        g._login_user = user
        return user

    def rows_on_page(self) -> set[int]:
        user = self._user()
        if user is None:
            return set()
        entries = list_entries([self.tab], visible_group_ids(user), current_intervals(now=_now()),
                               offset=(self.page - 1) * PER_PAGE, limit=PER_PAGE)
        return {e.id for e in entries}

    def render(self, events: list[dict[str, Any]]) -> list[str]:
        """The websocket messages for these events.

        Swapped rows and appended ones go in separate messages: htmx parses a message as one
        fragment, and a ``<tr>`` next to a ``<tbody>`` at its top level loses the tbody.
        """
        user = self._user()
        if user is None:
            return []
        if any(e.get("kind") == "resync" for e in events):
            self.shown = self.rows_on_page()
            return [self._whole_table()]
        ids: set[int] = set()
        notices = []
        for event in events:
            if event.get("kind") == "entries":
                ids.update(int(i) for i in event.get("ids", ()))
            elif event.get("kind") == "claim":
                ids.add(int(event["id"]))
            elif event.get("kind") == "notice" and event.get("user_id") == self.user_id:
                notices.append((str(event.get("category") or "info"),
                                translate(load(event.get("message", "")))))
        flash = [render_template("callback/partials/flash.html", oob=True, messages=notices)
                 ] if notices else []
        if not ids:
            return flash
        context = counters_context(self.tab)
        fmt = RowFormat.current()
        groups = visible_group_ids(user)
        intervals = current_intervals(now=_now())
        last_page = self.page >= max(1, -(-context["counts"][self.tab] // PER_PAGE))
        updates = [self._row_update(entry_id, db.session.get(Entry, entry_id), groups,
                                    intervals, fmt, last_page) for entry_id in sorted(ids)]
        rows = "".join(u for u in updates if u.startswith("<tr"))
        appended = "".join(u for u in updates if u.startswith("<tbody"))
        counters = render_template("callback/partials/counters.html", oob=True, **context)
        return [frame for frame in (rows + counters if rows else counters, appended) if frame
                ] + flash

    def _row_update(self, entry_id: int, entry: Entry | None, groups, intervals, fmt,
                    last_page: bool) -> str:
        visible = entry is not None and (groups is None or entry.group_id in groups) and (
            intervals is None or any(in_period(c.at, intervals) for c in entry.calls))
        if not visible:
            if entry_id in self.shown:
                self.shown.discard(entry_id)
                return f'<tr id="entry-{entry_id}" hx-swap-oob="delete"></tr>'
            return ""
        row = render_template("callback/partials/entry_row.html", entry=entry, fmt=fmt,
                              tab=self.tab, page=self.page, oob=entry_id in self.shown)
        if entry_id in self.shown:
            if entry.state != self.tab:
                self.shown.discard(entry_id)  # shown as "moved to …", then removed by live.js
            return row
        if entry.state == self.tab and last_page:
            self.shown.add(entry_id)
            return ('<tbody id="entries-empty" hx-swap-oob="delete"></tbody>'
                    f'<tbody hx-swap-oob="beforeend:#entry-rows">{row}</tbody>')
        return ""

    def _whole_table(self) -> str:
        from .lists import list_context

        context = list_context(self.tab, self.page)
        table = render_template("callback/partials/entries_table.html", **context)
        table = table.replace('<section id="entries"', '<section hx-swap-oob="true" id="entries"',
                              1)
        return table + render_template("callback/partials/counters.html", oob=True, **context)
