"""Closing reasons: the English text the rules store, and reading it back for translation."""

from __future__ import annotations

import pytest

from callback_module.rules.reasons import COUNTED, REASONS, parse_reason, reason

CASES = [
    ("answered", {"who": "201"}, "answered by 201"),
    ("answered_in", {"who": "201", "group": "support"}, "answered by 201 in support"),
    ("answered_in", {"who": "201", "group": "sales in Berlin"},
     "answered by 201 in sales in Berlin"),
    ("voicemail", {}, "answered by voicemail"),
    ("voicemail_in", {"group": "support"}, "answered by voicemail in support"),
    ("reached", {"who": "202"}, "reached by 202"),
    ("wrong_number", {"who": "202"}, "wrong number (said 202)"),
    ("marked_done", {"who": "Anna Agent"}, "marked done by Anna Agent"),
    ("marked_not_reached", {"who": "Anna Agent"}, "marked not reached by Anna Agent"),
    ("expired", {}, "expired"),
    ("not_reached", {"num": 3}, "not reached after 3 attempts"),
    # The stored English keeps the plural form it always had; the pages pick the right one.
    ("not_reached", {"num": 1}, "not reached after 1 attempts"),
]


@pytest.mark.parametrize(("code", "args", "text"), CASES, ids=[text for *_, text in CASES])
def test_reason_text_and_back(code, args, text):
    assert reason(code, **args) == text
    assert parse_reason(text) == (code, args)


def test_every_reason_is_in_the_table():
    assert set(REASONS) | set(COUNTED) == {code for code, *_ in CASES}


@pytest.mark.parametrize("text", ["", "closed by the admin", "reached by",
                                  "not reached after many attempts"])
def test_other_text_is_no_reason(text):
    assert parse_reason(text) is None
