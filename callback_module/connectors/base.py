"""The connector interface: how Callback reads a PBX (SPEC §9).

A connector is a small declarative class: a ``name`` and ``label``, the settings it needs
(``fields``; the ones in ``secret_fields`` are never echoed back into a form or a log),
``check_status()`` and ``fetch(cursor)``. ``fetch`` returns only what is new since the cursor,
as normalized legs and queue events, plus the cursor to store for next time; the sync turns them
into call records and entries. Click-to-dial is ``originate()`` where the PBX can do it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, ClassVar

from ..i18n import N_
from ..parsers.problems import ParseProblem
from ..records import Leg, QueueEvent


@dataclass(frozen=True)
class ConnectorField:
    """One setting of a connector, as the admin form and the settings file show it.

    ``label`` and ``help`` are English, marked with ``i18n.N_`` for translation.
    """

    name: str
    label: str
    kind: str = "text"  # text | int | path | secret | bool
    default: Any = ""
    required: bool = False
    help: str = ""


@dataclass
class Batch:
    """What one ``fetch`` read: new legs and queue events, problems met, the cursor after it."""

    legs: list[Leg] = field(default_factory=list)
    queue_events: list[QueueEvent] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)
    lines_read: int = 0


@dataclass(frozen=True)
class Status:
    """Can the PBX be read? ``message`` is shown to admins: make it with ``i18n.N_``."""

    ok: bool
    message: str


# Click-to-dial's attempt ids (dial.new_attempt_id) start with this. The PBX gives the call the
# attempt id as uniqueid and linkedid (Originate's ChannelId), so a connector can tell the
# callbacks placed from our lists from calls coming in.
ATTEMPT_ID_PREFIX = "cb-"


@dataclass(frozen=True)
class OriginateResult:
    """Did the PBX take the call? ``message`` is shown to the agent: make it with ``i18n.N_``."""

    ok: bool
    message: str
    call_key: str | None = None


class ConnectorError(Exception):
    """The PBX could not be read; the message says why in words an admin understands."""

    @property
    def message(self) -> str:
        """The message as it was made: an ``i18n.Text`` stays one, so a page can translate it
        (``str(exc)`` is a plain copy of the English)."""
        return self.args[0] if self.args else ""


class Connector:
    """Base class of all PBX connectors; subclasses register with ``@register_connector``."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    fields: ClassVar[tuple[ConnectorField, ...]] = ()
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    can_originate: ClassVar[bool] = False

    def __init__(self, config: dict[str, Any], *, instance_path: str, timezone: tzinfo) -> None:
        self.config = {f.name: config.get(f.name, f.default) for f in self.fields}
        self.instance_path = instance_path
        self.timezone = timezone

    def check_status(self) -> Status:
        raise NotImplementedError

    def fetch(self, cursor: dict[str, Any] | None) -> Batch:
        raise NotImplementedError

    def originate(self, extension: str, number: str, attempt_id: str) -> OriginateResult:
        return OriginateResult(False, N_("%(label)s cannot place calls.", label=self.label))

    def public_config(self) -> dict[str, Any]:
        """The settings with secrets blanked, for forms, exports and logs."""
        return {k: ("" if k in self.secret_fields else v) for k, v in self.config.items()}
