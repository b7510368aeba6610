"""Phone numbers: one caller, however the PBX wrote the number (SPEC §4 "same caller")."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "withheld", "private",
                      "unavailable", "<unknown>", "none"})
_DIALABLE = re.compile(r"^\+?[0-9]+$")


def is_withheld(number: str | None) -> bool:
    return (number or "").strip().lower() in WITHHELD


def clean(number: str) -> str:
    """Drop the spacing and punctuation people and PBXes put into numbers."""
    return re.sub(r"[\s\-/().]", "", number or "")


@lru_cache(maxsize=65536)
def to_e164(number: str, region: str, outside_prefix: str = "") -> str | None:
    """E.164 form of a number, or None when it is no possible public number.

    ``outside_prefix`` is removed once from the front first; only numbers dialled out carry it,
    so callers of this function pass it for outbound numbers and never for inbound callers.
    """
    digits = clean(number)
    if outside_prefix and digits.startswith(outside_prefix) and len(digits) > len(outside_prefix):
        digits = digits[len(outside_prefix):]
    if not _DIALABLE.match(digits):
        return None
    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def party_key(number: str, region: str, outside_prefix: str = "") -> str:
    """The key that makes 0301110003, +49301110003 and 0049301110003 one caller."""
    e164 = to_e164(number, region, outside_prefix)
    return e164 if e164 else "raw:" + clean(number)


def display(number: str, e164: str | None, region: str) -> str:
    """How the list shows a number: national form for the home region, else international."""
    if not e164:
        return number
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return number
    if phonenumbers.region_code_for_number(parsed) == region.upper():
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def dial_string(e164: str, region: str, outside_prefix: str = "") -> str:
    """What the PBX dials to reach a number: national digits at home, 00… abroad, plus prefix."""
    parsed = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(parsed) == region.upper():
        digits = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    else:
        digits = phonenumbers.format_out_of_country_calling_number(parsed, region.upper())
    return outside_prefix + clean(digits)
