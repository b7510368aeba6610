"""Entries past their group's "first attempt within N minutes" target are highlighted."""

from __future__ import annotations

from datetime import timedelta

from callback_module.extensions import db
from callback_module.models import Group
from callback_module.views import lists as lists_view

from test_views_lists import NOON, entry, login, page, row, run_a  # noqa: F401 (fixture)


def set_target(name: str, minutes: int) -> None:
    db.session.query(Group).filter_by(name=name).one().target_minutes = minutes
    db.session.commit()


def test_open_entries_past_the_target_are_marked(client, run_a):
    set_target("support", 30)
    login(client, "anna")
    html = page(client)
    late = row(html, entry("support", "+49301110017").id)  # first call 06:13, now 12:00
    assert 'is-overdue' in late and ">overdue<" in late
    assert 'data-due-in="-' in late


def test_not_yet_due_counts_down_in_the_page(client, run_a, monkeypatch):
    set_target("support", 600)  # ten hours: due at 16:13
    login(client, "anna")
    late = row(page(client), entry("support", "+49301110017").id)
    assert "is-overdue" not in late
    due_in = int(late.split('data-due-in="')[1].split('"')[0])
    assert timedelta(seconds=due_in) == timedelta(hours=4, minutes=13, seconds=54)
    monkeypatch.setattr(lists_view, "_now", lambda: NOON + timedelta(hours=5))
    assert "is-overdue" in row(page(client), entry("support", "+49301110017").id)


def test_no_target_or_an_attempt_means_no_highlight(client, run_a):
    set_target("hotline", 0)
    set_target("support", 1)
    login(client, "admin")
    html = page(client, tab="done")
    # The S01 entry had attempts and is closed: no target applies.
    assert "data-due-in" not in row(html, entry("support", "+49301110001").id)
    assert "data-due-in" not in row(page(client), entry("sales", "+49301110007").id)
