"""The settings of SPEC §2: one strict table of keys, types, defaults and checks.

The admin form, the settings file and the database row are all checked against this table, so a
value that one of them refuses, all of them refuse, with the same message naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers

PERIODS = ("TODAY", "YESTERDAY", "LAST_2_DAYS", "LAST_3_DAYS", "WEEK", "LAST_7_DAYS")
DAY_PERIODS = PERIODS[:4]
GROUP_TYPES = ("queue", "ringall", "hunt")
LOG_LEVELS = ("ERROR", "WARN", "INFO", "DEBUG", "TRACE")
SETTINGS_VERSION = 1


class SettingsError(ValueError):
    """A settings value was refused; ``key`` names the setting."""

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
    Setting("description", str, "", "Description",
            "Which users and groups this instance serves."),
    Setting("poll_interval", int, 10, "Poll interval (s)",
            "How often the PBX is asked for new call data.", 1, 3600),
    Setting("period", str, "LAST_7_DAYS", "Period",
            "Which entries the lists show: those with a missed call inside it.", choices=PERIODS),
    Setting("skip_saturdays", bool, False, "Skip Saturdays", "Only for TODAY to LAST_3_DAYS."),
    Setting("skip_sundays", bool, False, "Skip Sundays", "Only for TODAY to LAST_3_DAYS."),
    Setting("group_types", list, list(GROUP_TYPES), "Group types",
            "Which kinds of PBX groups are watched.", choices=GROUP_TYPES),
    Setting("resolve_other_groups", bool, False, "Resolve by answers in other groups",
            "An answered call of the caller in another group closes the entry."),
    Setting("resolve_users", bool, False, "Resolve by answers of users",
            "A call answered by a user in no group closes the entry."),
    Setting("count_non_member_attempts", bool, False, "Attempts by non-members count",
            "A callback by someone outside the group counts as an attempt."),
    Setting("show_internal", bool, False, "Show internal calls",
            "Calls from extensions of the PBX are listed."),
    Setting("mailbox_unanswered", bool, True, "Mailbox counts as unanswered",
            "A call that ended in voicemail is missed."),
    Setting("min_inbound_talk", int, 0, "Min inbound talk (s)",
            "Answered calls with less talk time count as not answered.", 0, 3600),
    Setting("min_outbound_duration", int, 0, "Min outbound duration (s)",
            "Shorter outbound calls (ringing included) are no attempt; an answered one "
            "reaches the caller only with at least this much talk.", 0, 3600),
    Setting("not_reached_limit", int, 3, "Not-reached limit",
            "After this many attempts the entry goes to Not reached; 0 = never.", 0, 100),
    Setting("max_entries_per_group", int, 0, "Max entries per group",
            "0 = no limit; else the oldest open entries beyond it are closed as expired.",
            0, 100000),
    Setting("retention_days", int, 90, "Retention (days)",
            "Closed entries and their call data are deleted after this many days.", 1, 3650),
    Setting("log_level", str, "INFO", "Log level", choices=LOG_LEVELS),
    Setting("timezone", str, "", "Time zone", "The PBX's local zone, e.g. Europe/Berlin."),
    Setting("default_region", str, "DE", "Default region",
            "Region for national numbers, e.g. DE."),
    Setting("outside_line_prefix", str, "", "Outside-line prefix",
            "Digits the PBX needs before an external number, e.g. 0."),
)

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
        raise SettingsError(key, "is not a setting")
    if setting.kind is bool:
        if not isinstance(value, bool):
            raise SettingsError(key, f"must be true or false, not {value!r}")
        return value
    if setting.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(key, f"must be a whole number, not {value!r}")
        if setting.minimum is not None and value < setting.minimum:
            raise SettingsError(key, f"must be at least {setting.minimum}, not {value}")
        if setting.maximum is not None and value > setting.maximum:
            raise SettingsError(key, f"must be at most {setting.maximum}, not {value}")
        return value
    if setting.kind is list:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise SettingsError(key, f"must be a list of {', '.join(setting.choices)}")
        wrong = [v for v in value if v not in setting.choices]
        if wrong:
            raise SettingsError(key, f"has unknown values {', '.join(map(str, wrong))} "
                                     f"(allowed: {', '.join(setting.choices)})")
        if not value:
            raise SettingsError(key, "needs at least one group type")
        return [c for c in setting.choices if c in value]
    if not isinstance(value, str):
        raise SettingsError(key, f"must be text, not {value!r}")
    value = value.strip()
    if setting.choices and value not in setting.choices:
        raise SettingsError(key, f"must be one of {', '.join(setting.choices)}, not {value!r}")
    return _check_text(key, value)


def _check_text(key: str, value: str) -> str:
    if key == "timezone":
        if value not in available_timezones() and value != "UTC":
            raise SettingsError(key, f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)")
    elif key == "default_region":
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise SettingsError(key, f"{value!r} is not a region code (e.g. DE, AT, CH, US)")
    elif key == "outside_line_prefix":
        if value and not (value.isdigit() and len(value) <= 4):
            raise SettingsError(key, "must be up to 4 digits, or empty")
    elif key == "description" and len(value) > 2000:
        raise SettingsError(key, "must be at most 2000 characters")
    return value


def check_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Check a partial or whole mapping of settings; the first bad key raises."""
    return {key: check_value(key, value) for key, value in values.items()}
