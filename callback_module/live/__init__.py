"""Live push: every change reaches every open browser within a second (SPEC §3).

The sync and the actions only publish small events (entry ids) to the broadcaster; each
websocket handler renders the rows for its own user in its own thread. Across processes the
events ride on Redis pub/sub.
"""

from .broadcaster import Broadcaster, RedisBroadcaster, make_broadcaster

__all__ = ["Broadcaster", "RedisBroadcaster", "make_broadcaster"]
