"""Phone numbers (SPEC §4 "same caller", §2 outside-line prefix): one caller, however written."""

from __future__ import annotations

import pytest

from callback_module import numbers

S10_CALLER = "+49301110003"


@pytest.mark.parametrize("written", [
    pytest.param("0301110003", id="national-S10a"),
    pytest.param("+49301110003", id="e164-S10b"),
    pytest.param("0049301110003", id="00-international"),
    pytest.param("030 111 0003", id="with-spaces"),
    pytest.param("030/111-0003", id="with-punctuation"),
    pytest.param("(030) 1110003", id="with-brackets"),
])
def test_one_caller_however_written_has_one_party_key(written):
    assert numbers.to_e164(written, "DE") == S10_CALLER
    assert numbers.party_key(written, "DE") == S10_CALLER


def test_the_default_region_decides_what_a_national_number_means():
    assert numbers.party_key("0301110003", "DE") == "+49301110003"
    assert numbers.party_key("012345678", "AT") == "+4312345678"
    assert numbers.party_key("+4312345678", "DE") == numbers.party_key("012345678", "AT")


def test_different_callers_have_different_keys():
    assert numbers.party_key("0301110003", "DE") != numbers.party_key("0301110004", "DE")


@pytest.mark.parametrize(("dialled", "prefix", "expected"), [
    pytest.param("00301110003", "0", "+49301110003", id="prefix-then-national"),
    pytest.param("0+49301110003", "0", "+49301110003", id="prefix-then-plus"),
    pytest.param("000049301110003", "00", "+49301110003", id="two-digit-prefix-then-00"),
    pytest.param("0049301110003", "0", "+4949301110003", id="prefix-removed-once-only"),
    pytest.param("+49301110003", "0", "+49301110003", id="no-prefix-in-front"),
    pytest.param("0049301110003", "", "+49301110003", id="no-prefix-configured"),
    pytest.param("9030 1110003", "9", "+49301110003", id="prefix-9-with-spacing"),
])
def test_outside_line_prefix_is_removed_once_from_dialled_numbers(dialled, prefix, expected):
    assert numbers.to_e164(dialled, "DE", prefix) == expected
    assert numbers.party_key(dialled, "DE", prefix) == expected


def test_the_prefix_alone_is_not_stripped_to_nothing():
    assert numbers.party_key("0", "DE", "0") == "raw:0"


def test_inbound_callers_are_never_stripped():
    # Callers of to_e164 pass the prefix for dialled numbers only: an inbound caller written
    # 00301110003 is a call from abroad (or garbage), never the local +49301110003.
    inbound = numbers.party_key("00301110003", "DE")
    assert inbound != "+49301110003"
    assert numbers.party_key("00301110003", "DE", "0") == "+49301110003"


@pytest.mark.parametrize("value", [
    "anonymous", "Anonymous", "ANONYMOUS", "restricted", "Restricted", "", "   ", "Unknown",
    "unknown", "<unknown>", "withheld", "private", "unavailable", None,
])
def test_withheld_values(value):
    assert numbers.is_withheld(value)


@pytest.mark.parametrize("value", ["0301110003", "+49301110003", "201", "anonymous1"])
def test_real_numbers_are_not_withheld(value):
    assert not numbers.is_withheld(value)


@pytest.mark.parametrize("value", ["anonymous", "restricted", "", "Unknown"])
def test_withheld_values_have_no_e164(value):
    assert numbers.to_e164(value, "DE") is None


@pytest.mark.parametrize(("number", "e164", "region", "shown"), [
    pytest.param("+49301110003", "+49301110003", "DE", "030 1110003", id="home-national"),
    pytest.param("0049301110003", "+49301110003", "de", "030 1110003",
                 id="home-region-lower-case"),
    pytest.param("+4312345678", "+4312345678", "DE", "+43 1 2345678", id="abroad-international"),
    pytest.param("+4312345678", "+4312345678", "AT", "01 2345678", id="home-is-austria"),
    pytest.param("+49301110003", "+49301110003", "AT", "+49 30 1110003", id="germany-from-at"),
    pytest.param("anonymous", None, "DE", "anonymous", id="no-e164-shown-as-written"),
    pytest.param("**21#", None, "DE", "**21#", id="service-code-as-written"),
])
def test_display(number, e164, region, shown):
    assert numbers.display(number, e164, region) == shown


@pytest.mark.parametrize(("e164", "region", "prefix", "dialled"), [
    pytest.param("+49301110003", "DE", "", "0301110003", id="home-national"),
    pytest.param("+49301110003", "DE", "0", "00301110003", id="home-with-prefix"),
    pytest.param("+4312345678", "DE", "", "004312345678", id="abroad-00"),
    pytest.param("+4312345678", "DE", "0", "0004312345678", id="abroad-with-prefix"),
    pytest.param("+14155550123", "DE", "", "0014155550123", id="usa-from-germany"),
    pytest.param("+491701234567", "DE", "9", "901701234567", id="mobile-prefix-9"),
])
def test_dial_string(e164, region, prefix, dialled):
    assert numbers.dial_string(e164, region, prefix) == dialled


@pytest.mark.parametrize("e164", ["+49301110003", "+4312345678", "+14155550123",
                                  "+491701234567", "+442079460958"])
@pytest.mark.parametrize("region", ["DE", "AT", "US"])
@pytest.mark.parametrize("prefix", ["", "0", "9"])
def test_dial_string_round_trips(e164, region, prefix):
    dialled = numbers.dial_string(e164, region, prefix)
    assert dialled.startswith(prefix)
    assert numbers.to_e164(dialled, region, prefix) == e164
