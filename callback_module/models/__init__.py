"""The store's tables, all prefixed ``callback_``."""

from .calls import Call, CallLeg, QueueEventRow
from .claims import Claim
from .contacts import Contact, ContactNumber
from .entries import OPEN_STATES, STATES, Attempt, Entry, EntryCall, TimelineEvent
from .notifications import NOTIFICATION_STATES, Notification, NotifySettings
from .ringing import Ringing
from .settings import ConnectorConfig, Settings
from .sync import Cursor, Lease, SyncRun
from .users import ROLES, Group, GroupMember, User, user_groups

__all__ = [
    "NOTIFICATION_STATES", "OPEN_STATES", "ROLES", "STATES", "Attempt", "Call", "CallLeg", "Claim",
    "ConnectorConfig", "Contact", "ContactNumber", "Cursor", "Entry", "EntryCall", "Group",
    "GroupMember", "Lease", "Notification", "NotifySettings", "QueueEventRow", "Ringing",
    "Settings", "SyncRun", "TimelineEvent", "User", "user_groups",
]
