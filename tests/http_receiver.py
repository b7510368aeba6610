"""A real HTTP receiver for webhook tests: keeps every POSTed JSON body; answers ``status``.

``Receiver(302, location=URL)`` answers every request with that redirect instead, as a
receiver that moved does; a GET (what urllib would follow a 301/302/303 with) is kept in
``gets``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, status: int = 200, location: str | None = None) -> None:
        self.status = status
        self.location = location
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.gets: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.headers.append(dict(self.headers))
                receiver.bodies.append(json.loads(self.rfile.read(length) or b"null"))
                self._answer()

            def do_GET(self) -> None:
                receiver.gets.append(self.path)
                self._answer()

            def _answer(self) -> None:
                self.send_response(receiver.status)
                if receiver.location is not None:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}/hooks/missed"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
