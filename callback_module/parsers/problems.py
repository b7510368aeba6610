"""A line that could not be read: reported with its file and line number, then skipped."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("callback.parsers")


@dataclass(frozen=True)
class ParseProblem:
    source: str
    line_no: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line_no}: {self.reason}"

    def log(self) -> None:
        log.warning("skipped %s", self)
