"""The pure modules' English text, shown in the user's language (German or English).

Rules, settings and connectors import no Flask: they make English text with ``i18n.N_``, which
the database, the JSON API and the CLI keep as it is. The pages show it through these helpers.
"""

from __future__ import annotations

from flask_babel import gettext, ngettext

from .i18n import Text
from .rules.reasons import COUNTED, REASONS, parse_reason
from .settings_schema import SettingsError

# The languages of the catalog, as User.language stores them; "" follows the browser.
LANGUAGES = ("de", "en")


def translate(text: str) -> str:
    """``text`` in the user's language when it was made with ``i18n.N_``, else as it is."""
    if not isinstance(text, Text):
        return text
    args = {k: translate(v) if isinstance(v, Text) else v for k, v in text.args.items()}
    return gettext(text.template, **args)


def closed_reason(stored: str | None) -> str:
    """A stored ``closed_reason`` ("reached by 202") in the user's language."""
    found = parse_reason(stored) if stored else None
    if found is None:
        return stored or ""
    code, args = found
    if code in COUNTED:
        singular, plural = COUNTED[code]
        return ngettext(singular, plural, args.pop("num"), **args)
    return gettext(REASONS[code], **args)


def settings_error(exc: SettingsError) -> str:
    """The message next to a settings field: the key, as the settings file names it, and why."""
    return f"{exc.key}: {translate(exc.message)}"
