"""The ``notifications:`` and ``mail:`` sections of the settings file (SPEC §8).

Checked whole like the rest of the file: a bad key refuses the file, naming it. The mail
password is accepted on import and never exported; an export read back keeps the stored one.
"""

from __future__ import annotations

from typing import Any

from ..models import NotifySettings
from ..settings_schema import SettingsError
from .settings import SECRETS, SECTIONS, check_section


def export_sections() -> dict[str, dict[str, Any]]:
    row = NotifySettings.load()
    return {section: {key: value for key, value in row.values(section).items()
                      if (section, key) not in SECRETS}
            for section in SECTIONS}


def check_sections(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    plan = {}
    for section in SECTIONS:
        if section not in data:
            continue
        values = data[section] or {}
        if not isinstance(values, dict):
            raise SettingsError(section, "must be a mapping of setting keys to values")
        plan[section] = check_section(section, {str(k): v for k, v in values.items()})
    return plan


def apply_sections(plan: dict[str, dict[str, Any]]) -> None:
    row = NotifySettings.load()
    for section, values in plan.items():
        values = {k: v for k, v in values.items()
                  if not ((section, k) in SECRETS and v in ("", "***"))}
        row.update(section, values)
