"""The registry of connector classes, filled by ``@register_connector``."""

from __future__ import annotations

from .base import Connector

_connectors: dict[str, type[Connector]] = {}


def register_connector(cls: type[Connector]) -> type[Connector]:
    """Class decorator; a second connector with the same name is a programming error."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in _connectors:
        raise ValueError(f"a connector named {cls.name!r} is already registered")
    _connectors[cls.name] = cls
    return cls


def get_connector_class(name: str) -> type[Connector]:
    try:
        return _connectors[name]
    except KeyError:
        known = ", ".join(sorted(_connectors)) or "none"
        raise KeyError(f"unknown connector {name!r} (known: {known})") from None


def connector_names() -> list[str]:
    return sorted(_connectors)
