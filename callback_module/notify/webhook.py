"""A group's webhook: a JSON POST about each missed call, e.g. into a chat channel.

The body carries the facts a mail shows, and a ``text`` line, which Slack, Mattermost, Rocket.Chat
and Teams' incoming webhooks display as it is. Numbers can be masked to their last 4 digits
(SPEC §7: numbers sent to outside channels). Retries are the dispatcher's. A redirect is not
followed (urllib would repeat the POST as a GET, without the body, and count it as sent): it is
an error naming the new address's host. Errors name the receiver by host and port only; Slack,
Mattermost and Teams put their secret token in the URL's path, others in ``user:token@``.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from .. import __version__
from ..i18n import N_, Text

TIMEOUT = 10.0


class WebhookError(Exception):
    """The receiver could not be reached or refused the post; ``str()`` says why in English,
    ``message`` is the ``i18n.Text`` (a page can translate it). Neither ever contains the URL's
    credentials or path, only its host and port."""

    @property
    def message(self) -> str:
        return self.args[0] if self.args else ""


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
    """The JSON body: ``facts`` (outgoing.facts_for) with the numbers masked if asked."""
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


def _where(url: str) -> str:
    """``url``'s host and port for a message: never its user, token or path (a chat webhook
    carries its secret there, and the messages go to the timeline agents read)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"  # IPv6
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def _credentials(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without a ``user:password@`` part, and that part as a Basic Authorization
    header: urllib would take it for part of the host name and never connect."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, {}
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    address = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return address, {"Authorization": f"Basic {token}"}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a 301/302/303 answer to a POST with a GET, without the body, and
    the notification would count as sent: a redirect is an HTTPError (code 3xx) instead."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: dict[str, Any], timeout: float = TIMEOUT) -> int:
    """POST ``body`` as JSON; the HTTP status (2xx), or WebhookError. A redirect is not
    followed: it is an error that names where it pointed."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    host = _where(url)
    try:
        urlsplit(url).port  # noqa: B018 - a port that is no number or out of range: ValueError
        address, auth = _credentials(url)
        request = urllib.request.Request(address, data=data, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"Callback/{__version__}", **auth})
        with _opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        if 300 <= exc.code < 400:
            location = exc.headers.get("Location") if exc.headers else None
            target = _where(urljoin(url, location)) if location else "?"
            raise WebhookError(N_("%(host)s answered with a redirect to %(target)s (HTTP "
                                  "%(code)s); use the final address", host=host,
                                  target=target, code=exc.code)) from None
        raise WebhookError(N_("%(host)s answered HTTP %(code)s %(reason)s", host=host,
                              code=exc.code, reason=exc.reason)) from None
    except TimeoutError:
        raise WebhookError(_no_answer(host, timeout)) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            raise WebhookError(N_("%(host)s refused the connection", host=host)) from None
        if isinstance(reason, TimeoutError):
            raise WebhookError(_no_answer(host, timeout)) from None
        raise WebhookError(_unreachable(host, getattr(reason, "strerror", None) or reason)
                           ) from None
    except OSError as exc:
        raise WebhookError(_unreachable(host, exc)) from None
    except (ValueError, http.client.InvalidURL):
        # A malformed address or port: urllib's words about it quote the URL, token and all.
        raise WebhookError(N_("%(host)s: the webhook address is not usable", host=host)
                           ) from None
    except http.client.HTTPException as exc:
        # Not an HTTP server, or it hung up mid-answer (BadStatusLine, IncompleteRead, ...).
        raise WebhookError(N_("%(host)s gave no valid HTTP answer (%(error)s)", host=host,
                              error=type(exc).__name__)) from None


def _no_answer(host: str, timeout: float) -> Text:
    return N_("%(host)s did not answer within %(seconds)s s", host=host,
              seconds=format(timeout, "g"))


def _unreachable(host: str, reason: object) -> Text:
    return N_("cannot reach %(host)s: %(reason)s", host=host, reason=str(reason))
