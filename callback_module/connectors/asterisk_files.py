"""Asterisk files connector: Master.csv (or any cdr_custom file) and queue_log, followed."""

from __future__ import annotations

import os
from typing import Any

from ..i18n import N_, join
from .base import Batch, Connector, ConnectorField, Status
from .files import FollowedFiles, first_lines
from .registry import register_connector


@register_connector
class AsteriskFilesConnector(Connector):
    name = "asterisk_files"
    label = N_("Asterisk files (Master.csv, queue_log)")
    fields = (
        ConnectorField("cdr_path", N_("CDR file"), "path", "/var/log/asterisk/cdr-csv/Master.csv",
                       help=N_("Master.csv, a cdr_custom file, or a CDR table export.")),
        ConnectorField("cdr_columns", N_("CDR columns"), "text", "",
                       help=N_("Only for cdr_custom: its `fields =` line.")),
        ConnectorField("queue_log_path", N_("queue_log file"), "path",
                       "/var/log/asterisk/queue_log"),
    )

    def _files(self) -> FollowedFiles:
        return FollowedFiles([("cdr", self.config["cdr_path"], self.config["cdr_columns"] or None),
                              ("queue_log", self.config["queue_log_path"], None)], self.timezone)

    def check_status(self) -> Status:
        problems = []
        for key in ("cdr_path", "queue_log_path"):
            path = self.config[key]
            if path and not os.path.isfile(path):
                problems.append(N_("%(path)s does not exist", path=path))
            elif path and not os.access(path, os.R_OK):
                problems.append(N_("%(path)s cannot be read (permissions)", path=path))
            elif path and not first_lines(path):
                problems.append(N_("%(path)s is empty so far", path=path))
        return Status(not problems, join(problems) if problems else N_("Both files can be read."))

    def fetch(self, cursor: dict[str, Any] | None) -> Batch:
        return self._files().read(cursor)
