"""PBX connectors. Importing this package registers every built-in connector."""

from . import asterisk_files, demo  # noqa: F401
