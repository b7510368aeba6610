"""Turns the store's signals into live events (the sync never renders anything itself)."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from ..i18n import dump
from ..signals import claim_changed, entries_changed, user_notice
from .broadcaster import Broadcaster, make_broadcaster


class LivePublisher:
    """Connected to one app's signals; publishes entry ids and claim expiries."""

    def __init__(self, app: Flask, broadcaster: Broadcaster) -> None:
        self.broadcaster = broadcaster
        # Weak references to bound methods: they go away with the app (tests make many).
        entries_changed.connect(self.on_entries_changed, sender=app)
        claim_changed.connect(self.on_claim_changed, sender=app)
        user_notice.connect(self.on_user_notice, sender=app)

    def on_entries_changed(self, sender: Flask, entry_ids: set[int] = frozenset(),
                           **_: object) -> None:
        if entry_ids:
            self.broadcaster.publish({"kind": "entries", "ids": sorted(entry_ids)})

    def on_claim_changed(self, sender: Flask, entry_id: int, expires_at: datetime | None = None,
                         **_: object) -> None:
        self.broadcaster.publish({"kind": "claim", "id": entry_id,
                                  "expires_at": expires_at.isoformat() if expires_at else None})

    def on_user_notice(self, sender: Flask, user_id: int, category: str, message: str,
                       **_: object) -> None:
        self.broadcaster.publish({"kind": "notice", "user_id": user_id, "category": category,
                                  "message": dump(message)})


def init_live(app: Flask) -> LivePublisher:
    return LivePublisher(app, make_broadcaster(app.config.get("CALLBACK_REDIS_URL") or None))
