"""What the rules need to know about the configuration, as plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GroupDef:
    name: str
    type: str  # queue | ringall | hunt
    pbx_id: str
    members: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Policy:
    """The settings of SPEC §2 that the rules read, plus the groups and known extensions."""

    groups: tuple[GroupDef, ...] = ()
    extensions: frozenset[str] = frozenset()
    member_names: tuple[tuple[str, str], ...] = ()  # (queue member name, extension)
    group_types: frozenset[str] = frozenset({"queue", "ringall", "hunt"})
    resolve_other_groups: bool = False
    resolve_users: bool = False
    count_non_member_attempts: bool = False
    show_internal: bool = False
    mailbox_unanswered: bool = True
    min_inbound_talk: int = 0
    min_outbound_duration: int = 0
    not_reached_limit: int = 3
    default_region: str = "DE"
    outside_line_prefix: str = ""
    _group_index: dict[str, GroupDef] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._group_index.update({g.pbx_id: g for g in self.watched_groups})

    @classmethod
    def from_settings(cls, settings: dict[str, Any], groups: list[GroupDef],
                      extensions: set[str], member_names: dict[str, str] | None = None
                      ) -> Policy:
        keys = ("resolve_other_groups", "resolve_users", "count_non_member_attempts",
                "show_internal", "mailbox_unanswered", "min_inbound_talk",
                "min_outbound_duration", "not_reached_limit", "default_region",
                "outside_line_prefix")
        all_extensions = set(extensions).union(*(g.members for g in groups)) if groups \
            else set(extensions)
        return cls(groups=tuple(groups), extensions=frozenset(all_extensions),
                   member_names=tuple(sorted((member_names or {}).items())),
                   group_types=frozenset(settings.get("group_types") or ()),
                   **{k: settings[k] for k in keys if k in settings})

    @property
    def watched_groups(self) -> tuple[GroupDef, ...]:
        """The configured groups of a selected type: the only ones that get entries."""
        return tuple(g for g in self.groups if g.type in self.group_types)

    def group_for(self, pbx_id: str) -> GroupDef | None:
        return self._group_index.get(pbx_id) if pbx_id else None

    def group_named(self, name: str) -> GroupDef | None:
        return next((g for g in self.watched_groups if g.name == name), None)

    def extension_of_member(self, member_name: str) -> str:
        """queue_log names queue members by their display name; map it back to an extension."""
        return dict(self.member_names).get(member_name, "")

    def in_any_group(self, extension: str) -> bool:
        return any(extension in g.members for g in self.watched_groups)
