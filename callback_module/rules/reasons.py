"""Why an entry was closed, in the words stored in ``closed_reason`` (SPEC §4).

The stored text is English and the JSON API and the CLI return it as it is ("reached by 202").
Each reason is a template with named arguments: ``reason()`` fills one in for the rules, and
``parse_reason()`` reads a stored text back into its template's code and arguments, so the view
layer can show it in the user's language (``language.closed_reason``).
"""

from __future__ import annotations

import re
from typing import Any

from ..i18n import N_, NP_

# Longer templates first: "answered by 201 in support" must not read as who="201 in support".
REASONS: dict[str, str] = {
    "voicemail_in": N_("answered by voicemail in %(group)s"),
    "voicemail": N_("answered by voicemail"),
    "answered_in": N_("answered by %(who)s in %(group)s"),
    "answered": N_("answered by %(who)s"),
    "reached": N_("reached by %(who)s"),
    "wrong_number": N_("wrong number (said %(who)s)"),
    "marked_done": N_("marked done by %(who)s"),
    "marked_not_reached": N_("marked not reached by %(who)s"),
    "expired": N_("expired"),
}
# Reasons with a count: the stored English always takes the plural form, as it always has
# ("not reached after 1 attempts"); the view layer picks the form the count needs.
COUNTED: dict[str, tuple[str, str]] = {
    "not_reached": NP_("not reached after %(num)d attempt", "not reached after %(num)d attempts"),
}
_ARGUMENT = re.compile(r"%\((\w+)\)([sd])")


def reason(code: str, **args: Any) -> str:
    """The English text of reason ``code`` with ``args``, as it is stored."""
    template = COUNTED[code][1] if code in COUNTED else REASONS[code]
    return template % args


def _pattern(template: str) -> re.Pattern[str]:
    parts, end = [], 0
    for match in _ARGUMENT.finditer(template):
        parts.append(re.escape(template[end:match.start()]))
        name, kind = match.groups()
        parts.append(rf"(?P<{name}>\d+)" if kind == "d" else rf"(?P<{name}>.+?)")
        end = match.end()
    parts.append(re.escape(template[end:]))
    return re.compile("".join(parts))


_PATTERNS = [(code, _pattern(template), template) for code, template in
             [*REASONS.items(), *((code, pair[1]) for code, pair in COUNTED.items())]]


def parse_reason(text: str) -> tuple[str, dict[str, Any]] | None:
    """The code and arguments of a stored reason; None for a text no template makes."""
    for code, pattern, template in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            args: dict[str, Any] = match.groupdict()
            for name, kind in _ARGUMENT.findall(template):
                if kind == "d":
                    args[name] = int(args[name])
            return code, args
    return None
