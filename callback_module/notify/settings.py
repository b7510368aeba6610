"""The notification and mail settings: one strict table, like the settings of SPEC §2.

The admin form, the settings file (sections ``notifications:`` and ``mail:``) and the stored row
are checked against it; a bad value is refused with a message naming the key. The mail
password is accepted everywhere but never shown back or exported.
"""

from __future__ import annotations

from typing import Any

from .. import numbers
from ..i18n import N_
from ..settings_schema import Setting, SettingsError, check_typed
from .mail import check_link_prefix
from .rules import RECIPIENT_MODES, NotifyPolicy
from .smtp import SECURITY

NOTIFY_SETTINGS: tuple[Setting, ...] = (
    Setting("recipients", str, "none", N_("Who is told of a missed call"),
            N_("Among the members whose phones rang; each person once per call."),
            choices=RECIPIENT_MODES),
    Setting("third_party_answered", bool, False, N_("Also when a third party answered"),
            N_("E.g. a colleague picked the call up: those whose phones rang are told.")),
    Setting("reply_to_caller", bool, True, N_("Caller's e-mail as Reply-To"),
            N_("When the address book knows it.")),
    Setting("attach_vcard", bool, True, N_("Attach the caller's vCard"),
            N_("When the address book knows the caller.")),
    Setting("link_prefix", str, "tel:", N_("Phone number links"),
            N_("tel:, phone:, callto:, your own prefix (at most 9 characters and a colon), or "
               "empty for plain text.")),
    Setting("skip_internal", bool, True, N_("Not for internal callers")),
    Setting("skip_withheld", bool, True, N_("Not for withheld numbers")),
    Setting("skip_no_contact", bool, False, N_("Not for callers with no known contact")),
    Setting("skip_repeat_same_day", bool, False, N_("Not for a repeated call the same day")),
    Setting("skip_repeat_not_logged_in", bool, False,
            N_("Not for a repeated call while the user has not logged in since")),
    Setting("skip_short_ring", bool, True, N_("Not when it rang less than 2 seconds")),
    Setting("excluded_numbers", list, [], N_("Never for these numbers"),
            N_("E.g. door phones: one number or extension per line.")),
    Setting("language", str, "en", N_("Language of the mails"),
            N_("For users who have not chosen a language of their own."),
            choices=("de", "en")),
    Setting("hold_seconds", int, 10, N_("Wait after the call (s)"),
            N_("A call answered a moment later elsewhere then sends nothing."), 0, 600),
    Setting("mask_numbers", bool, False, N_("Mask numbers in webhooks"),
            N_("Webhooks show only the last 4 digits of the caller's number.")),
)
MAIL_SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "", N_("SMTP server"), N_("Empty: no mail is sent.")),
    Setting("port", int, 587, N_("Port"), minimum=1, maximum=65535),
    Setting("security", str, "starttls", N_("Security"), choices=SECURITY),
    Setting("username", str, "", N_("User name"), N_("Empty: no login.")),
    Setting("password", str, "", N_("Password"), N_("Leave empty to keep the stored one.")),
    Setting("sender", str, "", N_("Sender address"), N_("e.g. callback@example.org")),
    Setting("timeout", int, 20, N_("Timeout (s)"), minimum=1, maximum=300),
)
SECTIONS = {"notifications": NOTIFY_SETTINGS, "mail": MAIL_SETTINGS}
SECRETS = {("mail", "password")}


def defaults(section: str) -> dict[str, Any]:
    return {s.key: (list(s.default) if isinstance(s.default, list) else s.default)
            for s in SECTIONS[section]}


def check(section: str, key: str, value: Any) -> Any:
    """``value`` in its proper type, or SettingsError naming ``section.key``."""
    by_key = {s.key: s for s in SECTIONS[section]}
    setting = by_key.get(key)
    name = f"{section}.{key}"
    if setting is None:
        raise SettingsError(name, N_("is not a setting"))
    try:
        return _check(setting, value)
    except SettingsError as exc:
        raise SettingsError(name, exc.message) from None


def _check(setting: Setting, value: Any) -> Any:
    key = setting.key
    if setting.kind is list:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str | int) for v in value):
            raise SettingsError(key, N_("must be a list of numbers"))
        cleaned = [numbers.clean(str(v)) for v in value if str(v).strip()]
        bad = [v for v in cleaned if not v.lstrip("+").isdigit()]
        if bad:
            raise SettingsError(key, N_("%(value)s is not a phone number or extension",
                                        value=repr(bad[0])))
        return list(dict.fromkeys(cleaned))
    value = check_typed(setting, value)
    if key == "link_prefix":
        try:
            return check_link_prefix(value)
        except ValueError as exc:
            raise SettingsError(key, str(exc.args[0])) from None
    if key == "sender" and value and ("@" not in value or any(c in value for c in "\r\n")):
        raise SettingsError(key, N_("must be an e-mail address"))
    if key == "host" and any(c.isspace() for c in value):
        raise SettingsError(key, N_("must be a host name or address"))
    return value


def check_section(section: str, values: dict[str, Any]) -> dict[str, Any]:
    return {key: check(section, key, value) for key, value in values.items()}


def policy_of(values: dict[str, Any], region: str) -> NotifyPolicy:
    """The rules' policy from the stored notification settings."""
    excluded = frozenset(numbers.party_key(n, region) for n in values.get("excluded_numbers", []))
    return NotifyPolicy(
        recipients=values["recipients"], third_party_answered=values["third_party_answered"],
        skip_internal=values["skip_internal"], skip_withheld=values["skip_withheld"],
        skip_no_contact=values["skip_no_contact"],
        skip_repeat_same_day=values["skip_repeat_same_day"],
        skip_repeat_not_logged_in=values["skip_repeat_not_logged_in"],
        skip_short_ring=values["skip_short_ring"], excluded=excluded)


# What the timeline says for each rule that kept a notification from going out.
RULE_LABELS = {
    "not_opted_in": N_("the user has not asked for these mails"),
    "no_email": N_("the user has no e-mail address"),
    "internal": N_("an internal caller"),
    "withheld": N_("the number was withheld"),
    "excluded": N_("the number is on the exclusion list"),
    "short_ring": N_("it rang less than 2 seconds"),
    "no_contact": N_("the caller is not in the address book"),
    "repeat_same_day": N_("the caller called before today"),
    "repeat_not_logged_in": N_("the caller called before and the user has not been back since"),
    "answered_meanwhile": N_("the call was answered after all"),
    "closed_meanwhile": N_("the entry was closed meanwhile"),
    "call_gone": N_("the call is no longer stored"),
    "recipients_none": N_("notifications were switched off meanwhile"),
    "not_chosen": N_("the rules no longer pick this person (e.g. another member rang last)"),
}
