"""The module log: the ``callback`` logger written to a file the admin page can show."""

from __future__ import annotations

import logging
import os
from collections import deque
from logging.handlers import RotatingFileHandler
from pathlib import Path

from flask import Flask

TRACE = 5
logging.addLevelName(TRACE, "TRACE")
LEVELS = {"ERROR": logging.ERROR, "WARN": logging.WARNING, "INFO": logging.INFO,
          "DEBUG": logging.DEBUG, "TRACE": TRACE}
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_handlers: dict[str, logging.Handler] = {}
logger = logging.getLogger("callback")


def setup_logging(app: Flask) -> None:
    """One rotating file handler per process: the newest app's log file (tests make many)."""
    path = app.config.get("CALLBACK_LOG_FILE")
    if not path:
        return
    for old_path in [p for p in _handlers if p != path]:
        old = _handlers.pop(old_path)
        logger.removeHandler(old)
        old.close()
    if path not in _handlers:
        os.makedirs(Path(path).parent, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, delay=True,
                                      encoding="utf-8")
        handler.setFormatter(logging.Formatter(FORMAT))
        _handlers[path] = handler
        logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def set_level(name: str) -> None:
    logger.setLevel(LEVELS.get(name, logging.INFO))


def read_log(path: str, level: str = "TRACE", limit: int = 500) -> list[str]:
    """The last ``limit`` lines at or above ``level``, oldest first."""
    minimum = LEVELS.get(level, TRACE)
    names = {name: value for name, value in LEVELS.items()}
    names["WARNING"] = logging.WARNING
    lines: deque[str] = deque(maxlen=limit)
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                parts = line.split(" ", 3)
                line_level = names.get(parts[2]) if len(parts) > 2 else None
                if line_level is None or line_level >= minimum:
                    lines.append(line.rstrip("\n"))
    except FileNotFoundError:
        return []
    return list(lines)
