"""A real HTTP server for the app on 127.0.0.1, in a thread: for websockets and browsers."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def serving(app):
    """Serve ``app`` on a free port; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def session_cookie(app, username: str, password: str) -> str:
    """Log in through the test client and return the session cookie for real clients."""
    client = app.test_client()
    response = client.post("/callback/login", data={"username": username, "password": password})
    assert response.status_code in (302, 303), response.status_code
    return client.get_cookie("session").value
