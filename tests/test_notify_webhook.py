"""A group's webhook post against a real HTTP receiver: what arrives, and what an error says.

The errors go to the timeline agents read: they name the receiver by host and port, never the
token a chat webhook carries in its path or in ``user:token@``.
"""

from __future__ import annotations

import base64
import socket
import threading

import pytest
from flask_babel import force_locale
from http_receiver import Receiver

from callback_module.language import translate
from callback_module.notify.webhook import WebhookError, mask, payload, post

TOKEN = "T0KEN-b1d7e9"  # made up
FACTS = {"event": "missed_call", "call": "call-1", "group": "support",
         "number": "030 1110003", "number_e164": "+49301110003", "display": "030 1110003",
         "anonymous": False, "name": "", "rang_at": "2026-11-22T06:15:00+00:00",
         "rang_at_local": "2026-11-22 07:15", "ring_s": 12, "times_called": 1,
         "entry_url": "http://127.0.0.1:5000/callback/entries/17/timeline"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_secrets(url: str) -> str:
    """``url`` as a chat webhook's: a token in the path and credentials before the host."""
    return url.replace("http://", f"http://hook-user:{TOKEN}@") + f"/B000/{TOKEN}"


def assert_no_secret(error: pytest.ExceptionInfo) -> None:
    text = str(error.value)
    assert TOKEN not in text and "hook-user" not in text and "/hooks" not in text


def test_the_body_arrives_as_json():
    with Receiver() as receiver:
        assert post(receiver.url, payload(FACTS, masked=False)) == 200
    [body] = receiver.bodies
    assert body["number"] == "030 1110003" and body["group"] == "support"
    assert body["text"] == ("Missed call from 030 1110003 in support at 2026-11-22 07:15: "
                            "http://127.0.0.1:5000/callback/entries/17/timeline")
    [headers] = receiver.headers
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"].startswith("Callback/")
    assert "Authorization" not in headers


def test_credentials_in_the_url_go_as_basic_auth_not_as_part_of_the_host():
    with Receiver() as receiver:
        assert post(with_secrets(receiver.url), {"text": "hi"}) == 200
    [headers] = receiver.headers
    assert headers["Authorization"] == "Basic " + base64.b64encode(
        f"hook-user:{TOKEN}".encode()).decode()


def test_a_500_says_http_500_with_the_host_and_port_only():
    with Receiver(status=500) as receiver, pytest.raises(WebhookError) as error:
        post(with_secrets(receiver.url), {"text": "hi"})
    assert str(error.value) == (f"127.0.0.1:{receiver.port} answered HTTP 500 "
                                "Internal Server Error")
    assert_no_secret(error)


def test_a_refused_port_says_refused_without_the_credentials():
    port = free_port()  # nothing listens there
    with pytest.raises(WebhookError) as error:
        post(with_secrets(f"http://127.0.0.1:{port}/hooks"), {"text": "hi"})
    assert str(error.value) == f"127.0.0.1:{port} refused the connection"
    assert_no_secret(error)


def test_no_answer_says_so_within_the_timeout():
    with socket.socket() as silent:  # listens, never answers: the handshake is the kernel's
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(WebhookError) as error:
            post(with_secrets(f"http://127.0.0.1:{port}/hooks"), {"text": "hi"}, timeout=0.3)
    assert str(error.value) == f"127.0.0.1:{port} did not answer within 0.3 s"
    assert_no_secret(error)


def test_a_server_that_speaks_no_http_says_so():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def answer() -> None:
            conn, _address = server.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        with pytest.raises(WebhookError) as error:
            post(with_secrets(f"http://127.0.0.1:{port}/hooks"), {"text": "hi"}, timeout=5)
        thread.join(5)
    assert str(error.value) == f"127.0.0.1:{port} gave no valid HTTP answer (BadStatusLine)"
    assert_no_secret(error)


@pytest.mark.parametrize("port", ["80a", "99999"])
def test_a_url_urllib_cannot_use_is_refused_without_quoting_it(port):
    with pytest.raises(WebhookError) as error:
        post(f"http://hook-user:{TOKEN}@chat.example.org:{port}/hooks/{TOKEN}", {"text": "hi"})
    assert str(error.value) == "chat.example.org: the webhook address is not usable"
    assert_no_secret(error)


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_and_is_not_followed(code):
    moved = f"https://hook-user:{TOKEN}@hooks.example.net:8443/services/{TOKEN}"
    with Receiver(status=code, location=moved) as receiver, pytest.raises(WebhookError) as error:
        post(with_secrets(receiver.url), {"text": "hi"})
    assert str(error.value) == (f"127.0.0.1:{receiver.port} answered with a redirect to "
                                f"hooks.example.net:8443 (HTTP {code}); use the final address")
    assert_no_secret(error)
    assert len(receiver.bodies) == 1 and receiver.gets == []  # posted once, nothing followed


def test_a_redirect_to_a_path_names_the_same_host():
    with Receiver(status=302, location=f"/elsewhere/{TOKEN}") as receiver, \
            pytest.raises(WebhookError) as error:
        post(receiver.url, {"text": "hi"})
    assert f"a redirect to 127.0.0.1:{receiver.port} (HTTP 302)" in str(error.value)
    assert_no_secret(error)
    assert receiver.gets == []


def test_the_error_reads_in_german(app):
    with Receiver(status=303, location="https://hooks.example.net/x") as receiver, \
            pytest.raises(WebhookError) as error:
        post(receiver.url, {"text": "hi"})
    with app.test_request_context(), force_locale("de"):
        german = translate(error.value.message)
    assert german.startswith(f"127.0.0.1:{receiver.port} antwortete mit einer Weiterleitung "
                             "nach hooks.example.net (HTTP 303)")


# The payload

def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def test_masked_numbers_keep_only_their_last_4_digits():
    body = payload(FACTS, masked=True)
    for key in ("number", "number_e164", "display"):
        assert digits(body[key]) == "0003", key
        assert body[key].startswith("•") and body[key].endswith("0003")
    assert body["text"].startswith(f"Missed call from {body['display']} in support")
    assert "1110003" not in str(body)
    # The rest is as it was, and the facts themselves are not changed.
    assert {k: v for k, v in body.items() if k not in ("number", "number_e164", "display",
                                                       "text")} == {
        k: v for k, v in FACTS.items() if k not in ("number", "number_e164", "display")}
    assert FACTS["number"] == "030 1110003"


def test_unmasked_numbers_and_short_ones_stay_as_they_are():
    assert payload(FACTS, masked=False)["number_e164"] == "+49301110003"
    short = payload({**FACTS, "number": "209", "number_e164": "", "display": "209"}, True)
    assert (short["number"], short["number_e164"], short["display"]) == ("209", "", "209")
    assert mask("+49 30 1110003") == "•" * 7 + "0003"
