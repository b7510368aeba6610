"""PBX connectors. Importing this package registers every built-in connector."""

from . import ami, asterisk_files, demo, freepbx_cdr  # noqa: F401
