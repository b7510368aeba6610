"""The settings of SPEC §2: one strict table of keys, types, defaults and checks.

The admin form, the settings file and the database row are all checked against this table, so a
value that one of them refuses, all of them refuse, with the same message naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers

from .i18n import N_

PERIODS = ("TODAY", "YESTERDAY", "LAST_2_DAYS", "LAST_3_DAYS", "WEEK", "LAST_7_DAYS")
DAY_PERIODS = PERIODS[:4]
GROUP_TYPES = ("queue", "ringall", "hunt")
LOG_LEVELS = ("ERROR", "WARN", "INFO", "DEBUG", "TRACE")
SETTINGS_VERSION = 1


class SettingsError(ValueError):
    """A settings value was refused; ``key`` names the setting.

    ``message`` is English; made with ``i18n.N_``, the settings form shows it translated.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Setting:
    key: str
    kind: type
    default: Any
    label: str
    help: str = ""
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()


def system_timezone() -> str:
    """The machine's IANA zone name, for the default; UTC when it cannot be told."""
    try:
        from pathlib import Path

        link = Path("/etc/localtime").resolve()
        name = str(link).split("zoneinfo/", 1)[1]
        ZoneInfo(name)
        return name
    except (IndexError, OSError, ZoneInfoNotFoundError, ValueError):
        return "UTC"


SETTINGS: tuple[Setting, ...] = (
    Setting("description", str, "", N_("Description"),
            N_("Which users and groups this instance serves.")),
    Setting("poll_interval", int, 10, N_("Poll interval (s)"),
            N_("How often the PBX is asked for new call data."), 1, 3600),
    Setting("period", str, "LAST_7_DAYS", N_("Period"),
            N_("Which entries the lists show: those with a missed call inside it."),
            choices=PERIODS),
    Setting("skip_saturdays", bool, False, N_("Skip Saturdays"),
            N_("Only for the periods “Today” to “The last 3 days”.")),
    Setting("skip_sundays", bool, False, N_("Skip Sundays"),
            N_("Only for the periods “Today” to “The last 3 days”.")),
    Setting("group_types", list, list(GROUP_TYPES), N_("Group types"),
            N_("Which kinds of PBX groups are watched."), choices=GROUP_TYPES),
    Setting("resolve_other_groups", bool, False, N_("Resolve by answers in other groups"),
            N_("An answered call of the caller in another group closes the entry.")),
    Setting("resolve_users", bool, False, N_("Resolve by answers of users"),
            N_("A call answered by a user in no group closes the entry.")),
    Setting("count_non_member_attempts", bool, False, N_("Attempts by non-members count"),
            N_("A callback by someone outside the group counts as an attempt.")),
    Setting("show_internal", bool, False, N_("Show internal calls"),
            N_("Calls from extensions of the PBX are listed.")),
    Setting("mailbox_unanswered", bool, True, N_("Mailbox counts as unanswered"),
            N_("A call that ended in voicemail is missed.")),
    Setting("min_inbound_talk", int, 0, N_("Min inbound talk (s)"),
            N_("Answered calls with less talk time count as not answered."), 0, 3600),
    Setting("min_outbound_duration", int, 0, N_("Min outbound duration (s)"),
            N_("Shorter outbound calls (ringing included) are no attempt; an answered one "
               "reaches the caller only with at least this much talk."), 0, 3600),
    Setting("not_reached_limit", int, 3, N_("Not-reached limit"),
            N_("After this many attempts the entry goes to Not reached; 0 = never."), 0, 100),
    Setting("max_entries_per_group", int, 0, N_("Max entries per group"),
            N_("0 = no limit; else the oldest open entries beyond it are closed as expired."),
            0, 100000),
    Setting("retention_days", int, 90, N_("Retention (days)"),
            N_("Closed entries and their call data are deleted after this many days."),
            1, 3650),
    Setting("log_level", str, "INFO", N_("Log level"), choices=LOG_LEVELS),
    Setting("timezone", str, "", N_("Time zone"),
            N_("The PBX's local zone, e.g. Europe/Berlin.")),
    Setting("default_region", str, "DE", N_("Default region"),
            N_("Region for national numbers, e.g. DE.")),
    Setting("outside_line_prefix", str, "", N_("Outside-line prefix"),
            N_("Digits the PBX needs before an external number, e.g. 0.")),
)
# How the form shows the choices; the settings file and the database keep the codes.
CHOICE_LABELS: dict[str, str] = {
    "TODAY": N_("Today"), "YESTERDAY": N_("Since yesterday"),
    "LAST_2_DAYS": N_("The last 2 days"), "LAST_3_DAYS": N_("The last 3 days"),
    "WEEK": N_("This week"), "LAST_7_DAYS": N_("The last 7 days"),
    "queue": N_("Queues"), "ringall": N_("Ring-all groups"), "hunt": N_("Hunt groups"),
}

BY_KEY = {s.key: s for s in SETTINGS}


def defaults() -> dict[str, Any]:
    values = {s.key: (list(s.default) if isinstance(s.default, list) else s.default)
              for s in SETTINGS}
    values["timezone"] = system_timezone()
    return values


def check_value(key: str, value: Any) -> Any:
    """Return the value in its proper type, or raise SettingsError naming the key."""
    setting = BY_KEY.get(key)
    if setting is None:
        raise SettingsError(key, N_("is not a setting"))
    if setting.kind is list:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise SettingsError(key, N_("must be a list of %(choices)s",
                                         choices=", ".join(setting.choices)))
        wrong = [v for v in value if v not in setting.choices]
        if wrong:
            raise SettingsError(key, N_("has unknown values %(values)s (allowed: %(choices)s)",
                                        values=", ".join(map(str, wrong)),
                                        choices=", ".join(setting.choices)))
        if not value:
            raise SettingsError(key, N_("needs at least one group type"))
        return [c for c in setting.choices if c in value]
    value = check_typed(setting, value)
    return _check_text(key, value) if setting.kind is str else value


def check_typed(setting: Setting, value: Any) -> Any:
    """A bool, int or text setting's value in its type, in range, among its choices (text
    stripped); SettingsError naming ``setting.key`` otherwise. Lists are the caller's."""
    key = setting.key
    if setting.kind is bool:
        if not isinstance(value, bool):
            raise SettingsError(key, N_("must be true or false, not %(value)s", value=repr(value)))
        return value
    if setting.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(key, N_("must be a whole number, not %(value)s",
                                         value=repr(value)))
        if setting.minimum is not None and value < setting.minimum:
            raise SettingsError(key, N_("must be at least %(minimum)d, not %(value)d",
                                         minimum=setting.minimum, value=value))
        if setting.maximum is not None and value > setting.maximum:
            raise SettingsError(key, N_("must be at most %(maximum)d, not %(value)d",
                                         maximum=setting.maximum, value=value))
        return value
    if not isinstance(value, str):
        raise SettingsError(key, N_("must be text, not %(value)s", value=repr(value)))
    value = value.strip()
    if setting.choices and value not in setting.choices:
        raise SettingsError(key, N_("must be one of %(choices)s, not %(value)s",
                                    choices=", ".join(setting.choices), value=repr(value)))
    return value


def _check_text(key: str, value: str) -> str:
    if key == "timezone":
        if value not in available_timezones() and value != "UTC":
            raise SettingsError(key, N_("%(value)s is not an IANA time zone (e.g. Europe/Berlin)",
                                        value=repr(value)))
    elif key == "default_region":
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise SettingsError(key, N_("%(value)s is not a region code (e.g. DE, AT, CH, US)",
                                        value=repr(value)))
    elif key == "outside_line_prefix":
        if value and not (value.isdigit() and len(value) <= 4):
            raise SettingsError(key, N_("must be up to 4 digits, or empty"))
    elif key == "description" and len(value) > 2000:
        raise SettingsError(key, N_("must be at most 2000 characters"))
    return value


def check_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Check a partial or whole mapping of settings; the first bad key raises."""
    return {key: check_value(key, value) for key, value in values.items()}
