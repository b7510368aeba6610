"""``make run``: the standalone app with its scheduler, on http://127.0.0.1:5000/callback."""

from __future__ import annotations

import os

from . import create_app
from .demo_setup import setup_demo
from .scheduler import start_scheduler


def main() -> None:
    app = create_app()
    with app.app_context():
        for line in setup_demo():
            print(line, flush=True)
    host = os.environ.get("CALLBACK_HOST", "127.0.0.1")
    port = int(os.environ.get("CALLBACK_PORT", "5000"))
    start_scheduler(app)
    print(f"Callback is running on http://{host}:{port}/callback  (Ctrl+C stops it)", flush=True)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
