"""The module log page: last lines by level, htmx refresh, download, and the log level."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from callback_module import logs
from callback_module.extensions import db
from callback_module.models import Settings

from conftest import add_fixture_profile

LOG = "/callback/admin/log"
LINES = [
    "2026-11-22 06:00:00,001 INFO callback.sync: sync started",
    "2026-11-22 06:00:01,002 DEBUG callback.sync: 12 new CDR rows",
    "2026-11-22 06:00:02,003 WARNING callback.connectors.ami: reconnecting",
    "2026-11-22 06:00:03,004 ERROR callback.sync: PBX gone <script>alert(1)</script>",
    "Traceback (most recent call last):",
    "2026-11-22 06:00:04,005 TRACE callback.connectors.ami: Event: Hangup",
]


@pytest.fixture
def log_file(app) -> Path:
    add_fixture_profile(1)
    path = Path(app.config["CALLBACK_LOG_FILE"])
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    yield path
    logs.set_level("INFO")  # the logger is the process's: leave it as it was


def login(client, username: str) -> None:
    response = client.post("/callback/login",
                           data={"username": username, "password": f"{username}-pw"})
    assert response.status_code == 302


def shown(html: str) -> list[str]:
    return re.findall(r'<span class="log-line [^"]+">(.*?)</span>', html)


def test_agents_get_403(client, log_file):
    login(client, "anna")
    assert client.get(LOG).status_code == 403
    assert client.get(f"{LOG}/download").status_code == 403
    assert client.post(f"{LOG}/level", data={"log_level": "TRACE"}).status_code == 403
    assert Settings.load().log_level == "INFO"


def test_needs_a_login(client, log_file):
    response = client.get(f"{LOG}/download")
    assert response.status_code == 302 and "/callback/login" in response.headers["Location"]


def test_shows_every_line_oldest_first_escaped(client, log_file):
    login(client, "admin")
    html = client.get(LOG).get_data(as_text=True)
    lines = shown(html)
    assert lines[:6] == [line.replace("<", "&lt;").replace(">", "&gt;") for line in LINES]
    assert "<script>alert(1)" not in html
    assert '<span class="log-line log-error">' in html
    assert '<option value="TRACE" selected>' in html


def test_level_filter_shows_that_level_and_above(client, log_file):
    login(client, "admin")
    lines = shown(client.get(f"{LOG}?level=WARN").get_data(as_text=True))
    assert [line.split(" ")[2] for line in lines[:2]] == ["WARNING", "ERROR"]
    assert lines[2] == "Traceback (most recent call last):"  # goes with the line before
    assert not any(" INFO " in line or " DEBUG " in line or " TRACE " in line
                   for line in lines)
    assert len(shown(client.get(f"{LOG}?level=ERROR").get_data(as_text=True))) == 2


def test_refresh_by_htmx_swaps_only_the_lines(client, log_file):
    login(client, "admin")
    page = client.get(LOG).get_data(as_text=True)
    assert 'hx-target="#log-lines"' in page and "Refresh" in page
    with log_file.open("a", encoding="utf-8") as handle:
        handle.write("2026-11-22 06:00:09,000 ERROR callback.sync: a new line\n")
    response = client.get(f"{LOG}?level=ERROR", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.startswith('<section id="log-lines"') and "<html" not in html
    assert "HX-Request" in response.headers["Vary"]
    assert shown(html)[-1].endswith("a new line")


def test_download_is_the_whole_file(client, log_file):
    with log_file.open("a", encoding="utf-8") as handle:
        handle.writelines(f"2026-11-22 07:00:00,000 INFO callback.sync: line {i}\n"
                          for i in range(600))
    login(client, "admin")
    assert len(shown(client.get(LOG).get_data(as_text=True))) == 500
    response = client.get(f"{LOG}/download")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == "attachment; filename=callback.log"
    body = response.get_data(as_text=True)
    assert body.startswith(LINES[0]) and "line 0\n" in body and "line 599\n" in body
    response.close()


def test_set_log_level(client, log_file):
    login(client, "admin")
    response = client.post(f"{LOG}/level", data={"log_level": "DEBUG"})
    assert response.status_code == 302 and response.headers["Location"] == LOG
    db.session.expire_all()
    assert Settings.load().log_level == "DEBUG"
    assert logging.getLogger("callback").level == logging.DEBUG
    html = client.get(LOG).get_data(as_text=True)
    assert "Log level set to DEBUG." in html
    assert "settings changed by admin: log_level &#39;INFO&#39; -&gt; &#39;DEBUG&#39;" in html


def test_unknown_log_level_is_refused(client, log_file):
    login(client, "admin")
    response = client.post(f"{LOG}/level", data={"log_level": "LOUD"})
    assert response.status_code == 422
    assert "Not a valid choice." in response.get_data(as_text=True)
    db.session.expire_all()
    assert Settings.load().log_level == "INFO"


def test_without_a_log_file(client, app, log_file):
    app.config["CALLBACK_LOG_FILE"] = None
    login(client, "admin")
    assert "set CALLBACK_LOG_FILE" in client.get(LOG).get_data(as_text=True)
    response = client.get(f"{LOG}/download")
    assert response.status_code == 200 and response.get_data() == b""
