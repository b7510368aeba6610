"""A real HTTP server for the app on 127.0.0.1, in a thread: for websockets and browsers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def serving(app, port: int = 0):
    """Serve ``app`` on ``port`` (a free one by default); yields the base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@contextmanager
def server_process(database_url: str, port: int, tmp_path):
    """The app in a process of its own, as `make run` serves it, so a test can restart it."""
    env = {**os.environ, "CALLBACK_SQLALCHEMY_DATABASE_URI": database_url,
           "CALLBACK_SECRET_KEY": "test", "CALLBACK_LOG_FILE": str(tmp_path / "server.log")}
    code = ("from callback_module import create_app; "
            f"create_app(instance_path={str(tmp_path / 'instance')!r})"
            f".run(host='127.0.0.1', port={port}, threaded=True)")
    process = subprocess.Popen([sys.executable, "-c", code], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the app did not listen on port {port}")


def session_cookie(app, username: str, password: str) -> str:
    """Log in through the test client and return the session cookie for real clients."""
    client = app.test_client()
    response = client.post("/callback/login", data={"username": username, "password": password})
    assert response.status_code in (302, 303), response.status_code
    return client.get_cookie("session").value
