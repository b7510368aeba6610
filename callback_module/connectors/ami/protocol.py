"""The AMI wire format: ``Key: Value`` lines ending in CRLF; a blank line ends a message.

The first thing a server sends is a one-line banner (``Asterisk Call Manager/9.0.0``) without
the blank line. After that every message is a block: a ``Response:`` to an action, or an
``Event:``. Nothing here touches a socket, so it is tested on bytes alone.
"""

from __future__ import annotations

from collections.abc import Iterator

Message = dict[str, str]
BANNER_PREFIX = "Asterisk Call Manager"
_END = b"\r\n\r\n"


class MalformedMessage(ValueError):
    """A block that is not ``Key: Value`` lines; the listener logs and skips it."""


def parse_block(text: str) -> Message:
    """One message. A repeated key keeps its first value (Asterisk repeats only ChanVariable)."""
    message: Message = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or " " in key.strip():
            raise MalformedMessage(f"not a 'Key: Value' line: {line[:80]!r}")
        message.setdefault(key.strip(), value.strip())
    if not message:
        raise MalformedMessage("empty message")
    return message


def format_action(action: str, fields: dict[str, str] | None = None) -> bytes:
    """An action as bytes. A CR or LF in a value would let it smuggle in another header or a
    whole other action (a number typed into a form becomes ``Exten``), so it is refused."""
    lines = [("Action", action), *((fields or {}).items())]
    out = []
    for key, value in lines:
        text = str(value)
        if any(c in key or c in text for c in "\r\n") or ":" in key:
            raise ValueError(f"AMI header {key!r} must be one line")
        out.append(f"{key}: {text}\r\n")
    return ("".join(out) + "\r\n").encode("utf-8")


class BlockReader:
    """Cuts a byte stream into the banner line and then message blocks, as bytes come in."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.banner: str | None = None

    def feed(self, data: bytes) -> None:
        self._buffer.extend(data)

    def take_banner(self) -> str | None:
        """The banner once its line is complete (it ends with one CRLF, not a blank line)."""
        if self.banner is None:
            end = self._buffer.find(b"\n")
            if end < 0:
                return None
            self.banner = self._buffer[:end].decode("utf-8", "replace").strip()
            del self._buffer[:end + 1]
        return self.banner

    def blocks(self) -> Iterator[str]:
        """Complete blocks received so far, as text (AMI is UTF-8; bad bytes are replaced)."""
        while True:
            end = self._buffer.find(_END)
            if end < 0:
                # A peer that ends lines with bare LF (some proxies) is read too.
                end = self._buffer.find(b"\n\n")
                if end < 0:
                    return
                size = 2
            else:
                size = len(_END)
            block = self._buffer[:end].decode("utf-8", "replace")
            del self._buffer[:end + size]
            if block.strip():
                yield block
