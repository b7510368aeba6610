"""Click-to-dial: the PBX rings the agent's own extension, then the caller's number (SPEC §3).

Placing the call claims the entry for the agent, so everyone sees who is calling. Nothing here
writes an attempt: the call comes back from the PBX through the sync like any other, and the
rules decide what it means. The attempt id goes to the PBX as the new channel's id (Asterisk's
ChannelId), so the call's records carry it as uniqueid and linkedid.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

from flask_babel import gettext as _

from . import claims
from .actions import ActionRefused, may_act
from .connectors.base import ATTEMPT_ID_PREFIX, ConnectorError, OriginateResult
from .connectors.registry import get_connector_class
from .models import OPEN_STATES, ConnectorConfig, Entry, Settings, User
from .numbers import dial_string
from .sync import build_connector

log = logging.getLogger("callback.dial")


def new_attempt_id(now: datetime | None = None) -> str:
    """Unique, at most 32 characters (FreePBX's cdr.uniqueid), shaped like an Asterisk uniqueid
    with a system name, so every CDR parser takes it for one."""
    epoch = int((now or datetime.now(UTC)).timestamp())
    return f"{ATTEMPT_ID_PREFIX}{epoch}.{secrets.randbelow(10**8):08d}"


def connector_can_dial() -> bool:
    """Can the active connector place calls at all? (The lists offer Call only then.)"""
    try:
        return get_connector_class(ConnectorConfig.load().type).can_originate
    except KeyError:
        return False


def check_callable(entry: Entry, user: User) -> None:
    """Raise ActionRefused with the reason when ``user`` cannot call ``entry`` back now."""
    if not may_act(user, entry):
        raise ActionRefused(_("Only members of the group and admins may act on this entry."))
    if entry.anonymous or not entry.number_e164:
        raise ActionRefused(_("This caller's number is withheld or not dialable."))
    if entry.state not in OPEN_STATES:
        raise ActionRefused(_("This entry is closed; reopen it to call back."))
    if not user.extension:
        raise ActionRefused(_("Set your extension first: the PBX rings your phone, then the "
                              "caller. Ask an admin to enter it in your user account."))
    if not connector_can_dial():
        raise ActionRefused(_("The connected PBX cannot place calls from here."))


def place_call(entry: Entry, user: User) -> OriginateResult:
    """Claim ``entry`` for ``user`` and ask the PBX to call; the claim is given up on failure."""
    check_callable(entry, user)
    settings = Settings.load()
    number = dial_string(entry.number_e164 or "", settings.default_region or "DE",
                         settings.outside_line_prefix or "")
    attempt_id = new_attempt_id()
    claims.claim(entry, user, data={"call": attempt_id, "number": number})
    try:
        result = build_connector().originate(user.extension, number, attempt_id)
    except ConnectorError as exc:
        result = OriginateResult(False, exc.message)  # still translatable
    except OSError as exc:
        result = OriginateResult(False, str(exc))
    log.info("click-to-dial %s: %s for %s to %s: %s", attempt_id, "ok" if result.ok else
             "failed", user.extension, number, result.message)
    if not result.ok:
        claims.release(entry, user)  # nobody is calling after all
    return result
