"""Asterisk Manager Interface connector (SPEC §9): live events, click-to-dial, backfill.

- :mod:`.protocol`: the wire format (``Key: Value`` lines, a blank line ends a message);
- :mod:`.client`: one blocking AMI session (why hand-written: see its docstring);
- :mod:`.listener`: the worker's background thread (ping, reconnect with backoff, handover);
- :mod:`.assembler` and :mod:`.calls`: events → the same legs and queue events a file gives;
- :mod:`.backfill`: calls that ended while the link was down, from the CDR database;
- :mod:`.connector`: the registered ``asterisk_ami`` connector.
"""

from .connector import AsteriskAmiConnector

__all__ = ["AsteriskAmiConnector"]
