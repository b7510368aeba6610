"""The store's tables, all prefixed ``callback_``."""

from .calls import Call, CallLeg, QueueEventRow
from .claims import Claim
from .entries import OPEN_STATES, STATES, Attempt, Entry, EntryCall, TimelineEvent
from .settings import ConnectorConfig, Settings
from .sync import Cursor, Lease, SyncRun
from .users import ROLES, Group, GroupMember, User, user_groups

__all__ = [
    "OPEN_STATES", "ROLES", "STATES", "Attempt", "Call", "CallLeg", "Claim", "ConnectorConfig",
    "Cursor", "Entry", "EntryCall", "Group", "GroupMember", "Lease", "QueueEventRow",
    "Settings", "SyncRun", "TimelineEvent", "User", "user_groups",
]
