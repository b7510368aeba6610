"""A thread that runs small database writes for the live connector, in order.

The AMI listener must keep reading events: a slow or vanished database must never stall it.
Its callbacks ("calling in now", an Originate's result) only queue work here; one thread runs
each job in an app context of its own and logs what fails.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from .extensions import db

log = logging.getLogger("callback.writer")
Job = tuple[Callable[..., Any], tuple[Any, ...]]


class BackgroundWriter:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._queue: queue.Queue[Job | threading.Event | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="callback-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[..., Any], *args: Any) -> None:
        self._queue.put((job, args))

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every job submitted so far has run."""
        marker = threading.Event()
        self._queue.put(marker)
        return marker.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Run what is queued, then end the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if isinstance(item, threading.Event):
                item.set()
                continue
            job, args = item
            with self.app.app_context():
                try:
                    job(*args)
                except Exception:  # one failed write must not end the others
                    log.exception("background write %s failed", getattr(job, "__name__", job))
                    db.session.rollback()
                finally:
                    db.session.remove()
