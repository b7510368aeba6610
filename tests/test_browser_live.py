"""Two agents in two browsers: what one does, the other sees within a second, no reload."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from browser import chromium  # noqa: F401  (the fixture)
from live_server import free_port, server_process, serving
from playwright.sync_api import expect
from sqlalchemy import select

from callback_module.extensions import db
from callback_module.file_import import import_files
from callback_module.models import Entry, Settings

from conftest import FIXTURES, add_fixture_profile, make_app

pytestmark = pytest.mark.browser
RUN_A = FIXTURES / "runA_unanswered_yes"
NEW_CALL = ('"","+49301119999","4930555100","from-pstn","""Neu"" <+49301119999>",'
            '"SIP/carrier-00000099","SIP/201-0000009a","Queue","support,r,,,30",'
            '"{day} 07:00:00","{day} 07:00:00","{day} 07:00:09",9,9,'
            '"NO ANSWER","DOCUMENTATION","1795330800.99","","","1795330800.99",99\n')


@pytest.fixture
def site(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'browser.db'}", CALLBACK_CLAIM_SECONDS=2)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1)
        import_files([RUN_A / "cdr-csv" / "Master.csv"], UTC)
        _shift_to_today()
        db.session.remove()
    with serving(app) as base:
        yield app, base
    with app.app_context():
        db.engine.dispose()


def _shift_to_today() -> None:
    """Move the recorded calls to today, so the default period (last 7 days) shows them, also
    after an action rebuilds an entry from its calls."""
    from datetime import timedelta

    from callback_module.models import Attempt, Call, CallLeg, EntryCall, QueueEventRow

    delta = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - datetime(
        2026, 11, 22, tzinfo=UTC)
    if delta < timedelta(0):
        delta = timedelta(0)
    for model, fields in ((Entry, ("first_call_at", "last_call_at", "closed_at", "updated_at")),
                          (EntryCall, ("at",)), (Attempt, ("at",)),
                          (Call, ("started_at", "ended_at")),
                          # the legs too: an action rebuilds the entry from them
                          (CallLeg, ("start", "answer", "end")), (QueueEventRow, ("at",))):
        for row in db.session.scalars(select(model)):
            for name in fields:
                if getattr(row, name) is not None:
                    setattr(row, name, getattr(row, name) + delta)
    Settings.load().period = "LAST_7_DAYS"
    db.session.commit()


def login(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{base}/callback/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/callback/")
    # A marker that a reload would lose: the test checks it is still there at the end.
    page.evaluate("window.__noReload = true")
    page.wait_for_function("document.querySelector('#entries') && window.htmx")
    page.wait_for_timeout(300)  # the socket is open
    return context, page


def entry_id(app, number: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Entry.id).where(Entry.number_e164 == number))
        db.session.remove()
        return found


def test_done_in_one_browser_moves_the_entry_in_the_other(site, chromium):
    app, base = site
    a_context, anna = login(chromium, base, "anna")
    b_context, ben = login(chromium, base, "ben")
    target = entry_id(app, "+49301110017")
    row_b = ben.locator(f"#entry-{target}")
    expect(row_b).to_be_visible()
    expect(ben.locator("#count-done")).to_have_text("2")
    anna.locator(f"#entry-{target} button.btn-done").click()
    expect(ben.locator("#count-done")).to_have_text("3", timeout=1000)
    expect(row_b).to_contain_text("Moved to Done", timeout=1000)
    expect(ben.locator("#count-open")).to_have_text("1")
    assert ben.evaluate("window.__noReload") is True
    a_context.close()
    b_context.close()


def test_a_missed_call_from_the_sync_appears_on_both(site, chromium, tmp_path):
    app, base = site
    a_context, anna = login(chromium, base, "anna")
    b_context, ben = login(chromium, base, "ben")
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    extra = tmp_path / "new.csv"
    extra.write_text(NEW_CALL.format(day=day))
    with app.app_context():
        import_files([extra], UTC)
        db.session.remove()
    for page in (anna, ben):
        expect(page.locator("#entry-rows")).to_contain_text("1119999", timeout=1000)
        expect(page.locator("#count-open")).to_have_text("3")
        assert page.evaluate("window.__noReload") is True
    a_context.close()
    b_context.close()


def test_a_member_of_another_group_is_refused_by_the_server(site, chromium):
    app, base = site
    context, clara = login(chromium, base, "clara")  # sales and hotline only
    target = entry_id(app, "+49301110017")  # a support entry
    assert clara.locator(f"#entry-{target}").count() == 0
    token = clara.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    response = clara.request.post(f"{base}/callback/entries/{target}/done",
                                  form={"tab": "open", "page": "1"},
                                  headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status == 403
    with app.app_context():
        assert db.session.get(Entry, target).state == "open"
        db.session.remove()
    context.close()


def test_the_list_survives_a_server_restart(tmp_path, chromium):
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    app = make_app(tmp_path, url)
    with app.app_context():
        db.create_all()
        add_fixture_profile(1, poll_interval=1)
        import_files([RUN_A / "cdr-csv" / "Master.csv"], UTC)
        _shift_to_today()
        db.session.remove()
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    port = free_port()
    with server_process(url, port, tmp_path) as base:
        context, anna = login(chromium, base, "anna")
    # The server is gone: the socket closed, and the page polls every poll interval.
    expect(anna.locator("html")).to_have_class("is-offline", timeout=3000)
    missed = tmp_path / "while-down.csv"
    missed.write_text(NEW_CALL.format(day=day))
    with app.app_context():
        import_files([missed], UTC)
        db.session.remove()
    with server_process(url, port, tmp_path):
        # Polling brings what happened while the server was down ...
        expect(anna.locator("#entry-rows")).to_contain_text("1119999", timeout=5000)
        # ... and the socket is back: the next change is pushed again.
        expect(anna.locator("html")).not_to_have_class("is-offline", timeout=5000)
        anna.wait_for_timeout(300)
        counts = anna.locator("#count-done").inner_text()
        ben = anna.context.browser.new_context().new_page()
        ben.goto(base + "/callback/login")
        ben.fill("input[name=username]", "ben")
        ben.fill("input[name=password]", "ben-pw")
        ben.click("button[type=submit]")
        target = entry_id(app, "+49301110017")
        ben.locator(f"#entry-{target} button.btn-done").click()
        expect(anna.locator(f"#entry-{target}")).to_contain_text("Moved to Done", timeout=1000)
        assert anna.locator("#count-done").inner_text() == str(int(counts) + 1)
        assert anna.evaluate("window.__noReload") is True
        ben.context.close()
    context.close()
    with app.app_context():
        db.engine.dispose()


def test_a_claim_shows_on_the_other_screen_and_expires(site, chromium):
    app, base = site  # CALLBACK_CLAIM_SECONDS is 2 in this app
    a_context, anna = login(chromium, base, "anna")
    b_context, ben = login(chromium, base, "ben")
    target = entry_id(app, "+49301110017")
    anna.locator(f"#entry-{target} button.btn-claim").click()
    claim_on_b = ben.locator(f"#entry-{target} .claim")
    expect(claim_on_b).to_contain_text("Anna Agent is calling back now", timeout=1000)
    expect(ben.locator(f"#entry-{target} button.btn-claim")).to_have_count(0)
    expect(anna.locator(f"#entry-{target} .claim")).to_contain_text("You are calling back now")
    # Two seconds later the claim has expired, and both screens say so without a reload.
    expect(claim_on_b).to_have_count(0, timeout=3500)
    expect(ben.locator(f"#entry-{target} button.btn-claim")).to_have_count(1)
    expect(anna.locator(f"#entry-{target} .claim")).to_have_count(0)
    assert ben.evaluate("window.__noReload") is True
    a_context.close()
    b_context.close()


def test_skin_and_font_size_survive_a_reload(site, chromium):
    _, base = site
    context, anna = login(chromium, base, "anna")
    html = anna.locator("html")
    expect(html).to_have_attribute("data-skin", "light")
    size_before = anna.evaluate("getComputedStyle(document.documentElement).fontSize")
    anna.locator("#view-toolbar button[name=skin]").click()
    expect(html).to_have_attribute("data-skin", "dark")
    anna.locator("#view-toolbar button[name=font][value=bigger]").click()
    anna.wait_for_timeout(300)
    anna.locator("#view-toolbar button[name=font][value=bigger]").click()
    anna.wait_for_timeout(300)
    size_after = anna.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert float(size_after[:-2]) > float(size_before[:-2])
    anna.reload()
    expect(html).to_have_attribute("data-skin", "dark")
    assert anna.evaluate("getComputedStyle(document.documentElement).fontSize") == size_after
    # And in a fresh browser: the settings are kept on the server, not in the browser.
    other_context, again = login(chromium, base, "anna")
    expect(again.locator("html")).to_have_attribute("data-skin", "dark")
    assert again.evaluate("getComputedStyle(document.documentElement).fontSize") == size_after
    context.close()
    other_context.close()
