"""Every notification sent, skipped or failed goes to its entry's timeline and the module log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from ..extensions import db
from ..models import Group, Notification, TimelineEvent, User

log = logging.getLogger("callback.notify")


def recipient_of(notification: Notification) -> str:
    """Who it is for, as the timeline names them: a person, or a group's webhook."""
    if notification.channel == "mail" and notification.user_id is not None:
        user = db.session.get(User, notification.user_id)
        return user.display_name if user else notification.target
    group = db.session.get(Group, notification.group_id) if notification.group_id else None
    return group.name if group else notification.target


def record_event(notification: Notification, at: datetime | None = None) -> None:
    """The notification's state now, in the log, and in the entry's timeline (in the session,
    not committed). A call that made no entry (answered by a third party) is only logged."""
    who = recipient_of(notification)
    state, rule, error = notification.state, notification.rule, notification.last_error
    level = logging.WARNING if state == "failed" or (state == "pending" and error) \
        else logging.INFO
    log.log(level, "%s to %s about call %s: %s%s%s", notification.channel, who,
            notification.call_key, "retrying" if state == "pending" else state,
            f" ({rule})" if rule else "", f": {error}" if error else "")
    if not notification.anchor_key or notification.group_id is None:
        return
    db.session.add(TimelineEvent(
        group_id=notification.group_id, party_key=notification.party_key,
        anchor_key=notification.anchor_key, at=at or datetime.now(UTC), kind="notification",
        data={"channel": notification.channel, "to": who, "state": state, "rule": rule,
              "error": error[:300], "call_key": notification.call_key,
              "tries": notification.tries}))
