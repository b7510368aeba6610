"""``make screenshots``: the list as an agent sees it, light and dark, from the demo PBX.

Writes docs/list-light.png, docs/list-dark.png and docs/list-phone.png (shown in the README).
Uses Debian's Chromium, as the browser tests do.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import select

from callback_module import create_app
from callback_module.demo_setup import setup_demo
from callback_module.extensions import db
from callback_module.models import Group, User
from callback_module.sync import run_sync

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))
from browser import FLAGS, ensure_chromium  # noqa: E402
from live_server import serving  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shots.db",
                          "SECRET_KEY": "screenshots", "CALLBACK_LOG_FILE": f"{tmp}/log"},
                         instance_path=f"{tmp}/instance")
        with app.app_context():
            db.create_all()
            setup_demo()
            clara = db.session.scalar(select(User).where(User.username == "clara"))
            clara.set_password("screenshots")
            for group in db.session.scalars(select(Group)):
                group.target_minutes = 45
            db.session.commit()
            run_sync("screenshots")
            db.session.remove()
        with serving(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=ensure_chromium(), args=FLAGS)
            for name, skin, viewport in (("list-light", "light", (1280, 800)),
                                         ("list-dark", "dark", (1280, 800)),
                                         ("list-phone", "light", (390, 844))):
                page = browser.new_context(viewport={"width": viewport[0],
                                                     "height": viewport[1]}).new_page()
                page.goto(f"{base}/callback/login")
                page.fill("input[name=username]", "clara")
                page.fill("input[name=password]", "screenshots")
                page.click("button[type=submit]")
                page.wait_for_selector("#entries")
                if page.locator("html").get_attribute("data-skin") != skin:
                    page.locator("#view-toolbar button[name=skin]").click()
                    page.wait_for_function(f"document.documentElement.dataset.skin == '{skin}'")
                page.wait_for_timeout(400)
                page.screenshot(path=str(DOCS / f"{name}.png"))
                page.context.close()
            browser.close()
    print("written: docs/list-light.png, docs/list-dark.png, docs/list-phone.png")


if __name__ == "__main__":
    main()
