"""A group's webhook: a JSON POST about each missed call, e.g. into a chat channel.

The body carries the facts a mail shows, and a ``text`` line, which Slack, Mattermost, Rocket.Chat
and Teams' incoming webhooks display as it is. Numbers can be masked to their last 4 digits
(SPEC §7: numbers sent to outside channels). Retries are the dispatcher's.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from .. import __version__
from ..i18n import N_

TIMEOUT = 10.0


class WebhookError(Exception):
    """The receiver could not be reached or refused the post; ``str()`` says why."""


def check_url(url: str) -> str:
    """An http(s) URL, or ValueError with the reason (English, made with ``N_``)."""
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(N_("must be an http:// or https:// address"))
    if any(c.isspace() for c in url) or len(url) > 500:
        raise ValueError(N_("must be one address of at most 500 characters, without spaces"))
    return url


def mask(number: str) -> str:
    digits = [c for c in number if c.isdigit()]
    if len(digits) <= 4:
        return number
    return "•" * (len(digits) - 4) + "".join(digits[-4:])


def payload(facts: dict[str, Any], masked: bool) -> dict[str, Any]:
    """The JSON body: ``facts`` (dispatch.facts_of) with the numbers masked if asked."""
    body = dict(facts)
    if masked:
        for key in ("number", "number_e164", "display"):
            if body.get(key):
                body[key] = mask(str(body[key]))
    who = body.get("name") or body.get("display") or body.get("number") or "?"
    if body.get("anonymous"):
        who = "Anonymous"
    calls = body.get("times_called") or 1
    body["text"] = (f"Missed call from {who} in {body.get('group', '?')} at "
                    f"{body.get('rang_at_local', body.get('rang_at', ''))}"
                    + (f" ({calls} calls)" if calls > 1 else "")
                    + (f": {body['entry_url']}" if body.get("entry_url") else ""))
    return body


def post(url: str, body: dict[str, Any], timeout: float = TIMEOUT) -> int:
    """POST ``body`` as JSON; the HTTP status (2xx), or WebhookError."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"Callback/{__version__}"})
    host = urlsplit(url).netloc
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"{host} answered HTTP {exc.code} {exc.reason}") from None
    except TimeoutError:
        raise WebhookError(f"{host} did not answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            raise WebhookError(f"{host} refused the connection") from None
        if isinstance(reason, TimeoutError):
            raise WebhookError(f"{host} did not answer within {timeout:g} s") from None
        raise WebhookError(f"cannot reach {host}: {getattr(reason, 'strerror', None) or reason}"
                           ) from None
    except OSError as exc:
        raise WebhookError(f"cannot reach {host}: {exc}") from None
