"""One loopback HTTP server for the fakes the tests need (Rasa, Telegram, WhatsApp, a webhook
receiver, a clinic's web page): started on a free port in a daemon thread, stopped quickly.

`serve_forever` polls for shutdown every 0.5 s by default, which every test using a fake paid on
teardown; here it polls every 50 ms.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POLL_SECONDS = 0.05


class LoopbackServer:
    """A ThreadingHTTPServer on 127.0.0.1 and a free port, serving `handler` until `close()`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
