"""The JSON API: entries as the CLI gives them, the returning-caller lookup, and its guards."""

from __future__ import annotations

from test_views_lists import login, run_a  # noqa: F401 (fixture)


def test_entries_need_a_login(client):
    response = client.get("/callback/api/entries")
    assert response.status_code == 401 and response.is_json


def test_entries_of_the_users_groups_in_the_spec_shape(client, run_a):
    login(client, "anna")
    entries = client.get("/callback/api/entries?period=all").get_json()
    assert {e["group"] for e in entries} == {"support"}
    s01 = next(e for e in entries if e["number_e164"] == "+49301110001")
    assert (s01["state"], s01["count"], len(s01["attempts"])) == ("done", 1, 3)
    assert s01["closed_reason"] == "reached by 202"
    open_only = client.get("/callback/api/entries?state=open&group=support&period=all")
    assert {e["state"] for e in open_only.get_json()} == {"open"}


def test_a_group_the_user_may_not_see_is_refused(client, run_a):
    login(client, "anna")
    assert client.get("/callback/api/entries?group=sales").status_code == 404
    assert client.get("/callback/api/entries?state=lost").status_code == 400
    assert client.get("/callback/api/entries?period=FORTNIGHT").status_code == 400


def test_lookup_tells_the_dialplan_about_a_returning_caller(client, run_a):
    login(client, "admin")
    known = client.get("/callback/api/lookup?number=0301110017").get_json()
    assert known["number_e164"] == "+49301110017" and known["open"] is True
    assert known["entries"][0]["group"] == "support"
    hotline = client.get("/callback/api/lookup?number=%2B49301110003").get_json()
    assert hotline["open"] is True and [e["group"] for e in hotline["entries"]] == ["sales"]
    assert hotline["last_attempt_by"] is None  # S10c counted only for support, now done
    done = client.get("/callback/api/lookup?number=0049301110005").get_json()
    assert done["open"] is False and done["entries"] == []
    assert client.get("/callback/api/lookup?number=anonymous").status_code == 400
    assert client.get("/callback/api/lookup?number=hello").status_code == 400
