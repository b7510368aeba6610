"""One queue per connected socket; events fanned out in this process, or via Redis to all."""

from __future__ import annotations

import json
import logging
import queue
import threading
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("callback.live")
QUEUE_SIZE = 256
RESYNC = {"kind": "resync"}


class Broadcaster:
    """Fans events out to the sockets of this process. Publishing never blocks.

    A socket whose queue is full (a client that stopped reading) gets its queue emptied and one
    "resync" event: it re-renders its whole view once instead of holding up anyone else.
    """

    def __init__(self) -> None:
        self._queues: set[queue.Queue] = set()
        self._lock = threading.Lock()
        self._timers: dict[int, threading.Timer] = {}

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        with self._lock:
            self._queues.add(q)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            self._queues.discard(q)

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._queues)

    def publish(self, event: dict[str, Any]) -> None:
        self.deliver(event)

    def deliver(self, event: dict[str, Any]) -> None:
        """Hand an event to every local socket; set a timer for a claim's expiry."""
        if event.get("kind") == "claim" and event.get("expires_at"):
            self._expire_later(int(event["id"]), datetime.fromisoformat(event["expires_at"]))
        with self._lock:
            targets = list(self._queues)
        for q in targets:
            try:
                q.put_nowait(event)
            except queue.Full:
                _drain(q)
                q.put_nowait(RESYNC)

    def _expire_later(self, entry_id: int, expires_at: datetime) -> None:
        # Every process sets its own timer, so each one's sockets re-render the row on expiry
        # without the worker having to watch the clock for them.
        delay = max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.05
        timer = threading.Timer(delay, self.deliver, args=({"kind": "entries",
                                                              "ids": [entry_id]},))
        timer.daemon = True
        with self._lock:
            old = self._timers.pop(entry_id, None)
            self._timers[entry_id] = timer
        if old:
            old.cancel()
        timer.start()

    def close(self) -> None:
        with self._lock:
            timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            timer.cancel()


class RedisBroadcaster(Broadcaster):
    """Publishes through Redis; a listener thread delivers what any process published."""

    def __init__(self, url: str, channel: str = "callback.live") -> None:
        super().__init__()
        import redis

        self.channel = channel
        self._redis = redis.Redis.from_url(url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(**{channel: self._on_message})
        self._thread = self._pubsub.run_in_thread(sleep_time=0.5, daemon=True,
                                                  exception_handler=self._on_error)

    def publish(self, event: dict[str, Any]) -> None:
        try:
            self._redis.publish(self.channel, json.dumps(event))
        except Exception:
            log.exception("could not publish to Redis; delivering in this process only")
            self.deliver(event)

    def _on_message(self, message: dict) -> None:
        try:
            self.deliver(json.loads(message["data"]))
        except (ValueError, KeyError):
            log.warning("ignored a malformed live event from Redis")

    @staticmethod
    def _on_error(exc: Exception, pubsub, thread) -> None:
        log.warning("Redis listener: %s; reconnecting", exc)

    def close(self) -> None:
        super().close()
        self._thread.stop()
        self._thread.join(timeout=2)
        self._pubsub.close()
        self._redis.close()


def make_broadcaster(redis_url: str | None) -> Broadcaster:
    return RedisBroadcaster(redis_url) if redis_url else Broadcaster()


def _drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return
